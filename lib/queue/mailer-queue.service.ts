import {
  Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy, type OnModuleInit,
} from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { createHash, randomUUID } from 'node:crypto';
import type { Job, JobsOptions, Queue, Worker } from 'bullmq';
import { Subject, type Observable } from 'rxjs';
import type { Mail } from '../core/mail.types.js';
import type { SendResult } from '../core/send-result.types.js';
import { InvalidMailError, isMailerError, MailerConfigurationError, QueueUnavailableError } from '../errors/mailer.error.js';
import { findEventEmitter, publishEvent, type EventSink } from '../nest/event-emitter.js';
import { MAILER_MODULE_OPTIONS } from '../nest/mailer.module.js';
import type { MailerModuleOptions } from '../nest/mailer.options.js';
import { MailerService } from '../nest/mailer.service.js';
import { findMailerTelemetry } from '../nest/mailer.runtime.js';
import { MailTelemetry } from '../telemetry/mail.telemetry.js';
import { importBullmq, openRedis, type OwnedQueueRedisClient } from './bullmq.loader.js';
import { deserializeMail, fromDomain, serializeMail, type MailJobData } from './mail.serializer.js';
import { MAIL_QUEUE_EVENTS, type MailQueueEvent } from './mailer-queue.events.js';
import {
  checkMailerQueueOptions,
  isRedisClient,
  DEFAULT_ENQUEUE_TIMEOUT,
  DEFAULT_MAX_STALLED_COUNT,
  DEFAULT_QUEUE_CONCURRENCY,
  DEFAULT_QUEUE_NAME,
  DEFAULT_REMOVE_ON_COMPLETE,
  DEFAULT_REMOVE_ON_FAIL,
  DEFAULT_SHUTDOWN_TIMEOUT,
  type BullmqModule,
  type MailerQueueModuleOptions,
  type MailerQueueRedisClient,
  type MailerQueueRedisOptions,
} from './mailer-queue.options.js';
import { isRetryableInQueue, MAILROOM_BACKOFF, planQueueRetry, queueBackoffStrategy, type QueueRetryPlan } from './mailer-queue.retry.js';
import { MAILER_QUEUE_OPTIONS } from './mailer-queue.tokens.js';
import { isConnectionError, isWatchable, RedisConnectionWatch, whenReady } from './redis-connection.watch.js';

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
  /**
   * Whom the mail is sent for: stored with the job and handed to the worker's `transportResolver`
   * (`send(mail, { tenant })`), so the worker chooses the transport the enqueuing process would.
   */
  tenant?: string;
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

/** An enqueue that Redis did not answer within `enqueueTimeout`. */
class DeadlineExceeded extends Error {}

/** What a bounded Redis call does: adds one job, adds a batch in one transaction, or only reads. */
type RedisCall = 'add' | 'batch' | 'read';

/** BullMQ's words when a job's lock expired, or could not be extended, before its outcome was written. */
const LOST_LOCK = /(?:Missing lock for job|could not renew lock for job) (\S+?)\.?(?:\s|$)/;

/** ioredis's refusal of a command while disconnected, without an offline queue: it was never sent. */
const NOT_SENT = /Stream isn't writeable/;

const MAX_PRIORITY = 2_097_152;

