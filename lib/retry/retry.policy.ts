import { TransportError } from '../errors/mailer.error.js';
import type { RetryClock } from './retry.clock.js';
import { isRetryableFailure } from './retry.decision.js';
import { resolveRetryOptions, type ResolvedRetryOptions, type RetryOptions } from './retry.options.js';

/** Why the policy stopped, or how long it waits before the next attempt. */
export type RetryDecision =
  | { retry: true; delay: number }
  | {
      retry: false;
      /**
       * `permanent`: the failure is not one to retry; `limit`: no retries left; `retry-after`: the
       * server asked for a longer wait than `maxRetryAfter`; `deadline`: the wait would end after
       * the deadline; `aborted`: the caller's signal fired.
       */
      reason: 'permanent' | 'limit' | 'retry-after' | 'deadline' | 'aborted';
    };

export interface RetryRunOptions {
  /** Stops retrying: a wait in progress ends at once and no further attempt starts. */
  signal?: AbortSignal;
  /** Called after every failed attempt, before the decision; `attempt` counts from 1. */
  onFailure?: (error: unknown, attempt: number) => void;
  /** Called before each wait, with its length in milliseconds, the attempt that failed and its error. */
  onWait?: (delay: number, attempt: number, error: unknown) => void;
  /** Called when the policy gives up, with the error about to be thrown and why. */
  onGiveUp?: (error: unknown, reason: Extract<RetryDecision, { retry: false }>['reason']) => void;
}

/**
 * Runs an operation again after a transient failure: exponential backoff with jitter, Retry-After
 * honoured up to `maxRetryAfter`, a limit on retries, an overall deadline and an AbortSignal.
 * Which failures are transient follows their `Classification` (see `isRetryableFailure`); a
 * permanent failure is thrown after its one attempt. Plain TypeScript: the mailer service, the Nest
 * interceptor and a queue worker all use the same policy.
 */
export class RetryPolicy {
  readonly options: ResolvedRetryOptions;

  constructor(options: RetryOptions = {}, where = 'retry') {
    this.options = resolveRetryOptions([options], where);
  }

  /** A policy from several option layers (module, transport, send), later ones winning. */
  static merge(layers: ReadonlyArray<RetryOptions | undefined>, where = 'retry'): RetryPolicy {
    const policy = Object.create(RetryPolicy.prototype) as RetryPolicy;
    (policy as { options: ResolvedRetryOptions }).options = resolveRetryOptions(layers, where);
    return policy;
  }

  get clock(): RetryClock {
    return this.options.clock;
  }

  /** The wait before retry number `retry` (1 for the first), from backoff and jitter alone. */
  backoffDelay(retry: number, random: () => number = Math.random): number {
    const { initial, factor, max } = this.options.backoff;
    const base = Math.min(max, initial * factor ** Math.max(0, retry - 1));
    const jitter = this.options.jitter;
    let delay: number;
    if (typeof jitter === 'function') delay = jitter(base, retry);
    else if (jitter === 'full') delay = random() * base;
    else if (jitter === 'equal') delay = base / 2 + (random() * base) / 2;
    else delay = base;
    return Math.max(0, Math.round(Number.isFinite(delay) ? delay : base));
  }

  /** Whether this failure is of a kind to retry at all, ignoring limit, deadline and Retry-After. */
  async isRetryable(error: unknown, attempt: number): Promise<boolean> {
    if (!(error instanceof TransportError)) return false;
    const override = await this.options.shouldRetry?.(error, attempt);
    return override ?? isRetryableFailure(error);
  }

  /**
   * What to do after attempt number `attempt` (from 1) failed with `error`, `startedAt` being the
   * clock's time of the first attempt.
   */
  async decide(error: unknown, attempt: number, startedAt: number, signal?: AbortSignal): Promise<RetryDecision> {
    if (signal?.aborted) return { retry: false, reason: 'aborted' };
    if (!(await this.isRetryable(error, attempt))) return { retry: false, reason: 'permanent' };
    if (attempt > this.options.limit) return { retry: false, reason: 'limit' };
    const retryAfter = (error as TransportError).retryAfter;
    if (retryAfter !== undefined && retryAfter > this.options.maxRetryAfter) return { retry: false, reason: 'retry-after' };
    const delay = Math.max(this.backoffDelay(attempt), retryAfter ?? 0);
    if (this.clock.now() + delay - startedAt > this.options.deadline) return { retry: false, reason: 'deadline' };
    return { retry: true, delay };
  }

  /**
   * Calls `operation(attempt)` until it resolves or the policy gives up, then throws the last
   * failure as it is. An abort during a wait also throws the last failure (the operation's own
   * outcome, not the abort); an abort before the first attempt throws the signal's reason.
   */
  async run<T>(operation: (attempt: number) => Promise<T>, options: RetryRunOptions = {}): Promise<T> {
    const { signal } = options;
    if (signal?.aborted) throw signal.reason;
    const startedAt = this.clock.now();
    for (let attempt = 1; ; attempt++) {
      try {
        return await operation(attempt);
      } catch (error) {
        options.onFailure?.(error, attempt);
        const decision = await this.decide(error, attempt, startedAt, signal);
        if (!decision.retry) {
          options.onGiveUp?.(error, decision.reason);
          throw error;
        }
        await this.options.onRetry?.({
          error: error as TransportError,
          attempt,
          delay: decision.delay,
          retryAfter: (error as TransportError).retryAfter,
        });
        options.onWait?.(decision.delay, attempt, error);
        try {
          await this.clock.sleep(decision.delay, signal);
        } catch {
          options.onGiveUp?.(error, 'aborted');
          throw error;
        }
      }
    }
  }
}
