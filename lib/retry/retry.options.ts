import { MailerConfigurationError, type TransportError } from '../errors/mailer.error.js';
import { checkOptions, type OptionHints, type OptionShape } from '../errors/option.checker.js';
import { systemClock, type RetryClock } from './retry.clock.js';

/**
 * How the wait grows between attempts: `initial * factor^(n-1)` before the n-th retry, at most
 * `max` milliseconds (before jitter).
 */
export interface RetryBackoff {
  /** Milliseconds before the first retry. Default 1000. */
  initial?: number;
  /** Growth per retry. Default 2. */
  factor?: number;
  /** Upper bound of one wait, in milliseconds. Default 30 000. */
  max?: number;
}

/**
 * How a computed wait is spread so that many senders failing at once do not come back at once.
 * `full`: anywhere between 0 and the wait; `equal`: between half the wait and the wait; `none`: the
 * wait as computed; a function gets the computed wait and the retry number (1 for the first retry)
 * and returns the wait to use.
 */
export type RetryJitter = 'full' | 'equal' | 'none' | ((delay: number, retry: number) => number);

/** What `onRetry` is told before each wait. */
export interface RetryEvent {
  /** The failure that is being retried. */
  error: TransportError;
  /** Number of the attempt that failed (1 for the first one). */
  attempt: number;
  /** Milliseconds the policy is about to wait. */
  delay: number;
  /** Milliseconds the server asked for (Retry-After), when it did. */
  retryAfter?: number;
}

/** Retry options; every field is optional and has a default. */
export interface RetryOptions {
  /** Retries after the first attempt (so `limit: 2` means at most 3 attempts). Default 2; 0 turns retrying off. */
  limit?: number;
  /** Exponential backoff. Default `{ initial: 1000, factor: 2, max: 30_000 }`. */
  backoff?: RetryBackoff;
  /** Default `full`. */
  jitter?: RetryJitter;
  /**
   * Longest Retry-After the policy waits for, in milliseconds. A server that asks for more is not
   * retried at all: the failure is thrown at once, for a queue to pick up later. Default 60 000.
   */
  maxRetryAfter?: number;
  /**
   * Overall budget in milliseconds from the first attempt: no wait is started that would end after
   * it. Default 60 000; `Infinity` for none.
   */
  deadline?: number;
  /**
   * Decides instead of the default rules (see `isRetryableFailure`) whether a TransportError is
   * retried; return `undefined` to keep the default decision. Errors that are not
   * TransportErrors (invalid mail, configuration, templates, cancelled) are never retried.
   * `attempt` is the number of the attempt that failed.
   */
  shouldRetry?: (error: TransportError, attempt: number) => boolean | undefined | Promise<boolean | undefined>;
  /** Called before each wait. An error thrown here stops retrying and is thrown. */
  onRetry?: (event: RetryEvent) => void | Promise<void>;
  /** The clock waits go through; for tests. Default: `setTimeout` and `Date.now`. */
  clock?: RetryClock;
}

/** Options with every default filled in. */
export interface ResolvedRetryOptions {
  limit: number;
  backoff: Required<RetryBackoff>;
  jitter: RetryJitter;
  maxRetryAfter: number;
  deadline: number;
  shouldRetry?: RetryOptions['shouldRetry'];
  onRetry?: RetryOptions['onRetry'];
  clock: RetryClock;
}

export const DEFAULT_RETRY: Readonly<Omit<ResolvedRetryOptions, 'clock' | 'shouldRetry' | 'onRetry'>> = Object.freeze({
  limit: 2,
  backoff: Object.freeze({ initial: 1000, factor: 2, max: 30_000 }),
  jitter: 'full' as RetryJitter,
  maxRetryAfter: 60_000,
  deadline: 60_000,
});

export const RETRY_OPTION_SHAPE = {
  limit: 'number',
  backoff: 'object',
  jitter: ['string', 'function'],
  maxRetryAfter: 'number',
  deadline: 'number',
  shouldRetry: 'function',
  onRetry: 'function',
  clock: 'object',
} as const satisfies OptionShape<RetryOptions>;

const BACKOFF_SHAPE = { initial: 'number', factor: 'number', max: 'number' } as const satisfies OptionShape<RetryBackoff>;