/** The checks of `delay`, `priority` and `jobId` that enqueue() makes before anything is queued. */
export function checkEnqueueOptions(options: EnqueueOptions, where: string): void {
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
}

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
  /** Clients the module opened (quit on shutdown). */
  private readonly ownedClients: OwnedQueueRedisClient[] = [];
  /** What the Queue writes through; followed by the enqueue deadline when it is an ioredis client. */
  private producerClient?: MailerQueueRedisClient;
  /** What the Worker's connections are made from (BullMQ duplicates a client, or opens from options). */
  private workerConnection?: unknown;
  private watch!: RedisConnectionWatch;
  private lastConnectionError?: Error;
  /** Jobs already reported as having lost their lock. */
  private readonly lostLocks = new Set<string>();
  private mailer?: MailerService;
  private eventSink?: EventSink;
  private plan: QueueRetryPlan = { attempts: 1 };
  private closing?: Promise<void>;
  private returning = false;
  private defaultDomain?: string;
  private telemetry = MailTelemetry.off();
  private stopObserving?: () => void;

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

  private get enqueueTimeout(): number {
    return this.options.enqueueTimeout ?? DEFAULT_ENQUEUE_TIMEOUT;
  }

  async onModuleInit(): Promise<void> {
    checkMailerQueueOptions(this.options);
    this.plan = planQueueRetry(this.options.retry);
    this.bull = await importBullmq(this.options.bullmq as (() => Promise<BullmqModule>) | undefined);
    this.watch = new RedisConnectionWatch(this.logger, this.outageConsequence());
    const c = this.options.connection as { url?: string; client?: MailerQueueRedisClient };
    const given = isRedisClient(c) ? c : c.client;
    if (given) {
      this.producerClient = given;
      this.workerConnection = given;
      if (isWatchable(given)) this.watch.follow(given, false);
    } else {
      const target = typeof c.url === 'string' ? c.url : (c as MailerQueueRedisOptions);
      if (this.mode !== 'worker') this.producerClient = await this.open(target, this.producerOptions());
      // BullMQ's blocking reads must wait through reconnections, not fail.
      if (this.mode !== 'producer') this.workerConnection = await this.open(target, { maxRetriesPerRequest: null });
    }
    if (this.options.eventEmitter !== false) this.eventSink = await findEventEmitter(this.moduleRef);
    this.telemetry = await findMailerTelemetry(this.moduleRef);
    if (this.mode !== 'worker') {
      this.queue = new this.bull.Queue(this.name, defined({
        connection: this.producerClient,
        prefix: this.options.prefix,
        // The version check is a command sent right after connecting; on a client without an
        // offline queue, a connection lost at that moment would leave the Queue unusable for good.
        skipVersionCheck: this.ownedClients.includes(this.producerClient as OwnedQueueRedisClient) ? true : undefined,
      })) as Queue;
      this.queue.on('error', (error: Error) => this.reportError('Queue', error));
      const queue = this.queue;
      this.stopObserving = this.telemetry.observeQueue(this.name, () => queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized'));
    }
  }

  /**
   * The enqueueing client: a command fails at once while Redis is away (no offline queue, no
   * retry of a command in flight) and waits at most `enqueueTimeout` for an answer.
   */
  private producerOptions(): Record<string, unknown> {
    return { enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: this.enqueueTimeout, connectTimeout: this.enqueueTimeout };
  }

  private async open(target: string | MailerQueueRedisOptions, options: Record<string, unknown>): Promise<OwnedQueueRedisClient> {
    const client = await openRedis(target, options, (error) => {
      this.lastConnectionError = error;
      this.watch.lost(error);
    });
    client.on('ready', () => (this.lastConnectionError = undefined));
    this.ownedClients.push(client);
    this.watch.follow(client, false);
    return client;
  }

  private outageConsequence(): string {
    const enqueue = `enqueue() rejects with QueueUnavailableError after at most ${this.enqueueTimeout} ms`;
    const worker = 'the worker waits and resumes when Redis is back';
    if (this.mode === 'producer') return enqueue;
    if (this.mode === 'worker') return worker;
    return `${enqueue}; ${worker}`;
  }

  /**
   * An error a queue or worker emitted: connection errors make one outage line, a job that lost
   * its lock one line per job, others one line each.
   */
  private reportError(source: 'Queue' | 'Worker', error: Error): void {
    if (this.closing && isConnectionError(error)) return;
    if (this.watch.absorb(error)) return;
    const lock = LOST_LOCK.exec(error.message);
    if (!lock) {
      this.logger.error(`${source} error: ${error.message}`);
      return;
    }
    // BullMQ reports it once per step it could not record (completion, then the retry).
    if (this.lostLocks.has(lock[1]!)) return;
    if (this.lostLocks.size >= 1_000) this.lostLocks.clear();
    this.lostLocks.add(lock[1]!);
    this.logger.warn(`Job ${lock[1]} lost its lock (Redis unreachable for longer than lockDuration, or a send that outlasted it): its outcome could not be recorded and another attempt will send it again, with the same Message-ID.`);
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
      connection: this.workerConnection,
      prefix: this.options.prefix,
      concurrency: this.options.concurrency ?? DEFAULT_QUEUE_CONCURRENCY,
      limiter: this.options.rateLimit ? { max: this.options.rateLimit.max, duration: this.options.rateLimit.duration } : undefined,
      lockDuration: this.options.lockDuration,
      stalledInterval: this.options.stalledInterval,
      maxStalledCount: this.options.maxStalledCount ?? DEFAULT_MAX_STALLED_COUNT,
      settings: policy ? { backoffStrategy: queueBackoffStrategy(policy) } : undefined,
    })) as Worker;
    this.worker.on('error', (error: Error) => this.reportError('Worker', error));
  }

  /** The application's MailerService, when a producer-only application has one at all. */
  private producerMailer(): MailerService | undefined {
    try {
      return this.moduleRef.get(MailerService, { strict: false });
    } catch {
      return undefined;
    }
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
      this.watch?.stop();
      this.stopObserving?.();
      if (this.worker) await this.closeWorker(this.worker);
      await this.queue?.close().catch((error: Error) => this.logger.warn(`Closing the queue: ${error.message}`));
      await Promise.all(this.ownedClients.map((client) => closeClient(client)));
      this.subject.complete();
    })();
    return this.closing;
  }

  private async closeWorker(worker: Worker): Promise<void> {
    const timeout = this.options.shutdownTimeout ?? DEFAULT_SHUTDOWN_TIMEOUT;
    if (this.watch.down || !this.watch.allReady()) {
      // A graceful close waits on Redis (and ioredis never reports a client that is reconnecting
      // as ended): with Redis away, nothing could be recorded anyway.
      this.logger.warn('Redis cannot be reached at shutdown: the worker stops without waiting for its sends; their jobs are taken up again once Redis is back and their lock has expired.');
      await worker.close(true).catch((error: Error) => this.logger.warn(`Closing the worker: ${error.message}`));
      return;
    }
    const closed = worker.close().catch((error: Error) => this.logger.warn(`Closing the worker: ${error.message}`));
    if (await settlesWithin(closed, timeout)) return;
    this.logger.warn(`Sends still running after ${timeout} ms of shutdown: their jobs go back to the queue.`);
    this.returning = true;
    worker.cancelAllJobs('shutdown');
    if (await settlesWithin(closed, timeout)) return;
    // Redis went away during shutdown. Stop the worker's reconnecting instead of waiting for it.
    this.logger.warn(`The worker did not stop within ${timeout} ms more (Redis cannot be reached); its connections are dropped.`);
    worker.disconnect().catch(() => undefined);
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
    checkEnqueueOptions(options, where);
    const { delay, priority, jobId } = options;
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

  private async jobData(mail: Mail, { transport, tenant }: EnqueueOptions): Promise<MailJobData> {
    const name = transport ?? this.options.transport;
    if (name !== undefined && (typeof name !== 'string' || name === '')) throw new InvalidMailError('transport must be a transport name.', 'transport');
    if (tenant !== undefined && (typeof tenant !== 'string' || tenant === '')) throw new InvalidMailError('tenant must be a non-empty string.', 'tenant');
    const serialized = await serializeMail(mail);
    // The locale is fixed now too: a resolver that reads the request finds it here, not on the worker.
    if (serialized.locale === undefined && serialized.template !== undefined) {
      const locale = await this.producerMailer()?.resolveLocale(mail);
      if (locale !== undefined) serialized.locale = locale;
    }
    // Fixed now, so that every attempt, on whichever worker, sends the same Message-ID.
    const domain = serialized.messageId === undefined ? fromDomain(serialized.from) : undefined;
    if (domain) serialized.messageId = `<${randomUUID()}@${domain}>`;
    return { v: 1, mail: serialized, ...(name ? { transport: name } : {}), ...(tenant !== undefined ? { tenant } : {}) };
  }

  /**
   * Puts one mail on the queue. The whole mail is stored: attachment Buffers and streams (read
   * to the end first) as base64, Dates as ISO strings. Throws InvalidMailError for what cannot be
   * stored (a function, a stream that fails, …); nothing is added then.
   */
  async enqueue(mail: Mail, options: EnqueueOptions = {}): Promise<EnqueueResult> {
    this.producer();
    const opts = this.jobOptions(options, 'enqueue');
    const data = await this.jobData(mail, options);
    const job = await this.telemetry.enqueue(this.name, 1, (trace) => {
      if (trace) data.trace = trace;
      return this.withRedis('the mail', 'add', async (queue, writing) => {
        if (opts.jobId && (await queue.getJobState(opts.jobId)) !== 'unknown') return undefined;
        writing();
        return queue.add('send', data, opts);
      });
    }, (added) => added?.id);
    if (!job) return { jobId: opts.jobId!, duplicate: true };
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
    this.producer();
    if (!Array.isArray(entries)) throw new InvalidMailError('enqueueBatch() expects an array.');
    const jobs: Array<{ name: string; data: MailJobData; opts: JobsOptions }> = [];
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!;
      const { mail, ...options }: MailQueueEntry = isEntry(entry) ? entry : { mail: entry };
      const where = `enqueueBatch[${i}]`;
      const opts = this.jobOptions(options, where);
      let data: MailJobData;
      try {
        data = await this.jobData(mail, options);
      } catch (error) {
        if (error instanceof InvalidMailError) throw new InvalidMailError(`${where}: ${error.message}`, error.field);
        throw error;
      }
      jobs.push({ name: 'send', data, opts });
    }
    const ids = jobs.map((j) => j.opts.jobId).filter((id): id is string => id !== undefined);
    const existing = new Set<string>();
    const added = await this.telemetry.enqueue(this.name, jobs.length, (trace) => {
      if (trace) for (const job of jobs) job.data.trace = trace;
      return this.withRedis(`the ${jobs.length} mails`, 'batch', async (queue, writing) => {
        for (const id of new Set(ids)) if ((await queue.getJobState(id)) !== 'unknown') existing.add(id);
        const fresh = jobs.filter((j) => !(j.opts.jobId && existing.has(j.opts.jobId)));
        if (!fresh.length) return [];
        writing();
        return queue.addBulk(fresh);
      });
    });
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
    return this.withRedis('the job counts', 'read', (queue) => queue.getJobCounts());
  }

  /**
   * Runs the Redis part of a call within `enqueueTimeout`: first waits for the enqueueing client
   * to be connected, then for the commands. Redis failing to answer or refusing becomes
   * QueueUnavailableError; `writing()` marks the point from which a failure may have left the
   * job(s) stored.
   */
  private async withRedis<T>(what: string, kind: RedisCall, run: (queue: Queue, writing: () => void) => Promise<T>): Promise<T> {
    const queue = this.producer();
    const timeout = this.enqueueTimeout;
    const deadline = Date.now() + timeout;
    const client = this.producerClient;
    if (isWatchable(client) && !(await whenReady(client, timeout))) {
      const cause = this.lastConnectionError ?? new Error(`client ${client.status}`);
      this.watch.lost(cause);
      throw this.unavailable(what, kind, 'not-added', `Redis is not connected (${cause.message}) and did not come back within ${timeout} ms`, cause);
    }
    let written = false;
    let timer: NodeJS.Timeout | undefined;
    const running = run(queue, () => (written = true));
    // Given up at the deadline, the call may still fail later; nobody waits for it then.
    running.catch(() => undefined);
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new DeadlineExceeded(`Redis did not answer within ${timeout} ms`)), Math.max(deadline - Date.now(), 0));
    });
    try {
      const result = await Promise.race([running, late]);
      this.watch.up();
      return result;
    } catch (error) {
      if (isMailerError(error)) throw error;
      const failure = error instanceof Error ? error : new Error(String(error));
      // A command refused before it was sent, or a single add Redis answered with an error, stored
      // nothing; an error inside a batch's transaction does not undo the jobs before it.
      const notSent = NOT_SENT.test(failure.message);
      if (notSent) this.watch.lost(this.lastConnectionError ?? new Error('connection lost'));
      else if (failure instanceof DeadlineExceeded || isConnectionError(failure)) this.watch.lost(failure);
      const nothingStored = !written || notSent || (failure.name === 'ReplyError' && kind === 'add');
      const detail = notSent ? `Redis is not connected (${this.lastConnectionError?.message ?? 'connection lost'})` : failure.message;
      throw this.unavailable(what, kind, nothingStored ? 'not-added' : 'unknown', detail, failure);
    } finally {
      clearTimeout(timer);
    }
  }

  private unavailable(what: string, kind: RedisCall, outcome: 'not-added' | 'unknown', detail: string, cause: unknown): QueueUnavailableError {
    const verb = kind === 'read' ? `Could not read ${what}` : `Could not enqueue ${what}`;
    const result = kind === 'read' ? '' : outcome === 'not-added'
      ? ' Nothing was added.'
      : ' It may have been added: enqueue it again with the same jobId to have it once.';
    return new QueueUnavailableError(`${verb}: ${detail}.${result}`, outcome, { cause });
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
      result = await this.telemetry.processJob(this.name, { id: jobId, attempt }, data.trace, () => this.sendOrReturn(job, data, token, signal));
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
    const sending = mailer.send(mail, { transport: data.transport, tenant: data.tenant, retry: false, signal });
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

/**
 * Quits a client the module opened: QUIT when it is connected (bounded, since a frozen Redis
 * never answers), else a disconnect, since a client that queues commands offline would wait for
 * Redis to come back before sending QUIT.
 */
async function closeClient(client: OwnedQueueRedisClient): Promise<void> {
  if (client.status === 'ready') {
    let quit = false;
    await settlesWithin(client.quit().then(() => (quit = true)), CLOSE_TIMEOUT);
    if (quit) return;
  }
  client.disconnect();
}

const CLOSE_TIMEOUT = 2_000;

/** Whether `promise` settles within `ms` milliseconds. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const settled = await Promise.race([
    promise.then(() => true, () => true),
    new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), ms); }),
  ]);
  clearTimeout(timer);
  return settled;
}

/** The object without its undefined properties: BullMQ treats a present `undefined` as a value. */
function defined<T extends object>(object: T): T {
  return Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined)) as T;
}

function isEntry(value: Mail | MailQueueEntry): value is MailQueueEntry {
  return typeof value === 'object' && value !== null && 'mail' in value && typeof (value as MailQueueEntry).mail === 'object';
}
