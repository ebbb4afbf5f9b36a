import 'reflect-metadata';
import { Readable } from 'node:stream';
import { Test, type TestingModule } from '@nestjs/testing';
import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import {
  InvalidMailError, MailerConfigurationError, MailerModule, MailerService, TransportError, type MailEvent, type MailerModuleOptions,
  type RetryEvent,
} from '../../../lib/index.js';
import { RESEND_KEY, ResendFake, resendAnswers } from '../../support/provider-fakes/index.js';
import { startSmtpSink, type SmtpSinkOptions } from '../../support/smtp-sink.js';
import { FakeClock } from '../../unit/retry/fake-clock.js';
import { onCleanup, smtpSink as sink } from '../../support/cleanup.js';

async function boot(options: MailerModuleOptions): Promise<MailerService> {
  const moduleRef: TestingModule = await Test.createTestingModule({ imports: [MailerModule.forRoot(options)] }).compile();
  await moduleRef.init();
  onCleanup(() => moduleRef.close());
  return moduleRef.get(MailerService);
}

/** 451 4.7.1 on the first RCPT TO for each address, 250 from then on: greylisting as Postgrey does it. */
function greylisting(): { rcpt: SmtpSinkOptions['rcpt']; asked: string[] } {
  const seen = new Set<string>();
  const asked: string[] = [];
  return {
    asked,
    rcpt: (address) => {
      asked.push(address);
      if (seen.has(address)) return undefined;
      seen.add(address);
      return { code: 451, message: '4.7.1 Greylisted, please try again later' };
    },
  };
}

const from = 'shop@example.com';

