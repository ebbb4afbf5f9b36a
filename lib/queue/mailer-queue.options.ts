import { RETRY_HINTS, RETRY_OPTION_SHAPE, type RetryOptions } from '../retry/retry.options.js';
import { MailerConfigurationError } from '../errors/mailer.error.js';
import { checkOptionKeys, checkOptions, type OptionShape } from '../errors/option.checker.js';

/**
 * The commands the module needs from an ioredis client it is given. Any `Redis` or `Cluster`
 * instance has them; typed by shape so that ioredis stays an optional peer dependency.
 */
export interface MailerQueueRedisClient {
  duplicate(...args: unknown[]): unknown;
  quit(): Promise<unknown>;
  disconnect(): void;
}

/** ioredis connection options (`host`, `port`, `password`, `db`, `tls`, …), handed to BullMQ as they are. */
export interface MailerQueueRedisOptions {
  host?: string;
  port?: number;
  username?: string;
  password?: string;
  db?: number;
  tls?: object;
  [option: string]: unknown;
}

/**
 * Where Redis is:
 * - `{ url: 'redis://[:password@]host:port/db' }` (or `rediss://`), or ioredis options: the
 *   module opens its own ioredis clients — one for enqueueing that fails at once while Redis is
 *   away (no offline queue, commands bounded by `enqueueTimeout`), one the worker's connections
 *   are made from, which waits through reconnections as BullMQ requires — and quits them on
 *   shutdown;
 * - an ioredis client the application owns, as it is or as `{ client }` (create it with
 *   `maxRetriesPerRequest: null` when this process runs a worker). The module never quits it nor
 *   changes its options; see docs/queue.md for what an outage does then.
 */
export type MailerQueueConnection =
  | { url: string }
  | { client: MailerQueueRedisClient }
  | MailerQueueRedisClient
  | MailerQueueRedisOptions;

/** Whether `connection` is an ioredis client itself. */
export function isRedisClient(connection: unknown): connection is MailerQueueRedisClient {
  return typeof connection === 'object' && connection !== null
    && typeof (connection as MailerQueueRedisClient).duplicate === 'function'
    && typeof (connection as MailerQueueRedisClient).quit === 'function';
}

/** `true` removes at once, a number keeps that many, `{ age, count }` keeps by age (seconds) and count. */
export type MailerQueueKeepJobs = boolean | number | { age: number; count?: number } | { count: number };

/** What the module needs from the bullmq package; `MailerQueueModuleOptions.bullmq` can supply another build. */
export interface BullmqModule {
  Queue: new (name: string, options: Record<string, unknown>) => unknown;
  Worker: new (name: string, processor: (...args: never[]) => Promise<unknown>, options: Record<string, unknown>) => unknown;
  UnrecoverableError: new (message?: string) => Error;
  WaitingError: new (message?: string) => Error;
}

export type MailerQueueMode = 'producer' | 'worker' | 'both';

