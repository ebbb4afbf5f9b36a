import { describe, expect, it } from 'vitest';
import type { Classification } from '../../../lib/core/classification.types.js';
import {
  InvalidMailError, MailCancelledError, MailerConfigurationError, TemplateNotFoundError, TemplateRenderError,
  SuppressionUnavailableError, TransportError, UnsupportedFeatureError,
} from '../../../lib/errors/index.js';
import { isRetryableInQueue, planQueueRetry, queueBackoffStrategy } from '../../../lib/queue/mailer-queue.retry.js';

const deferred: Classification = { kind: 'deferred', bounce: 'soft', reason: 'blocked', retryable: true, action: 'retry', replyCode: 451 };
const hard: Classification = { kind: 'bounced', bounce: 'hard', reason: 'userunknown', retryable: false, action: 'suppress', replyCode: 550 };
const transient = (extra: Partial<ConstructorParameters<typeof TransportError>[1]> = {}) =>
  new TransportError('451', { transport: 'default', failure: 'envelope', classification: deferred, ...extra });

describe('planQueueRetry', () => {
  it('derives BullMQ attempts from the policy limit', () => {
    expect(planQueueRetry(undefined).attempts).toBe(3);
    expect(planQueueRetry({ limit: 7 }).attempts).toBe(8);
    expect(planQueueRetry({ limit: 0 })).toEqual({ attempts: 1, policy: undefined });
    expect(planQueueRetry(false)).toEqual({ attempts: 1 });
  });

  it('checks the options as the service does', () => {
    expect(() => planQueueRetry({ limit: -1 })).toThrow(MailerConfigurationError);
    expect(() => planQueueRetry({ backoff: { factor: 0.5 } })).toThrow(/MailerQueueModule retry: backoff\.factor/);
  });
});

describe('queueBackoffStrategy', () => {
  const policy = planQueueRetry({ limit: 5, backoff: { initial: 100, factor: 2, max: 1_000 }, jitter: 'none' }).policy!;
  const strategy = queueBackoffStrategy(policy);

  it('follows the policy backoff (retry n waits initial * factor^(n-1), capped)', () => {
    expect([1, 2, 3, 4, 5].map((n) => strategy(n, 'mailroom', transient()))).toEqual([100, 200, 400, 800, 1_000]);
  });

  it('waits for the Retry-After the server gave when it is longer, however long', () => {
    expect(strategy(1, 'mailroom', transient({ retryAfter: 90_000 }))).toBe(90_000);
    expect(strategy(4, 'mailroom', transient({ retryAfter: 50 }))).toBe(800);
  });

  it('applies jitter from the policy', () => {
    const jittered = queueBackoffStrategy(planQueueRetry({ backoff: { initial: 1_000 }, jitter: 'equal' }).policy!);
    for (let i = 0; i < 50; i++) {
      const d = jittered(1, 'mailroom', new Error('x'));
      expect(d).toBeGreaterThanOrEqual(500);
      expect(d).toBeLessThanOrEqual(1_000);
    }
  });
});

describe('isRetryableInQueue', () => {
  const policy = planQueueRetry({ limit: 3 }).policy!;

  it('retries transient transport failures and not permanent ones', async () => {
    expect(await isRetryableInQueue(transient(), 1, policy)).toBe(true);
    expect(await isRetryableInQueue(new TransportError('reset', { transport: 'd', failure: 'connection' }), 1, policy)).toBe(true);
    expect(await isRetryableInQueue(new TransportError('550', { transport: 'd', failure: 'envelope', classification: hard }), 1, policy)).toBe(false);
    expect(await isRetryableInQueue(new TransportError('tls', { transport: 'd', failure: 'tls' }), 1, policy)).toBe(false);
  });

  it('never retries what fails the same every time', async () => {
    for (const error of [
      new InvalidMailError('bad'), new TemplateNotFoundError('x'), new TemplateRenderError('x', 'y'),
      new MailCancelledError('no'), new UnsupportedFeatureError('postmark', 'amp'),
    ]) expect(await isRetryableInQueue(error, 1, policy)).toBe(false);
  });

  it('keeps the job on configuration errors and unexpected exceptions', async () => {
    expect(await isRetryableInQueue(new MailerConfigurationError('closed'), 1, policy)).toBe(true);
    expect(await isRetryableInQueue(new TypeError('oops'), 1, policy)).toBe(true);
  });

  it("keeps the job when the suppression list could not be read (onUnavailable: 'fail'): the recipient is not at fault", async () => {
    expect(await isRetryableInQueue(new SuppressionUnavailableError('Redis down; the mail was not sent'), 1, policy)).toBe(true);
  });

  it('asks shouldRetry first', async () => {
    const custom = planQueueRetry({ shouldRetry: (e) => (e.responseCode === 451 ? false : undefined) }).policy!;
    expect(await isRetryableInQueue(transient({ responseCode: 451 }), 1, custom)).toBe(false);
    expect(await isRetryableInQueue(transient({ responseCode: 452 }), 1, custom)).toBe(true);
  });

  it('retries nothing when retrying is off', async () => {
    expect(await isRetryableInQueue(transient(), 1, undefined)).toBe(false);
  });
});