describe('MailerService retries over a real SMTP server', () => {
  it('a greylisting server: delivered on the second attempt, with the same Message-ID', async () => {
    const grey = greylisting();
    const s = await sink({ rcpt: grey.rcpt });
    const clock = new FakeClock();
    const retries: RetryEvent[] = [];
    const mailer = await boot({
      transport: `${s.url}?tlsMode=none`, defaults: { from },
      retry: { clock, jitter: 'none', onRetry: (e) => { retries.push(e); } },
    });
    const result = await mailer.send({ to: 'ada@example.org', subject: 'Hi', text: 'x' });
    const [mail] = await s.waitFor(1);
    expect(mail!.parsed.messageId).toBe(result.messageId);
    expect(grey.asked).toEqual(['ada@example.org', 'ada@example.org']);
    expect(result.accepted).toEqual(['ada@example.org']);
    expect(result.attempts.map((a) => [a.transport, a.ok])).toEqual([['default', false], ['default', true]]);
    expect(result.attempts[0]!.error).toMatchObject({ code: 'MAILER_TRANSPORT', classification: { replyCode: 451, retryable: true } });
    expect(clock.sleeps).toEqual([1000]);
    expect(retries.map((r) => [r.attempt, r.delay, r.error.responseCode])).toEqual([[1, 1000, 451]]);
  });

  it('a 451 after DATA: the whole message is sent again with the same Message-ID and attachment bytes', async () => {
    const ids: string[] = [];
    const attachments: string[] = [];
    let answered = 0;
    const s = await sink({
      extra: {
        onData: (stream, _session, callback) => {
          void simpleParser(Readable.from(stream)).then((parsed) => {
            ids.push(String(parsed.messageId));
            attachments.push(parsed.attachments.map((a) => `${a.filename}:${a.content.toString('utf8')}`).join(','));
            answered++;
            if (answered === 1) callback(Object.assign(new Error('4.3.0 Temporary failure, try again'), { responseCode: 451 }));
            else callback();
          });
        },
      },
    });
    const clock = new FakeClock();
    const mailer = await boot({ transport: `${s.url}?tlsMode=none`, defaults: { from }, retry: { clock, jitter: 'none' } });
    const result = await mailer.send({
      to: 'ada@example.org', subject: 'Hi', text: 'x',
      attachments: [{ filename: 'report.txt', content: Readable.from([Buffer.from('line 1\n'), Buffer.from('line 2\n')]) }],
    });
    expect(ids).toEqual([result.messageId, result.messageId]);
    // A stream is read once, at compose: the retry carries the same bytes.
    expect(attachments).toEqual(['report.txt:line 1\nline 2\n', 'report.txt:line 1\nline 2\n']);
    expect(result.attempts.map((a) => a.ok)).toEqual([false, true]);
    expect(result.attempts[0]!.error?.failure).toBe('message');
  });

  it('550 5.1.1: exactly one attempt, the error lists it', async () => {
    let rcpts = 0;
    const s = await sink({ rcpt: () => { rcpts++; return { code: 550, message: '5.1.1 User unknown' }; } });
    const clock = new FakeClock();
    const mailer = await boot({ transport: `${s.url}?tlsMode=none`, defaults: { from }, retry: { clock, limit: 5 } });
    const error = await mailer.send({ to: 'ghost@example.org', subject: 'Hi', text: 'x' }).then(() => undefined, (e: unknown) => e as TransportError) as TransportError;
    expect(error).toBeInstanceOf(TransportError);
    expect(rcpts).toBe(1);
    expect(clock.sleeps).toEqual([]);
    expect(error.attempts).toHaveLength(1);
    expect(error.attempts![0]).toMatchObject({ transport: 'default', ok: false, error: { classification: { bounce: 'hard', reason: 'userunknown' } } });
  });

  it('421 at greeting: backs off and connects again', async () => {
    let connections = 0;
    const s = await sink({ connect: () => (++connections === 1 ? { code: 421, message: '4.7.0 Too many connections, try later' } : undefined) });
    const clock = new FakeClock();
    const mailer = await boot({ transport: `${s.url}?tlsMode=none`, defaults: { from }, retry: { clock, jitter: 'none' } });
    const result = await mailer.send({ to: 'ada@example.org', subject: 'Hi', text: 'x' });
    await s.waitFor(1);
    expect(connections).toBe(2);
    expect(result.attempts.map((a) => a.ok)).toEqual([false, true]);
    expect(clock.sleeps).toHaveLength(1);
    expect(clock.sleeps[0]).toBeGreaterThanOrEqual(1000);
  });

  it('a connection dropped before DATA was answered: backs off and delivers once', async () => {
    const s = await sink({ drop: (stage, count) => stage === 'data' && count === 1 });
    const clock = new FakeClock();
    const mailer = await boot({ transport: `${s.url}?tlsMode=none`, defaults: { from }, retry: { clock, jitter: 'none' } });
    const result = await mailer.send({ to: 'ada@example.org', subject: 'Hi', text: 'x' });
    const received = await s.waitFor(1);
    expect(received).toHaveLength(1);
    expect(received[0]!.parsed.messageId).toBe(result.messageId);
    expect(result.attempts[0]!.error?.failure).toBe('connection');
    expect(clock.sleeps).toEqual([1000]);
  });

  it('a server that stays greylisting: gives up at the limit with every attempt listed', async () => {
    const s = await sink({ rcpt: () => ({ code: 451, message: '4.7.1 Greylisted' }) });
    const clock = new FakeClock();
    const events: MailEvent[] = [];
    const mailer = await boot({ transport: `${s.url}?tlsMode=none`, defaults: { from }, retry: { clock, jitter: 'none', limit: 3 } });
    mailer.events$.subscribe((e) => events.push(e));
    const error = await mailer.send({ to: 'ada@example.org', subject: 'Hi', text: 'x' }).then(() => undefined, (e: unknown) => e as TransportError) as TransportError;
    expect(error).toBeInstanceOf(TransportError);
    expect(error.attempts).toHaveLength(4);
    expect(clock.sleeps).toEqual([1000, 2000, 4000]);
    expect(events.map((e) => e.type)).toEqual(['mail.sending', 'mail.failed']);
  });

  it('the deadline stops retrying before a wait that would end after it', async () => {
    const s = await sink({ rcpt: () => ({ code: 451, message: '4.7.1 Greylisted' }) });
    const clock = new FakeClock();
    const mailer = await boot({ transport: `${s.url}?tlsMode=none`, defaults: { from }, retry: { clock, jitter: 'none', limit: 10, deadline: 2500 } });
    const error = await mailer.send({ to: 'ada@example.org', subject: 'Hi', text: 'x' }).then(() => undefined, (e: unknown) => e as TransportError) as TransportError;
    expect(error.attempts).toHaveLength(2);
    expect(clock.sleeps).toEqual([1000]);
  });

  it('an AbortSignal stops the wait at once and throws the last failure', async () => {
    const s = await sink({ rcpt: () => ({ code: 451, message: '4.7.1 Greylisted' }) });
    const controller = new AbortController();
    const mailer = await boot({ transport: `${s.url}?tlsMode=none`, defaults: { from }, retry: { backoff: { initial: 120_000, max: 120_000 }, jitter: 'none', deadline: Infinity } });
    const pending = mailer.send({ to: 'ada@example.org', subject: 'Hi', text: 'x' }, { signal: controller.signal, retry: { onRetry: () => controller.abort() } });
    const error = await pending.then(() => undefined, (e: unknown) => e as TransportError) as TransportError;
    expect(error).toBeInstanceOf(TransportError);
    expect(error.attempts).toHaveLength(1);
  });

  it('a partial delivery is not retried: the 451 recipient is listed as rejected, retryable', async () => {
    const asked: string[] = [];
    const s = await sink({ rcpt: (a) => { asked.push(a); return a === 'busy@example.org' ? { code: 451, message: '4.2.1 Mailbox busy, try later' } : undefined; } });
    const clock = new FakeClock();
    const mailer = await boot({ transport: `${s.url}?tlsMode=none`, defaults: { from }, retry: { clock } });
    const result = await mailer.send({ to: ['ada@example.org', 'busy@example.org'], subject: 'Hi', text: 'x' });
    await s.waitFor(1);
    expect(asked).toEqual(['ada@example.org', 'busy@example.org']);
    expect(result.accepted).toEqual(['ada@example.org']);
    expect(result.rejected).toMatchObject([{ address: 'busy@example.org', replyCode: 451, classification: { retryable: true, kind: 'deferred' } }]);
    expect(result.attempts).toEqual([{ transport: 'default', kind: 'smtp', ok: true }]);
    expect(clock.sleeps).toEqual([]);
    expect(s.received).toHaveLength(1);
  });

  it('every recipient refused with 451: the mail is retried', async () => {
    const grey = greylisting();
    const s = await sink({ rcpt: grey.rcpt });
    const clock = new FakeClock();
    const mailer = await boot({ transport: `${s.url}?tlsMode=none`, defaults: { from }, retry: { clock, jitter: 'none' } });
    const result = await mailer.send({ to: ['ada@example.org', 'bob@example.org'], subject: 'Hi', text: 'x' });
    expect(result.accepted).toEqual(['ada@example.org', 'bob@example.org']);
    expect(result.attempts.map((a) => a.ok)).toEqual([false, true]);
  });

  it('per transport and per send: retry: false sends once; a send may turn it back on', async () => {
    const greyA = greylisting();
    const greyB = greylisting();
    const a = await sink({ rcpt: greyA.rcpt });
    const b = await sink({ rcpt: greyB.rcpt });
    const clock = new FakeClock();
    const mailer = await boot({
      transports: { default: `${a.url}?tlsMode=none`, bulk: `${b.url}?tlsMode=none` },
      defaults: { from },
      retry: { clock, jitter: 'none', transports: { bulk: false } },
    });
    await expect(mailer.send({ to: 'x@example.org', subject: 'Hi', text: 'x' }, { transport: 'bulk' })).rejects.toBeInstanceOf(TransportError);
    await expect(mailer.send({ to: 'y@example.org', subject: 'Hi', text: 'x' }, { retry: false })).rejects.toBeInstanceOf(TransportError);
    expect(clock.sleeps).toEqual([]);
    const again = await mailer.send({ to: 'z@example.org', subject: 'Hi', text: 'x' }, { transport: 'bulk', retry: { limit: 1 } });
    expect(again.attempts.map((x) => x.ok)).toEqual([false, true]);
    expect(clock.sleeps).toEqual([1000]);
  });

  it('retry: false at the module sends once; limit 0 with one transport entry retries through that one only', async () => {
    const greyA = greylisting();
    const greyB = greylisting();
    const a = await sink({ rcpt: greyA.rcpt });
    const b = await sink({ rcpt: greyB.rcpt });
    const clock = new FakeClock();
    const mailer = await boot({
      transports: { default: `${a.url}?tlsMode=none`, bulk: `${b.url}?tlsMode=none` },
      defaults: { from },
      retry: false,
      rateLimit: { clock },
    });
    const once = await mailer.send({ to: 'x@example.org', subject: 'Hi', text: 'x' }).then(() => undefined, (e: unknown) => e as TransportError) as TransportError;
    expect(once.attempts).toHaveLength(1);
    expect(greyA.asked).toEqual(['x@example.org']);

    const mailer2 = await boot({
      transports: { default: `${a.url}?tlsMode=none`, bulk: `${b.url}?tlsMode=none` },
      defaults: { from },
      retry: { clock, jitter: 'none', limit: 0, transports: { bulk: { limit: 1 } } },
    });
    const viaBulk = await mailer2.send({ to: 'y@example.org', subject: 'Hi', text: 'x' }, { transport: 'bulk' });
    expect(viaBulk.attempts.map((x) => x.ok)).toEqual([false, true]);
    expect(clock.sleeps).toEqual([1000]);
  });

  it('retry settings that cannot work stop start-up; a bad per-send value fails before sending', async () => {
    await expect(boot({ transport: 'memory://', retry: { limit: -1 } })).rejects.toBeInstanceOf(MailerConfigurationError);
    await expect(boot({ transport: 'memory://', retry: { transports: { nope: {} } } })).rejects.toThrow(/no transport is named "nope"/);
    const mailer = await boot({ transport: 'memory://', defaults: { from } });
    await expect(mailer.send({ to: 'a@example.org', subject: 's', text: 'x' }, { retry: { jitter: 'x' as never } })).rejects.toBeInstanceOf(MailerConfigurationError);
    await expect(mailer.send({ to: 'not an address', subject: 's', text: 'x' })).rejects.toBeInstanceOf(InvalidMailError);
  });

  it('failover and retry compose: every round names every transport tried', async () => {
    const dead = await startSmtpSink({ starttls: false });
    const deadPort = dead.port;
    await dead.stop();
    const grey = greylisting();
    const s = await sink({ rcpt: grey.rcpt });
    const clock = new FakeClock();
    const mailer = await boot({
      transport: `failover(smtp://127.0.0.1:${deadPort}?tlsMode=none ${s.url}?tlsMode=none)`,
      defaults: { from },
      retry: { clock, jitter: 'none' },
    });
    const result = await mailer.send({ to: 'ada@example.org', subject: 'Hi', text: 'x' });
    const [mail] = await s.waitFor(1);
    expect(mail!.parsed.messageId).toBe(result.messageId);
    expect(result.transport).toBe('default[1]');
    expect(result.attempts[0]).toMatchObject({ transport: 'default[0]', ok: false, error: { failure: 'connection' } });
    expect(result.attempts[1]).toMatchObject({ transport: 'default[1]', ok: false });
    expect(result.attempts.at(-1)).toEqual({ transport: 'default[1]', kind: 'smtp', ok: true });
  });
});

