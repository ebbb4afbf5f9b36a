import { Logger } from '@nestjs/common';
import type { ModuleRef } from '@nestjs/core';
import { createHash, randomUUID } from 'node:crypto';
import { Subject, type Observable } from 'rxjs';
import type { Mail } from '../core/mail.types.js';
import { InvalidMailError, MailerConfigurationError } from '../errors/mailer.error.js';
import { findEventEmitter, publishEvent, type EventSink } from '../nest/event-emitter.js';
import { MAILER_MODULE_OPTIONS } from '../nest/mailer.module.js';
import type { MailerModuleOptions } from '../nest/mailer.options.js';
import { MailerService } from '../nest/mailer.service.js';
import { deserializeMail, fromDomain, serializeMail, type MailJobData } from '../queue/mail.serializer.js';
import { MAIL_QUEUE_EVENTS, type MailQueueEvent } from '../queue/mailer-queue.events.js';
import { checkMailerQueueOptions, type MailerQueueModuleOptions } from '../queue/mailer-queue.options.js';
import { isRetryableInQueue, planQueueRetry, type QueueRetryPlan } from '../queue/mailer-queue.retry.js';
import { checkEnqueueOptions, MailerQueue, type EnqueueOptions, type EnqueueResult, type MailQueueEntry } from '../queue/mailer-queue.service.js';


interface Job {
  id: string;
  data: MailJobData;
  delay?: number;
  priority?: number;
}

function isEntry(value: Mail | MailQueueEntry): value is MailQueueEntry {
  return typeof value === 'object' && value !== null && 'mail' in value && typeof (value as MailQueueEntry).mail === 'object';
}

/**
 * The MailerQueue of an application under test: `enqueue()` checks and serializes the mail as the
 * real queue does, publishes `mail.queue.queued`, then hands the job to the application's
 * MailerService in this process — no Redis, no BullMQ. A job runs at once (its `delay` is only
 * reported), with the queue's attempts and retry decisions but without the backoff waits, and
 * publishes `mail.queue.sent` / `mail.queue.failed` as a worker would. Use `Mailbox.waitFor()` for
 * the mail. Without a MailerService in the application (a producer-only app), jobs stay waiting.
 */
export class CapturingMailerQueue extends MailerQueue {
  readonly #options: MailerQueueModuleOptions;
  readonly #moduleRef: ModuleRef;
  readonly #logger = new Logger('MailerQueue');
  readonly #events = new Subject<MailQueueEvent>();
  readonly #jobIds = new Set<string>();
  readonly #running = new Set<Promise<void>>();
  readonly #counts = { waiting: 0, active: 0, completed: 0, failed: 0 };
  #plan: QueueRetryPlan = { attempts: 1 };
  #sink?: EventSink;
  #mailer?: MailerService;
  #defaultDomain?: string;
  #nextId = 0;
  #closing?: Promise<void>;
  #waiting: Job[] = [];

  override readonly events$: Observable<MailQueueEvent> = this.#events.asObservable();

  constructor(options: MailerQueueModuleOptions, moduleRef: ModuleRef) {
    super(options, moduleRef);
    this.#options = options;
    this.#moduleRef = moduleRef;
  }

