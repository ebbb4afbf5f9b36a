import { describe, expect, it } from 'vitest';
import { MailerConfigurationError } from '../../../lib/errors/mailer.error.js';
import { TokenBucketRateLimiter } from '../../../lib/retry/index.js';
import { FakeClock } from './fake-clock.js';

async function acquireMany(limiter: TokenBucketRateLimiter, n: number): Promise<void> {
  await Promise.all(Array.from({ length: n }, () => limiter.acquire()));
}

describe('TokenBucketRateLimiter', () => {
  it('lets a burst through, then one mail per token', async () => {
    const clock = new FakeClock();
    const limiter = new TokenBucketRateLimiter({ perSecond: 2, burst: 1, clock });
    await acquireMany(limiter, 5);
    expect(clock.sleeps).toEqual([500, 500, 500, 500]);
  });

  it('perMinute, with a burst of 3', async () => {
    const clock = new FakeClock();
    const limiter = new TokenBucketRateLimiter({ perMinute: 60, burst: 3, clock });
    await acquireMany(limiter, 5);
    expect(clock.sleeps).toEqual([1000, 1000]);
  });

  it('refills while idle, up to the burst', async () => {
    const clock = new FakeClock();
    const limiter = new TokenBucketRateLimiter({ perSecond: 10, burst: 2, clock });
    await acquireMany(limiter, 2);
    clock.time += 60_000;
    await acquireMany(limiter, 3);
    expect(clock.sleeps).toEqual([100]);
  });

  it('a penalty halves the rate for the cool-down and pauses for the Retry-After', async () => {
    const clock = new FakeClock();
    const limiter = new TokenBucketRateLimiter({ perSecond: 2, burst: 1, cooldown: 10_000, clock });
    await limiter.acquire();
    limiter.penalize(3000);
    expect(limiter.currentRate).toBe(1);
    await limiter.acquire();
    await limiter.acquire();
    expect(clock.sleeps).toEqual([3000, 1000]);
    clock.time += 10_000;
    expect(limiter.currentRate).toBe(2);
  });

  it('without a rate, waits only after a penalty', async () => {
    const clock = new FakeClock();
    const limiter = new TokenBucketRateLimiter({ clock });
    await acquireMany(limiter, 20);
    expect(clock.sleeps).toEqual([]);
    limiter.penalize(1500);
    await acquireMany(limiter, 3);
    expect(clock.sleeps).toEqual([1500]);
    expect(limiter.currentRate).toBe(Infinity);
  });

  it('an aborted acquire rejects and does not block the callers behind it', async () => {
    const clock = new FakeClock();
    const limiter = new TokenBucketRateLimiter({ perSecond: 1, burst: 1, clock });
    await limiter.acquire();
    await expect(limiter.acquire(AbortSignal.abort(new Error('gone')))).rejects.toThrow('gone');
    await limiter.acquire();
    expect(clock.sleeps).toEqual([1000]);
  });

  it.each([[{ perSecond: 0 }], [{ perSecond: 1, perMinute: 60 }], [{ perMinute: -1 }], [{ perSecond: 1, burst: 0 }], [{ cooldown: -1 }]])(
    'refuses %j',
    (options) => {
      expect(() => new TokenBucketRateLimiter(options)).toThrow(MailerConfigurationError);
    },
  );
});
