import {
  Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy, type OnModuleInit,
} from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { createHash, randomUUID } from 'node:crypto';
import type { Job, JobsOptions, Queue, Worker } from 'bullmq';
import { Subject, type Observable } from 'rxjs';
import type { Mail } from '../core/mail.types.js';
import type { SendResult } from '../core/send-result.types.js';
import { InvalidMailError, MailerConfigurationError } from '../errors/mailer.error.js';
import { findEventEmitter, publishEvent, type EventSink } from '../nest/event-emitter.js';
import { MAILER_MODULE_OPTIONS } from '../nest/mailer.module.js';
import type { MailerModuleOptions } from '../nest/mailer.options.js';
import { MailerService } from '../nest/mailer.service.js';
import { importBullmq, openRedis } from './bullmq.loader.js';
import { deserializeMail, fromDomain, serializeMail, type MailJobData } from './mail.serializer.js';
import { MAIL_QUEUE_EVENTS, type MailQueueEvent } from './mailer-queue.events.js';
import {
  checkMailerQueueOptions,
  isRedisClient,
  DEFAULT_MAX_STALLED_COUNT,
  DEFAULT_QUEUE_CONCURRENCY,
  DEFAULT_QUEUE_NAME,
  DEFAULT_REMOVE_ON_COMPLETE,
  DEFAULT_REMOVE_ON_FAIL,
  DEFAULT_SHUTDOWN_TIMEOUT,
  type BullmqModule,
  type MailerQueueModuleOptions,
  type MailerQueueRedisClient,
} from './mailer-queue.options.js';
import { isRetryableInQueue, MAILROOM_BACKOFF, planQueueRetry, queueBackoffStrategy, type QueueRetryPlan } from './mailer-queue.retry.js';
import { MAILER_QUEUE_OPTIONS } from './mailer-queue.tokens.js';

export interface EnqueueOptions {
  /** Milliseconds to wait before the mail may be sent. */
  delay?: number;
  /**
   * BullMQ priority, 1 (first) to 2,097,152 (last); jobs without one go before every prioritized
   * job.
   */
  priority?: number;
  /**
   * Makes the enqueue idempotent: while a job with this id is kept in Redis (see
   * `removeOnComplete` / `removeOnFail`), enqueueing it again adds nothing and returns the same id.
   * Must not be a whole number nor contain ":".
   */
  jobId?: string;
  /** Transport name the worker sends through; default: the module's `transport`, else the mailer's default. */
  transport?: string;
}

/** One mail of `enqueueBatch` with its own options. */
export interface MailQueueEntry extends EnqueueOptions {
  mail: Mail;
}

export interface EnqueueResult {
  jobId: string;
  /**
   * The Message-ID the mail will carry, kept across attempts: the mail's own, else one made here
   * when the mail has a `from`. Absent when the worker's default sender decides it.
   */
  messageId?: string;
  /** True when a job with this `jobId` was already on the queue, so nothing was added. */
  duplicate: boolean;
}

/** What a completed job keeps in Redis as its return value. */
export interface MailJobResult {
  messageId: string;
  accepted: string[];
  rejected: string[];
  transport: string;
  response?: string;
}

/** Why a job was returned to the queue without an attempt being counted. */
class ReturnedToQueue extends Error {}

const MAX_PRIORITY = 2_097_152;

/**
 * The mail queue: `enqueue()` stores a mail in Redis through BullMQ; the worker of every process
 * running in `worker` or `both` mode takes jobs and sends each with `MailerService.send(mail,
 * { transport, retry: false })`. BullMQ owns retries, across processes and machines.
 */