/** The names ky, p-retry, BullMQ and nodemailer users bring, with this package's word for them. */
export const RETRY_HINTS: OptionHints = {
  retries: 'is written limit here: retries after the first attempt.',
  attempts: 'is written limit here: retries after the first attempt (attempts − 1).',
  maxAttempts: 'is written limit here: retries after the first attempt (maxAttempts − 1).',
  factor: 'goes inside backoff: { initial, factor, max }.',
  minTimeout: 'is written backoff.initial here.',
  maxTimeout: 'is written backoff.max here.',
  delay: 'is written backoff.initial here.',
  backoffLimit: 'is written backoff.max here.',
  randomize: "is written jitter here: 'full', 'equal', 'none' or a function.",
  statusCodes: 'has no list form here: return true or false from shouldRetry(error) to decide yourself.',
  maxRetryTime: 'is written deadline here.',
  timeout: "is not a retry setting: a transport's own timeout bounds one attempt, deadline bounds them all.",
};

function check(ok: boolean, where: string, message: string): void {
  if (!ok) throw new MailerConfigurationError(`${where}: ${message}`);
}

const isMs = (n: unknown): n is number => typeof n === 'number' && !Number.isNaN(n) && n >= 0;

/**
 * Options laid over each other, later ones winning field by field (`backoff` too); then checked.
 * Throws MailerConfigurationError for a value that cannot work.
 */
export function resolveRetryOptions(layers: ReadonlyArray<RetryOptions | undefined>, where = 'retry'): ResolvedRetryOptions {
  const merged: RetryOptions = {};
  let backoff: RetryBackoff = { ...DEFAULT_RETRY.backoff };
  for (const layer of layers) {
    if (!layer) continue;
    check(typeof layer === 'object', where, 'expected an options object or false.');
    checkOptions(layer, RETRY_OPTION_SHAPE, where, RETRY_HINTS);
    if (layer.backoff !== undefined) checkOptions(layer.backoff, BACKOFF_SHAPE, `${where}: backoff`);
    Object.assign(merged, layer);
    if (layer.backoff) backoff = { ...backoff, ...layer.backoff };
  }
  const resolved: ResolvedRetryOptions = {
    limit: merged.limit ?? DEFAULT_RETRY.limit,
    backoff: backoff as Required<RetryBackoff>,
    jitter: merged.jitter ?? DEFAULT_RETRY.jitter,
    maxRetryAfter: merged.maxRetryAfter ?? DEFAULT_RETRY.maxRetryAfter,
    deadline: merged.deadline ?? DEFAULT_RETRY.deadline,
    shouldRetry: merged.shouldRetry,
    onRetry: merged.onRetry,
    clock: merged.clock ?? systemClock,
  };
  check(Number.isInteger(resolved.limit) && resolved.limit >= 0, where, `limit must be a whole number, 0 or more; got ${String(resolved.limit)}.`);
  check(isMs(resolved.backoff.initial), where, 'backoff.initial must be a number of milliseconds, 0 or more.');
  check(typeof resolved.backoff.factor === 'number' && resolved.backoff.factor >= 1, where, 'backoff.factor must be a number, 1 or more.');
  check(isMs(resolved.backoff.max), where, 'backoff.max must be a number of milliseconds, 0 or more.');
  check(isMs(resolved.maxRetryAfter), where, 'maxRetryAfter must be a number of milliseconds, 0 or more.');
  check(isMs(resolved.deadline), where, 'deadline must be a number of milliseconds, 0 or more (Infinity for none).');
  check(typeof resolved.jitter === 'function' || ['full', 'equal', 'none'].includes(resolved.jitter), where, `jitter must be 'full', 'equal', 'none' or a function.`);
  check(resolved.shouldRetry === undefined || typeof resolved.shouldRetry === 'function', where, 'shouldRetry must be a function.');
  check(resolved.onRetry === undefined || typeof resolved.onRetry === 'function', where, 'onRetry must be a function.');
  check(typeof resolved.clock?.sleep === 'function' && typeof resolved.clock.now === 'function', where, 'clock must have now() and sleep().');
  return resolved;
}