  override async onModuleInit(): Promise<void> {
    checkMailerQueueOptions(this.#options);
    this.#plan = planQueueRetry(this.#options.retry);
    if (this.#options.eventEmitter !== false) this.#sink = await findEventEmitter(this.#moduleRef);
  }

  override async onApplicationBootstrap(): Promise<void> {
    try {
      this.#mailer = this.#moduleRef.get(MailerService, { strict: false });
    } catch (cause) {
      if (this.mode !== 'producer') {
        throw new MailerConfigurationError(
          `MailerQueueModule in ${this.mode} mode sends with MailerService: import MailerModule in the same application (or use mode: 'producer').`,
          { cause },
        );
      }
    }
    try {
      this.#defaultDomain = fromDomain(this.#moduleRef.get<MailerModuleOptions>(MAILER_MODULE_OPTIONS as never, { strict: false })?.defaults?.from);
    } catch {
      this.#defaultDomain = undefined;
    }
    for (const job of this.#waiting.splice(0)) this.#start(job);
  }

  override async onModuleDestroy(): Promise<void> {
    await this.close();
  }

  /** Waits for the jobs in progress, then completes `events$`. */
  override close(): Promise<void> {
    this.#closing ??= (async () => {
      while (this.#running.size) await Promise.allSettled([...this.#running]);
      this.#events.complete();
    })();
    return this.#closing;
  }

  override async enqueue(mail: Mail, options: EnqueueOptions = {}): Promise<EnqueueResult> {
    this.#producer();
    checkEnqueueOptions(options, 'enqueue');
    const data = await this.#jobData(mail, options);
    return this.#add(data, options);
  }

  override async enqueueBatch(entries: ReadonlyArray<Mail | MailQueueEntry>): Promise<EnqueueResult[]> {
    this.#producer();
    if (!Array.isArray(entries)) throw new InvalidMailError('enqueueBatch() expects an array.');
    const jobs: Array<{ data: MailJobData; options: EnqueueOptions }> = [];
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!;
      const { mail, ...options }: MailQueueEntry = isEntry(entry) ? entry : { mail: entry };
      const where = `enqueueBatch[${i}]`;
      checkEnqueueOptions(options, where);
      try {
        jobs.push({ data: await this.#jobData(mail, options), options });
      } catch (error) {
        if (error instanceof InvalidMailError) throw new InvalidMailError(`${where}: ${error.message}`, error.field);
        throw error;
      }
    }
    return jobs.map(({ data, options }) => this.#add(data, options));
  }

  override async getJobCounts(): Promise<Record<string, number>> {
    this.#producer();
    return { ...this.#counts, delayed: 0, prioritized: 0 };
  }

  #producer(): void {
    if (this.mode === 'worker') {
      throw new MailerConfigurationError(`MailerQueueModule runs in worker mode: enqueue() needs mode 'producer' or 'both'.`);
    }
    if (this.#closing) throw new MailerConfigurationError('The mail queue is closed; the application is shutting down.');
  }

  /** The job's data as the real queue stores it: the mail through the serializer, its Message-ID fixed. */
  async #jobData(mail: Mail, { transport, tenant }: EnqueueOptions): Promise<MailJobData> {
    const name = transport ?? this.#options.transport;
    if (name !== undefined && (typeof name !== 'string' || name === '')) throw new InvalidMailError('transport must be a transport name.', 'transport');
    if (tenant !== undefined && (typeof tenant !== 'string' || tenant === '')) throw new InvalidMailError('tenant must be a non-empty string.', 'tenant');
    const serialized = await serializeMail(mail);
    const domain = serialized.messageId === undefined ? fromDomain(serialized.from) : undefined;
    if (domain) serialized.messageId = `<${randomUUID()}@${domain}>`;
    return { v: 1, mail: serialized, ...(name ? { transport: name } : {}), ...(tenant !== undefined ? { tenant } : {}) };
  }

  #add(data: MailJobData, options: EnqueueOptions): EnqueueResult {
    if (options.jobId !== undefined && this.#jobIds.has(options.jobId)) return { jobId: options.jobId, duplicate: true };
    const id = options.jobId ?? String(++this.#nextId);
    this.#jobIds.add(id);
    const job: Job = { id, data, ...(options.delay ? { delay: Math.round(options.delay) } : {}), ...(options.priority ? { priority: options.priority } : {}) };
    this.#publish({ type: MAIL_QUEUE_EVENTS.queued, jobId: id, mail: data.mail, transport: data.transport, delay: job.delay, priority: job.priority });
    this.#counts.waiting++;
    if (this.#mailer) this.#start(job);
    else this.#waiting.push(job);
    return { jobId: id, duplicate: false, ...(data.mail.messageId ? { messageId: data.mail.messageId } : {}) };
  }

  #start(job: Job): void {
    const running: Promise<void> = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.#run(job))
      .finally(() => this.#running.delete(running));
    this.#running.add(running);
  }

  /** The worker's loop for one job: attempts one after another, as BullMQ would make them, minus the waits. */
  async #run(job: Job): Promise<void> {
    const mailer = this.#mailer!;
    this.#counts.waiting--;
    this.#counts.active++;
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          const mail = deserializeMail(job.data.mail);
          if (mail.messageId === undefined) mail.messageId = this.#stableMessageId(job.id);
          const result = await mailer.send(mail, { transport: job.data.transport, tenant: job.data.tenant, retry: false });
          this.#counts.completed++;
          this.#publish({ type: MAIL_QUEUE_EVENTS.sent, jobId: job.id, result, attempt });
          return;
        } catch (error) {
          const failure = error instanceof Error ? error : new Error(String(error));
          const retryable = await isRetryableInQueue(failure, attempt, this.#plan.policy);
          const final = !retryable || attempt >= this.#plan.attempts;
          this.#publish({ type: MAIL_QUEUE_EVENTS.failed, jobId: job.id, error: failure, attempt, final });
          if (final) {
            this.#counts.failed++;
            return;
          }
        }
      }
    } finally {
      this.#counts.active--;
    }
  }

  /** A Message-ID for a mail enqueued without `from`, derived from the job as the real queue does. */
  #stableMessageId(jobId: string): string {
    const id = createHash('sha256').update(`${this.name}\0${jobId}`).digest('hex').slice(0, 32);
    return `<${id}@${this.#defaultDomain ?? 'localhost'}>`;
  }

  #publish(event: MailQueueEvent): void {
    publishEvent(this.#events, this.#sink, this.#logger, event);
  }
}