@Injectable()
export class MailerQueue implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('MailerQueue');
  private readonly subject = new Subject<MailQueueEvent>();
  private bull?: BullmqModule;
  private queue?: Queue;
  private worker?: Worker;
  private ownedClient?: MailerQueueRedisClient;
  private connection?: unknown;
  private mailer?: MailerService;
  private eventSink?: EventSink;
  private plan: QueueRetryPlan = { attempts: 1 };
  private closing?: Promise<void>;
  private returning = false;
  private defaultDomain?: string;

  /** mail.queue.queued, mail.queue.sent and mail.queue.failed as they happen in this process. */
  readonly events$: Observable<MailQueueEvent> = this.subject.asObservable();

  constructor(
    @Inject(MAILER_QUEUE_OPTIONS) private readonly options: MailerQueueModuleOptions,
    private readonly moduleRef: ModuleRef,
  ) {}

  /** The BullMQ queue name. */
  get name(): string {
    return this.options.queueName ?? DEFAULT_QUEUE_NAME;
  }

  get mode(): NonNullable<MailerQueueModuleOptions['mode']> {
    return this.options.mode ?? 'both';
  }

  async onModuleInit(): Promise<void> {
    checkMailerQueueOptions(this.options);
    this.plan = planQueueRetry(this.options.retry);
    this.bull = await importBullmq(this.options.bullmq as (() => Promise<BullmqModule>) | undefined);
    const c = this.options.connection as { url?: string; client?: MailerQueueRedisClient };
    if (isRedisClient(c)) {
      this.connection = c;
    } else if (typeof c.url === 'string') {
      this.ownedClient = await openRedis(c.url);
      this.connection = this.ownedClient;
    } else {
      this.connection = c.client ?? c;
    }
    if (this.options.eventEmitter !== false) this.eventSink = await findEventEmitter(this.moduleRef);
    if (this.mode !== 'worker') {
      this.queue = new this.bull.Queue(this.name, defined({ connection: this.connection, prefix: this.options.prefix })) as Queue;
      this.queue.on('error', (error: Error) => this.logger.error(`Queue error: ${error.message}`));
    }
  }

  /** The worker starts once every module is initialized, so that the mailer is ready. */
  async onApplicationBootstrap(): Promise<void> {
    if (this.mode === 'producer' || this.closing) return;
    this.mailer = this.findMailer();
    try {
      const mailerOptions = this.moduleRef.get<MailerModuleOptions>(MAILER_MODULE_OPTIONS as never, { strict: false });
      this.defaultDomain = fromDomain(mailerOptions?.defaults?.from);
    } catch {
      this.defaultDomain = undefined;
    }
    const bull = this.bull!;
    const policy = this.plan.policy;
    this.worker = new bull.Worker(this.name, ((job: Job<MailJobData>, token?: string, signal?: AbortSignal) => this.process(job, token, signal)) as never, defined({
      connection: this.connection,
      prefix: this.options.prefix,
      concurrency: this.options.concurrency ?? DEFAULT_QUEUE_CONCURRENCY,
      limiter: this.options.rateLimit ? { max: this.options.rateLimit.max, duration: this.options.rateLimit.duration } : undefined,
      lockDuration: this.options.lockDuration,
      stalledInterval: this.options.stalledInterval,
      maxStalledCount: this.options.maxStalledCount ?? DEFAULT_MAX_STALLED_COUNT,
      settings: policy ? { backoffStrategy: queueBackoffStrategy(policy) } : undefined,
    })) as Worker;
    this.worker.on('error', (error: Error) => this.logger.error(`Worker error: ${error.message}`));
  }

  private findMailer(): MailerService {
    try {
      return this.moduleRef.get(MailerService, { strict: false });
    } catch (cause) {
      throw new MailerConfigurationError(
        `MailerQueueModule in ${this.mode} mode sends with MailerService: import MailerModule in the same application (or use mode: 'producer').`,
        { cause },
      );
    }
  }

  async onModuleDestroy(): Promise<void> {
    await this.close();
  }

  /**
   * Stops the worker (sends in progress finish, up to `shutdownTimeout`; jobs still running then
   * go back to the queue), closes the queue and quits the Redis client the module opened.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.worker) await this.closeWorker(this.worker);
      await this.queue?.close().catch((error: Error) => this.logger.warn(`Closing the queue: ${error.message}`));
      if (this.ownedClient) await this.ownedClient.quit().catch(() => this.ownedClient?.disconnect());
      this.subject.complete();
    })();
    return this.closing;
  }

  private async closeWorker(worker: Worker): Promise<void> {
    const timeout = this.options.shutdownTimeout ?? DEFAULT_SHUTDOWN_TIMEOUT;
    const closed = worker.close().catch((error: Error) => this.logger.warn(`Closing the worker: ${error.message}`));
    let timer: NodeJS.Timeout | undefined;
    const late = await Promise.race([
      closed.then(() => false),
      new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(true), timeout); }),
    ]);
    clearTimeout(timer);
    if (!late) return;
    this.logger.warn(`Sends still running after ${timeout} ms of shutdown: their jobs go back to the queue.`);
    this.returning = true;
    worker.cancelAllJobs('shutdown');
    await closed;
  }

  private producer(): Queue {
    if (this.mode === 'worker') {
      throw new MailerConfigurationError(`MailerQueueModule runs in worker mode: enqueue() needs mode 'producer' or 'both'.`);
    }
    if (this.closing) throw new MailerConfigurationError('The mail queue is closed; the application is shutting down.');
    if (!this.queue) throw new MailerConfigurationError('The mail queue is not initialized yet (call app.init()).');
    return this.queue;
  }

  private jobOptions(options: EnqueueOptions, where: string): JobsOptions {
    const { delay, priority, jobId } = options;
    if (delay !== undefined && !(typeof delay === 'number' && Number.isFinite(delay) && delay >= 0)) {
      throw new InvalidMailError(`${where}: delay must be a number of milliseconds, 0 or more.`, 'delay');
    }
    if (priority !== undefined && !(Number.isInteger(priority) && priority >= 1 && priority <= MAX_PRIORITY)) {
      throw new InvalidMailError(`${where}: priority must be a whole number from 1 to ${MAX_PRIORITY}.`, 'priority');
    }
    if (jobId !== undefined && (typeof jobId !== 'string' || jobId === '' || jobId.includes(':') || /^\d+$/.test(jobId))) {
      throw new InvalidMailError(`${where}: jobId must be a non-empty string that is not a whole number and has no ":".`, 'jobId');
    }
    return defined({
      jobId,
      delay: delay ? Math.round(delay) : undefined,
      priority,
      attempts: this.plan.attempts,
      backoff: this.plan.policy ? { type: MAILROOM_BACKOFF } : undefined,
      removeOnComplete: this.options.removeOnComplete ?? DEFAULT_REMOVE_ON_COMPLETE,
      removeOnFail: this.options.removeOnFail ?? DEFAULT_REMOVE_ON_FAIL,
    });
  }

  private async jobData(mail: Mail, transport: string | undefined): Promise<MailJobData> {
    const name = transport ?? this.options.transport;
    if (name !== undefined && (typeof name !== 'string' || name === '')) throw new InvalidMailError('transport must be a transport name.', 'transport');
    const serialized = await serializeMail(mail);
    // Fixed now, so that every attempt, on whichever worker, sends the same Message-ID.
    const domain = serialized.messageId === undefined ? fromDomain(serialized.from) : undefined;
    if (domain) serialized.messageId = `<${randomUUID()}@${domain}>`;
    return { v: 1, mail: serialized, ...(name ? { transport: name } : {}) };
  }

  /**
   * Puts one mail on the queue. The whole mail is stored: attachment Buffers and streams (read
   * to the end first) as base64, Dates as ISO strings. Throws InvalidMailError for what cannot be
   * stored (a function, a stream that fails, …); nothing is added then.
   */
  async enqueue(mail: Mail, options: EnqueueOptions = {}): Promise<EnqueueResult> {
    const queue = this.producer();
    const opts = this.jobOptions(options, 'enqueue');
    const data = await this.jobData(mail, options.transport);
    if (opts.jobId && (await queue.getJobState(opts.jobId)) !== 'unknown') return { jobId: opts.jobId, duplicate: true };
    const job = await queue.add('send', data, opts);
    const jobId = job.id!;
    this.publish({ type: MAIL_QUEUE_EVENTS.queued, jobId, mail: data.mail, transport: data.transport, delay: opts.delay, priority: opts.priority });
    return { jobId, duplicate: false, ...(data.mail.messageId ? { messageId: data.mail.messageId } : {}) };
  }

  /**
   * Puts several mails on the queue in one Redis transaction, each a Mail or `{ mail, ...options }`.
   * Every mail is checked and serialized first: one that cannot travel fails the call with
   * InvalidMailError and nothing is added. Results are in input order.
   */
  async enqueueBatch(entries: ReadonlyArray<Mail | MailQueueEntry>): Promise<EnqueueResult[]> {
    const queue = this.producer();
    if (!Array.isArray(entries)) throw new InvalidMailError('enqueueBatch() expects an array.');
    const jobs: Array<{ name: string; data: MailJobData; opts: JobsOptions }> = [];
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!;
      const { mail, ...options }: MailQueueEntry = isEntry(entry) ? entry : { mail: entry };
      const where = `enqueueBatch[${i}]`;
      const opts = this.jobOptions(options, where);
      let data: MailJobData;
      try {
        data = await this.jobData(mail, options.transport);
      } catch (error) {
        if (error instanceof InvalidMailError) throw new InvalidMailError(`${where}: ${error.message}`, error.field);
        throw error;
      }
      jobs.push({ name: 'send', data, opts });
    }
    const ids = jobs.map((j) => j.opts.jobId).filter((id): id is string => id !== undefined);
    const existing = new Set<string>();
    for (const id of new Set(ids)) if ((await queue.getJobState(id)) !== 'unknown') existing.add(id);
    const fresh = jobs.filter((j) => !(j.opts.jobId && existing.has(j.opts.jobId)));
    const added = fresh.length ? await queue.addBulk(fresh) : [];
    const seen = new Set<string>();
    let k = 0;
    return jobs.map((job) => {
      if (job.opts.jobId && existing.has(job.opts.jobId)) return { jobId: job.opts.jobId, duplicate: true };
      const id = added[k++]!.id!;
      const duplicate = seen.has(id);
      seen.add(id);
      if (!duplicate) {
        this.publish({ type: MAIL_QUEUE_EVENTS.queued, jobId: id, mail: job.data.mail, transport: job.data.transport, delay: job.opts.delay, priority: job.opts.priority });
      }
      return { jobId: id, duplicate, ...(!duplicate && job.data.mail.messageId ? { messageId: job.data.mail.messageId } : {}) };
    });
  }

  /** Jobs per state (`waiting`, `active`, `delayed`, `completed`, `failed`, `prioritized`, …). */
  async getJobCounts(): Promise<Record<string, number>> {
    return this.producer().getJobCounts();
  }

  private async process(job: Job<MailJobData>, token: string | undefined, signal: AbortSignal | undefined): Promise<MailJobResult> {
    const bull = this.bull!;
    const jobId = job.id!;
    const attempt = job.attemptsMade + 1;
    const data = job.data;
    if (!data || data.v !== 1 || typeof data.mail !== 'object') {
      const error = new InvalidMailError(`Job ${jobId} does not hold a mail this version can read.`);
      this.publish({ type: MAIL_QUEUE_EVENTS.failed, jobId, error, attempt, final: true });
      throw new bull.UnrecoverableError(error.message);
    }
    let result: SendResult;
    try {
      result = await this.sendOrReturn(job, data, token, signal);
    } catch (error) {
      if (error instanceof ReturnedToQueue) throw new bull.WaitingError(error.message);
      const failure = error instanceof Error ? error : new Error(String(error));
      const retryable = await isRetryableInQueue(failure, attempt, this.plan.policy);
      const final = !retryable || attempt >= (job.opts.attempts ?? 1);
      this.publish({ type: MAIL_QUEUE_EVENTS.failed, jobId, error: failure, attempt, final });
      // UnrecoverableError stops BullMQ from spending the attempts left on a failure that would repeat.
      if (!retryable) throw Object.assign(new bull.UnrecoverableError(`${failure.name}: ${failure.message}`), { cause: failure });
      // Thrown as it is, so that the backoff strategy sees its retryAfter.
      throw failure;
    }
    this.publish({ type: MAIL_QUEUE_EVENTS.sent, jobId, result, attempt });
    return {
      messageId: result.messageId,
      accepted: result.accepted,
      rejected: result.rejected.map((r) => r.address),
      transport: result.transport,
      ...(result.response ? { response: result.response } : {}),
    };
  }

  /**
   * Sends the job's mail. When shutdown cancels the job, it goes back to the waiting list at once
   * (no attempt counted) while the send, which SMTP cannot take back, is left to end on its own.
   */
  private sendOrReturn(job: Job<MailJobData>, data: MailJobData, token: string | undefined, signal: AbortSignal | undefined): Promise<SendResult> {
    const mailer = this.mailer!;
    const mail = deserializeMail(data.mail);
    if (mail.messageId === undefined) mail.messageId = this.stableMessageId(job);
    const sending = mailer.send(mail, { transport: data.transport, retry: false, signal });
    if (!signal) return sending;
    return new Promise<SendResult>((resolve, reject) => {
      const onAbort = () => {
        if (!this.returning) return;
        sending.catch(() => undefined);
        job.moveToWait(token).then(
          () => reject(new ReturnedToQueue(`Job ${job.id} returned to the queue at shutdown.`)),
          (error: unknown) => reject(error),
        );
      };
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      sending.then(
        (value) => { signal.removeEventListener('abort', onAbort); resolve(value); },
        (error: unknown) => { signal.removeEventListener('abort', onAbort); reject(error); },
      );
    });
  }

  /**
   * A Message-ID for a mail enqueued without `from`: derived from the job, so that every attempt
   * of it sends the same one; the domain is the mailer's default sender's.
   */
  private stableMessageId(job: Job<MailJobData>): string {
    const id = createHash('sha256').update(`${this.name}\0${job.id}\0${job.timestamp}`).digest('hex').slice(0, 32);
    return `<${id}@${this.defaultDomain ?? 'localhost'}>`;
  }

  private publish(event: MailQueueEvent): void {
    publishEvent(this.subject, this.eventSink, this.logger, event);
  }
}

/** The object without its undefined properties: BullMQ treats a present `undefined` as a value. */
function defined<T extends object>(object: T): T {
  return Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined)) as T;
}

function isEntry(value: Mail | MailQueueEntry): value is MailQueueEntry {
  return typeof value === 'object' && value !== null && 'mail' in value && typeof (value as MailQueueEntry).mail === 'object';
}