export interface MailerQueueModuleOptions {
  /** Redis: a URL, ioredis options or an ioredis client. Required. */
  connection: MailerQueueConnection;
  /** BullMQ queue name. Processes that share it (and `prefix`) share the jobs. Default `mail`. */
  queueName?: string;
  /** Prefix of every Redis key BullMQ writes (BullMQ's default `bull`). */
  prefix?: string;
  /**
   * `producer`: enqueue only, no worker (API processes); `worker`: process jobs only, `enqueue()`
   * refused; `both`: enqueue and process. Default `both`.
   */
  mode?: MailerQueueMode;
  /** Jobs one worker process sends at once. Default 5. */
  concurrency?: number;
  /**
   * Milliseconds `enqueue()` and `enqueueBatch()` wait for Redis (to connect, then to answer)
   * before they reject with QueueUnavailableError. A Redis that restarts within it costs the
   * caller a wait, not an error. Default 5000.
   */
  enqueueTimeout?: number;
  /**
   * At most `max` jobs started per `duration` milliseconds across every worker of the queue: BullMQ
   * keeps the count in Redis, so the limit is one for the whole fleet, not per process.
   */
  rateLimit?: { max: number; duration: number };
  /**
   * How failed sends are retried, by BullMQ (each attempt is one `MailerService.send` with the
   * service's own retry off, so a retry can land on any worker). `limit` retries give `limit + 1`
   * BullMQ attempts; the wait before retry n is the policy's backoff with jitter, or the
   * server's Retry-After when that is longer (however long: a queue can wait). `shouldRetry`
   * decides as it does for the service. `deadline`, `maxRetryAfter` and `onRetry` do not apply.
   * Default: the RetryPolicy defaults (`limit: 2`, 1 s then 2 s, full jitter). `false`: one attempt.
   */
  retry?: false | RetryOptions;
  /**
   * Completed jobs kept in Redis. A jobId can be used again once its job is removed, so this is
   * also how long `jobId` de-duplicates. Default `{ age: 86_400, count: 10_000 }` (a day, at most 10,000).
   */
  removeOnComplete?: MailerQueueKeepJobs;
  /** Failed jobs kept in Redis, for inspection and manual retry. Default `{ age: 604_800 }` (a week). */
  removeOnFail?: MailerQueueKeepJobs;
  /** Transport name used for jobs that name none; default: the mailer's default transport. */
  transport?: string;
  /**
   * Milliseconds a shutting-down worker waits for the sends in progress. Those still running then
   * are cancelled and their jobs put back in the queue for another worker. Default 10 000.
   */
  shutdownTimeout?: number;
  /**
   * Milliseconds a worker's lock on a job lasts without renewal (BullMQ `lockDuration`, default
   * 30 000). A worker that dies keeps its jobs locked this long before another takes them over.
   */
  lockDuration?: number;
  /** Milliseconds between checks for jobs whose worker died (BullMQ `stalledInterval`, default 30 000). */
  stalledInterval?: number;
  /**
   * Times a job may be taken back from a dead worker before it is failed (BullMQ
   * `maxStalledCount`). Default 2, so that a mail survives two crashes.
   */
  maxStalledCount?: number;
  /** Publish mail.queue.queued / sent / failed through @nestjs/event-emitter when present. Default true. */
  eventEmitter?: boolean;
  /**
   * Loads BullMQ. Default `import('bullmq')`; give another loader to use a compatible build
   * (e.g. BullMQ Pro).
   */
  bullmq?: () => Promise<BullmqModule>;
}

export interface MailerQueueModuleExtras {
  /** Register the module globally so that every module can inject MailerQueue. Default false. */
  isGlobal?: boolean;
}

export const DEFAULT_QUEUE_NAME = 'mail';
export const DEFAULT_QUEUE_CONCURRENCY = 5;
export const DEFAULT_ENQUEUE_TIMEOUT = 5_000;
export const DEFAULT_SHUTDOWN_TIMEOUT = 10_000;
export const DEFAULT_MAX_STALLED_COUNT = 2;
export const DEFAULT_REMOVE_ON_COMPLETE: MailerQueueKeepJobs = Object.freeze({ age: 86_400, count: 10_000 });
export const DEFAULT_REMOVE_ON_FAIL: MailerQueueKeepJobs = Object.freeze({ age: 604_800 });

const isPositiveInt = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n > 0;
const isMs = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n) && n >= 0;

function check(ok: boolean, message: string): void {
  if (!ok) throw new MailerConfigurationError(`MailerQueueModule: ${message}`);
}

function checkKeep(value: unknown, name: string): void {
  if (value === undefined || typeof value === 'boolean' || (typeof value === 'number' && Number.isInteger(value) && value >= 0)) return;
  check(typeof value === 'object' && value !== null
    && Object.entries(value).every(([k, v]) => (k === 'age' || k === 'count') && (v === undefined || (Number.isInteger(v) && (v as number) >= 0))),
  `${name} must be true, false, a count, or { age, count }.`);
}

const QUEUE_OPTION_SHAPE = {
  connection: 'object',
  queueName: 'string',
  prefix: 'string',
  mode: 'string',
  concurrency: 'number',
  enqueueTimeout: 'number',
  rateLimit: 'object',
  retry: ['boolean', 'object'],
  removeOnComplete: ['boolean', 'number', 'object'],
  removeOnFail: ['boolean', 'number', 'object'],
  transport: 'string',
  shutdownTimeout: 'number',
  lockDuration: 'number',
  stalledInterval: 'number',
  maxStalledCount: 'number',
  eventEmitter: 'boolean',
  bullmq: 'function',
} as const satisfies OptionShape<MailerQueueModuleOptions>;

const EXTRA_HINT = 'is a module extra, not an option: give it to forRootAsync({ isGlobal, useFactory, … }) next to useFactory, not in what the factory returns.';