describe('MailerService retries over an HTTP API', () => {
  async function resend(): Promise<ResendFake> {
    const fake = await new ResendFake().start();
    onCleanup(() => fake.stop());
    return fake;
  }

  it('429 with Retry-After: the wait honours it, and the Idempotency-Key stays the same', async () => {
    const fake = await resend();
    const clock = new FakeClock();
    const mailer = await boot({
      transport: `resend+api://${RESEND_KEY}@${new URL(fake.url).host}`,
      defaults: { from },
      retry: { clock, jitter: 'none', backoff: { initial: 50 } },
    });
    fake.failNext({ ...resendAnswers.rateLimited, headers: { ...resendAnswers.rateLimited.headers, 'retry-after': '3' } });
    const result = await mailer.send({ to: 'ada@example.org', subject: 'Hi', text: 'x' });
    const sends = fake.requests.filter((r) => r.path === '/emails');
    expect(sends).toHaveLength(2);
    expect(sends[0]!.headers['idempotency-key']).toBe(result.messageId.slice(1, -1));
    expect(sends[1]!.headers['idempotency-key']).toBe(sends[0]!.headers['idempotency-key']);
    expect(clock.sleeps).toEqual([3000]);
    expect(fake.delivered).toHaveLength(1);
    expect(result.attempts[0]!.error).toMatchObject({ failure: 'rate-limit' });
  });

  it('503 then 200: retried with backoff', async () => {
    const fake = await resend();
    const clock = new FakeClock();
    const mailer = await boot({ transport: `resend+api://${RESEND_KEY}@${new URL(fake.url).host}`, defaults: { from }, retry: { clock, jitter: 'none' } });
    fake.failNext(resendAnswers.serverError, { status: 503, body: 'Service Unavailable' });
    const result = await mailer.send({ to: 'ada@example.org', subject: 'Hi', text: 'x' });
    expect(result.attempts.map((a) => a.ok)).toEqual([false, false, true]);
    expect(clock.sleeps).toEqual([1000, 2000]);
  });

  it('a Retry-After longer than maxRetryAfter is not waited for', async () => {
    const fake = await resend();
    const clock = new FakeClock();
    const mailer = await boot({ transport: `resend+api://${RESEND_KEY}@${new URL(fake.url).host}`, defaults: { from }, retry: { clock, maxRetryAfter: 10_000 } });
    fake.failNext({ ...resendAnswers.rateLimited, headers: { 'retry-after': '3600' } });
    const error = await mailer.send({ to: 'ada@example.org', subject: 'Hi', text: 'x' }).then(() => undefined, (e: unknown) => e as TransportError) as TransportError;
    expect(error.retryAfter).toBe(3_600_000);
    expect(fake.requests.filter((r) => r.path === '/emails')).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('an abort while the API request is in flight ends it, without a retry', async () => {
    const fake = await resend();
    const clock = new FakeClock();
    const mailer = await boot({ transport: `resend+api://${RESEND_KEY}@${new URL(fake.url).host}`, defaults: { from }, retry: { clock } });
    fake.failNext({ hang: true });
    const controller = new AbortController();
    const pending = mailer.send({ to: 'ada@example.org', subject: 'Hi', text: 'x' }, { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    const error = await pending.then(() => undefined, (e: unknown) => e as TransportError) as TransportError;
    expect(error).toBeInstanceOf(TransportError);
    expect(error.message).toMatch(/aborted/);
    expect(error.attempts).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('422 (invalid request) is not retried', async () => {
    const fake = await resend();
    const clock = new FakeClock();
    const mailer = await boot({ transport: `resend+api://${RESEND_KEY}@${new URL(fake.url).host}`, defaults: { from }, retry: { clock } });
    fake.failNext({ status: 422, body: { statusCode: 422, name: 'validation_error', message: 'Invalid `to` field.' } });
    await expect(mailer.send({ to: 'ada@example.org', subject: 'Hi', text: 'x' })).rejects.toBeInstanceOf(TransportError);
    expect(fake.requests).toHaveLength(1);
  });

  it('sendBatch: mails that failed transiently are retried one by one; a permanent failure keeps its outcome', async () => {
    const fake = await resend();
    const clock = new FakeClock();
    const mailer = await boot({ transport: `resend+api://${RESEND_KEY}@${new URL(fake.url).host}`, defaults: { from }, retry: { clock, jitter: 'none' } });
    fake.failNext({ status: 503, body: 'Service Unavailable' });
    const outcomes = await mailer.sendBatch([
      { to: 'a@example.org', subject: 'A', text: 'a' },
      { to: 'b@example.org', subject: 'B', text: 'b' },
    ]);
    for (const o of outcomes) {
      if (!o.ok) throw o.error;
      expect(o.result.attempts.map((a) => a.ok)).toEqual([false, true]);
    }
    expect(fake.requests.map((r) => r.path)).toEqual(['/emails/batch', '/emails', '/emails']);
    expect(clock.sleeps).toEqual([1000, 1000]);

    fake.reset();
    fake.failNext({ status: 422, body: { statusCode: 422, name: 'validation_error', message: 'Invalid `to` field.' } });
    const refused = await mailer.sendBatch([{ to: 'c@example.org', subject: 'C', text: 'c' }], { retry: { limit: 5 } });
    expect(refused[0]!.ok).toBe(false);
    expect(fake.requests).toHaveLength(1);
  });
});
