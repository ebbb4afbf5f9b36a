import { MailerConfigurationError } from '../errors/mailer.error.js';
import type { OptionHints, OptionShape } from '../errors/option.checker.js';
import { systemClock, type RetryClock } from './retry.clock.js';

/**
 * A send-rate limit. `acquire` resolves when one more mail may go out; `penalize` is called when
 * the server said "slow down" (SMTP 421 4.7.0, HTTP 429) with the wait it asked for, 0 when it
 * named none. Implement it over Redis to share one limit between processes.
 */
export interface RateLimiter {
  acquire(signal?: AbortSignal): Promise<void>;
  penalize(ms: number): void;
}

export interface RateLimitOptions {
  /** Mails per second. Give this or `perMinute`. */
  perSecond?: number;
  /** Mails per minute. */
  perMinute?: number;
  /** Mails that may go out at once after a quiet period. Default: one second's worth, at least 1. */
  burst?: number;
  /**
   * After a "slow down" answer the rate is halved (once per penalty, down to one mail per minute at
   * the least) for this many milliseconds, or for the server's Retry-After when that is longer.
   * Default 60 000.
   */
  cooldown?: number;
  /** For tests. Default: `setTimeout` and `Date.now`. */
  clock?: RetryClock;
}

export const RATE_LIMIT_OPTION_SHAPE = {
  perSecond: 'number',
  perMinute: 'number',
  burst: 'number',
  cooldown: 'number',
  clock: 'object',
} as const satisfies OptionShape<RateLimitOptions>;

/** Names from nodemailer's pool and from BullMQ's limiter, with what to write here. */
export const RATE_LIMIT_HINTS: OptionHints = {
  rateLimit: 'is nodemailer\'s name; write perSecond (or perMinute) here.',
  rateDelta: 'is nodemailer\'s window; write perSecond or perMinute here.',
  max: 'is BullMQ\'s name; write perSecond or perMinute here (with burst for how many may go at once).',
  duration: 'is BullMQ\'s window; write perSecond or perMinute here.',
  limit: 'is written perSecond or perMinute here.',
  interval: 'is written perSecond or perMinute here.',
};

export const DEFAULT_RATE_COOLDOWN = 60_000;
const MIN_RATE_PER_MS = 1 / 60_000;

/**
 * A token bucket: `burst` tokens, refilled at the configured rate; each mail takes one and waits
 * for the next token when none is left. Without a rate it never waits except after a penalty, so
 * every transport can slow down on its own when a server asks it to. Callers are served in order.
 */
export class TokenBucketRateLimiter implements RateLimiter {
  /** Tokens per millisecond as configured; undefined when unlimited. */
  readonly baseRate?: number;
  readonly burst: number;
  readonly cooldown: number;
  private readonly clock: RetryClock;
  private tokens: number;
  private refilledAt: number;
  private rate?: number;
  private slowUntil = 0;
  private pausedUntil = 0;
  private queue: Promise<void> = Promise.resolve();

  constructor(options: RateLimitOptions = {}, where = 'rateLimit') {
    const { perSecond, perMinute } = options;
    if (perSecond !== undefined && perMinute !== undefined) throw new MailerConfigurationError(`${where}: give perSecond or perMinute, not both.`);
    const per = perSecond ?? perMinute;
    if (per !== undefined && !(typeof per === 'number' && per > 0 && Number.isFinite(per))) {
      throw new MailerConfigurationError(`${where}: ${perSecond !== undefined ? 'perSecond' : 'perMinute'} must be a positive number.`);
    }
    this.baseRate = perSecond !== undefined ? perSecond / 1000 : perMinute !== undefined ? perMinute / 60_000 : undefined;
    this.burst = options.burst ?? Math.max(1, Math.floor((this.baseRate ?? 0) * 1000));
    if (!(Number.isFinite(this.burst) && this.burst >= 1)) throw new MailerConfigurationError(`${where}: burst must be a number, 1 or more.`);
    this.cooldown = options.cooldown ?? DEFAULT_RATE_COOLDOWN;
    if (!(this.cooldown >= 0)) throw new MailerConfigurationError(`${where}: cooldown must be a number of milliseconds, 0 or more.`);
    this.clock = options.clock ?? systemClock;
    this.rate = this.baseRate;
    this.tokens = this.burst;
    this.refilledAt = this.clock.now();
  }

  /** Mails per second right now (Infinity when unlimited); lower than configured during a cool-down. */
  get currentRate(): number {
    this.restore(this.clock.now());
    return this.rate === undefined ? Infinity : this.rate * 1000;
  }

  acquire(signal?: AbortSignal): Promise<void> {
    const turn = this.queue.then(() => this.take(signal));
    // The next caller waits for this one's turn, whether it got a token or was aborted.
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  penalize(ms: number): void {
    const now = this.clock.now();
    const wait = Number.isFinite(ms) && ms > 0 ? ms : 0;
    this.pausedUntil = Math.max(this.pausedUntil, now + wait);
    if (this.rate !== undefined) {
      this.refill(now);
      this.rate = Math.max(MIN_RATE_PER_MS, this.rate / 2);
      this.tokens = Math.min(this.tokens, 0);
      this.slowUntil = now + Math.max(this.cooldown, wait);
    }
  }

  private restore(now: number): void {
    if (this.rate !== this.baseRate && now >= this.slowUntil) {
      this.refill(now);
      this.rate = this.baseRate;
    }
  }

  private refill(now: number): void {
    if (this.rate !== undefined) this.tokens = Math.min(this.burst, this.tokens + (now - this.refilledAt) * this.rate);
    this.refilledAt = now;
  }

  private async take(signal?: AbortSignal): Promise<void> {
    for (;;) {
      if (signal?.aborted) throw signal.reason;
      const now = this.clock.now();
      if (now < this.pausedUntil) {
        await this.clock.sleep(this.pausedUntil - now, signal);
        continue;
      }
      this.restore(now);
      if (this.rate === undefined) return;
      this.refill(now);
      if (this.tokens >= 1 - 1e-9) {
        this.tokens -= 1;
        return;
      }
      await this.clock.sleep(Math.ceil((1 - this.tokens) / this.rate), signal);
    }
  }
}
