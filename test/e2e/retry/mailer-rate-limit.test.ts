import 'reflect-metadata';
import { Test } from '@nestjs/testing';
import { describe, expect, it } from 'vitest';
import {
  MailerConfigurationError, MailerModule, MailerService, TokenBucketRateLimiter, type MailerModuleOptions, type RateLimiter,
} from '../../../lib/index.js';
import { RESEND_KEY, ResendFake } from '../../support/provider-fakes/index.js';
import { FakeClock } from '../../unit/retry/fake-clock.js';
import { onCleanup, smtpSink as sink } from '../../support/cleanup.js';

async function boot(options: MailerModuleOptions): Promise<MailerService> {
  const moduleRef = await Test.createTestingModule({ imports: [MailerModule.forRoot({ defaults: { from: 'shop@example.com' }, ...options })] }).compile();
  await moduleRef.init();
  onCleanup(() => moduleRef.close());
  return moduleRef.get(MailerService);
}

const mail = (i: number) => ({ to: `user${i}@example.org`, subject: `#${i}`, text: 'x' });

describe('send-rate limits', () => {
  it('N sends at 2 per second with a burst of 1 wait for N − 1 tokens', async () => {
    const s = await sink();
    const clock = new FakeClock();
    const mailer = await boot({ transport: `${s.url}?tlsMode=none`, rateLimit: { perSecond: 2, burst: 1, clock } });
    await Promise.all([0, 1, 2, 3, 4].map((i) => mailer.send(mail(i))));
    await s.waitFor(5);
    expect(clock.sleeps).toEqual([500, 500, 500, 500]);
  });

  it('per transport: only the limited one waits; a RateLimiter of your own is used as it is', async () => {
    const clock = new FakeClock();
    const acquired: string[] = [];
    const shared: RateLimiter = { acquire: async () => { acquired.push('shared'); }, penalize: () => undefined };
    const mailer = await boot({
      transports: { default: 'memory://', bulk: 'memory://', shared: 'memory://' },
      rateLimit: { clock, transports: { bulk: { perMinute: 60, burst: 2 }, shared } },
    });
    for (let i = 0; i < 4; i++) await mailer.send(mail(i));
    expect(clock.sleeps).toEqual([]);
    for (let i = 0; i < 4; i++) await mailer.send(mail(i), { transport: 'bulk' });
    expect(clock.sleeps).toEqual([1000, 1000]);
    await mailer.send(mail(9), { transport: 'shared' });
    expect(acquired).toEqual(['shared']);
  });

  it('a 421 4.7.0 (at MAIL FROM) halves the rate for the cool-down instead of hammering', async () => {
    let senders = 0;
    const s = await sink({ mailFrom: () => (++senders === 2 ? { code: 421, message: '4.7.0 Too many messages, slow down' } : undefined) });
    const clock = new FakeClock();
    const mailer = await boot({
      transport: `${s.url}?tlsMode=none`,
      rateLimit: { perSecond: 4, burst: 1, cooldown: 30_000 },
      retry: { clock, jitter: 'none', backoff: { initial: 100 } },
    });
    await mailer.send(mail(0));
    const second = await mailer.send(mail(1));
    await mailer.send(mail(2));
    expect(second.attempts.map((a) => a.ok)).toEqual([false, true]);
    // first: no wait; second: a token (250 ms); after the 421: backoff 100 ms, then a token at the
    // halved rate (500 ms after the penalty: 400 more); third: a token at the halved rate (500 ms).
    expect(clock.sleeps).toEqual([250, 100, 400, 500]);
  });

  it('an HTTP 429 pauses the transport for its Retry-After even without a configured rate', async () => {
    const fake = await new ResendFake().start();
    onCleanup(() => fake.stop());
    const clock = new FakeClock();
    const mailer = await boot({ transport: `resend+api://${RESEND_KEY}@${new URL(fake.url).host}`, retry: false, rateLimit: { clock } });
    fake.failNext({ status: 429, headers: { 'retry-after': '2' }, body: { statusCode: 429, name: 'rate_limit_exceeded', message: 'Too many requests.' } });
    await expect(mailer.send(mail(0))).rejects.toThrow(/429/);
    await mailer.send(mail(1));
    expect(clock.sleeps).toEqual([2000]);
  });

  it('sendBatch takes one token per mail', async () => {
    const clock = new FakeClock();
    const mailer = await boot({ transport: 'memory://', rateLimit: { perSecond: 2, burst: 1, clock } });
    const outcomes = await mailer.sendBatch([0, 1, 2, 3].map(mail), { concurrency: 4 });
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(clock.sleeps).toEqual([500, 500, 500]);
  });

  it('settings that cannot work stop start-up', async () => {
    await expect(boot({ transport: 'memory://', rateLimit: { perSecond: 0 } })).rejects.toBeInstanceOf(MailerConfigurationError);
    await expect(boot({ transport: 'memory://', rateLimit: { transports: { nope: { perSecond: 1 } } } })).rejects.toThrow(/no transport is named "nope"/);
    expect(new TokenBucketRateLimiter({ perSecond: 5 }).burst).toBe(5);
  });
});