/** Names from BullMQ and from @nestjs-modules/mailer's queue, with what to write here. */
const QUEUE_HINTS = {
  isGlobal: EXTRA_HINT,
  global: 'is written isGlobal here (a module extra).',
  limiter: "is BullMQ's name; write rateLimit: { max, duration }.",
  defaultJobOptions: 'is not read: attempts and backoff are retry: { limit, backoff }, removeOnComplete and removeOnFail are options of their own, delay and priority are per job (enqueue(mail, { delay, priority })).',
  attempts: 'is written retry: { limit } here: retries after the first attempt.',
  backoff: 'goes inside retry: { backoff: { initial, factor, max } }.',
  name: 'is written queueName here.',
  redis: 'is written connection here.',
};

/** Checks options at start-up; throws MailerConfigurationError for a value that cannot work. */
export function checkMailerQueueOptions(options: MailerQueueModuleOptions): void {
  check(typeof options === 'object' && options !== null, 'options are required.');
  checkOptions(options, QUEUE_OPTION_SHAPE, 'MailerQueueModule', QUEUE_HINTS);
  const c = options.connection as unknown;
  check(typeof c === 'object' && c !== null, 'connection is required: { url }, ioredis options or an ioredis client.');
  // With a URL or a client, nothing else in the object would be read.
  if (!isRedisClient(c) && 'url' in (c as object)) checkOptionKeys(c as Record<string, unknown>, ['url'], 'MailerQueueModule: connection', { client: 'cannot be given with url; give one of them.' });
  if (!isRedisClient(c) && 'client' in (c as object)) checkOptionKeys(c as Record<string, unknown>, ['client'], 'MailerQueueModule: connection');
  if (options.rateLimit !== undefined) checkOptionKeys(options.rateLimit as Record<string, unknown>, ['max', 'duration'], 'MailerQueueModule: rateLimit');
  if (options.retry) checkOptions(options.retry, RETRY_OPTION_SHAPE, 'MailerQueueModule: retry', RETRY_HINTS);
  if (!isRedisClient(c) && 'url' in (c as object)) check(typeof (c as { url: unknown }).url === 'string' && /^rediss?:\/\//.test((c as { url: string }).url), 'connection.url must be a redis:// or rediss:// URL.');
  if (!isRedisClient(c) && 'client' in (c as object)) check(typeof (c as { client?: { duplicate?: unknown } }).client?.duplicate === 'function', 'connection.client must be an ioredis client.');
  check(options.queueName === undefined || (typeof options.queueName === 'string' && options.queueName.length > 0 && !options.queueName.includes(':')), 'queueName must be a non-empty string without ":".');
  check(options.prefix === undefined || (typeof options.prefix === 'string' && options.prefix.length > 0), 'prefix must be a non-empty string.');
  check(options.mode === undefined || ['producer', 'worker', 'both'].includes(options.mode), `mode must be 'producer', 'worker' or 'both'; got ${String(options.mode)}.`);
  check(options.concurrency === undefined || isPositiveInt(options.concurrency), 'concurrency must be a whole number, 1 or more.');
  check(options.enqueueTimeout === undefined || isPositiveInt(options.enqueueTimeout), 'enqueueTimeout must be a whole number of milliseconds, 1 or more.');
  if (options.rateLimit !== undefined) {
    check(isPositiveInt(options.rateLimit?.max) && isPositiveInt(options.rateLimit?.duration), 'rateLimit must be { max, duration } with whole numbers, 1 or more (duration in milliseconds).');
  }
  checkKeep(options.removeOnComplete, 'removeOnComplete');
  checkKeep(options.removeOnFail, 'removeOnFail');
  check(options.transport === undefined || (typeof options.transport === 'string' && options.transport.length > 0), 'transport must be a transport name.');
  check(options.shutdownTimeout === undefined || isMs(options.shutdownTimeout), 'shutdownTimeout must be a number of milliseconds, 0 or more.');
  check(options.lockDuration === undefined || isPositiveInt(options.lockDuration), 'lockDuration must be a whole number of milliseconds, 1 or more.');
  check(options.stalledInterval === undefined || isPositiveInt(options.stalledInterval), 'stalledInterval must be a whole number of milliseconds, 1 or more.');
  check(options.maxStalledCount === undefined || (Number.isInteger(options.maxStalledCount) && options.maxStalledCount >= 0), 'maxStalledCount must be a whole number, 0 or more.');
  check(options.bullmq === undefined || typeof options.bullmq === 'function', 'bullmq must be a function that loads the bullmq module.');
}
