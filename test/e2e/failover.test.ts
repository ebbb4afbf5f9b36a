import { describe, expect, it } from 'vitest';
import type { OutgoingMail } from '../../lib/core/mail.types.js';
import type { TransportResult } from '../../lib/core/send-result.types.js';
import type { Transport } from '../../lib/core/transport.types.js';
import { InvalidMailError, TransportError } from '../../lib/errors/mailer.error.js';
import { FailoverTransport } from '../../lib/transports/failover.transport.js';
import { MemoryTransport } from '../../lib/transports/memory.transport.js';
import { RoundRobinTransport } from '../../lib/transports/roundrobin.transport.js';
import { createTransport } from '../../lib/transports/transport.config.js';
import {
  POSTMARK_TOKEN, PostmarkFake, SENDGRID_KEY, SendGridFake, leakedIn, outgoingMail, type FakeHttpServer,
} from '../support/provider-fakes/index.js';
import { startSmtpSink } from '../support/smtp-sink.js';
import { onCleanup, smtpSink as sink } from '../support/cleanup.js';

/** A port where nothing listens: a sink that was started and stopped. */
async function deadSmtpPort(): Promise<number> {
  const s = await startSmtpSink({ starttls: false });
  const port = s.port;
  await s.stop();
  return port;
}

async function fake<T extends FakeHttpServer>(server: T): Promise<T> {
  await server.start();
  onCleanup(() => server.stop());
  return server;
}

function host(server: FakeHttpServer): string {
  return new URL(server.url).host;
}

function transport<T extends Transport = Transport>(url: string, name = 'default'): T {
  const t = createTransport(name, url);
  onCleanup(() => t.close());
  return t as T;
}

/** A custom transport written by a user: it throws whatever it likes. */
class ThrowingTransport implements Transport {
  readonly kind = 'custom';
  calls = 0;
  constructor(readonly name: string, private readonly error: unknown) {}
  async send(_mail: OutgoingMail): Promise<TransportResult> {
    this.calls++;
    throw this.error;
  }
  async verify(): Promise<void> {
    throw this.error;
  }
  async close(): Promise<void> {}
}

describe('failover over real servers', () => {
  it('an SMTP server that is down → the Postmark fake delivers, and the result names it and the failed attempt', async () => {
    const port = await deadSmtpPort();
    const postmark = await fake(new PostmarkFake());
    const t = transport(`failover(smtp://127.0.0.1:${port}?tlsMode=none postmark+api://${POSTMARK_TOKEN}@${host(postmark)})`);
    const result = await t.send(outgoingMail());
    expect(result.deliveredBy).toBe('default[1]');
    expect(result.providerMessageId).toMatch(/^pm-/);
    expect(result.attempts).toHaveLength(2);
    expect(result.attempts![0]).toMatchObject({ transport: 'default[0]', kind: 'smtp', ok: false, error: { code: 'MAILER_TRANSPORT', failure: 'connection' } });
    expect(result.attempts![1]).toEqual({ transport: 'default[1]', kind: 'postmark', ok: true });
    expect(postmark.requests.filter((r) => r.path === '/email')).toHaveLength(1);
  });

  it('an API that answers 503 → the next one delivers', async () => {
    const sendgrid = await fake(new SendGridFake());
    const postmark = await fake(new PostmarkFake());
    sendgrid.failNext({ status: 503, body: { errors: [{ message: 'service unavailable' }] } });
    const t = transport(`failover(sendgrid+api://${encodeURIComponent(SENDGRID_KEY)}@${host(sendgrid)} postmark+api://${POSTMARK_TOKEN}@${host(postmark)})`);
    const result = await t.send(outgoingMail());
    expect(result.deliveredBy).toBe('default[1]');
    expect(result.attempts![0]).toMatchObject({ transport: 'default[0]', kind: 'sendgrid', ok: false, error: { failure: 'http' } });
    expect(result.attempts![0]!.error!.classification).toMatchObject({ retryable: true });
    expect(sendgrid.requests).toHaveLength(1);
    expect(postmark.requests).toHaveLength(1);
  });

  it('rejected credentials and a 429 fail over too; a Retry-After longer than retryPeriod keeps the transport out that long', async () => {
    let now = 1_000_000;
    const limited = await fake(new PostmarkFake());
    const backup = new MemoryTransport('backup');
    const wrongKey = await fake(new SendGridFake());
    const t = new FailoverTransport({
      name: 'default',
      now: () => now,
      retryPeriod: 1000,
      transports: [
        createTransport('limited', `postmark+api://${POSTMARK_TOKEN}@${host(limited)}`),
        createTransport('wrong-key', `sendgrid+api://SG.not-the-key@${host(wrongKey)}`),
        backup,
      ],
    });
    onCleanup(() => t.close());
    limited.failNext({ status: 429, headers: { 'Retry-After': '30' }, body: { ErrorCode: 429, Message: 'Rate limit exceeded.' } });
    const first = await t.send(outgoingMail());
    expect(first.deliveredBy).toBe('backup');
    expect(first.attempts!.map((a) => [a.transport, a.ok, a.error?.failure])).toEqual([
      ['limited', false, 'rate-limit'],
      ['wrong-key', false, 'auth'],
      ['backup', true, undefined],
    ]);
    now += 5_000; // past retryPeriod, within Retry-After
    const second = await t.send(outgoingMail());
    expect(second.attempts!.map((a) => a.transport)).toEqual(['wrong-key', 'backup']);
    now += 30_000;
    const third = await t.send(outgoingMail());
    expect(third.attempts!.map((a) => a.transport)).toEqual(['limited']);
    expect(third.deliveredBy).toBe('limited');
  });

  it('550 5.1.1 for every recipient → no failover, the error is thrown as it is', async () => {
    const s = await sink({ rcpt: () => ({ code: 550, message: '5.1.1 <nobody@example.com>: Recipient address rejected: User unknown' }) });
    const postmark = await fake(new PostmarkFake());
    const t = transport(`failover(smtp://127.0.0.1:${s.port}?tlsMode=none postmark+api://${POSTMARK_TOKEN}@${host(postmark)})`);
    const error = await t.send(outgoingMail()).catch((e: unknown) => e) as TransportError;
    expect(error).toBeInstanceOf(TransportError);
    expect(error.transport).toBe('default[0]');
    expect(error.failure).toBe('envelope');
    expect(error.classification).toMatchObject({ reason: 'userunknown', bounce: 'hard' });
    expect(error.attempts).toHaveLength(1);
    expect(postmark.requests).toHaveLength(0);
    // Not an outage: the SMTP transport is not skipped on the next send.
    await t.send(outgoingMail()).catch(() => undefined);
    expect(s.received).toHaveLength(0);
    expect((t as FailoverTransport).isDead((t as FailoverTransport).transports[0]!)).toBe(false);
  });

  it('Postmark 406 (every recipient inactive) and a 400 invalid address → no failover', async () => {
    const postmark = await fake(new PostmarkFake());
    postmark.inactive.add('alice@example.com').add('bob@example.com');
    const sendgrid = await fake(new SendGridFake());
    const backup = new MemoryTransport('backup');
    const t = new FailoverTransport({
      transports: [
        createTransport('pm', `postmark+api://${POSTMARK_TOKEN}@${host(postmark)}`),
        backup,
      ],
    });
    const inactive = await t.send(outgoingMail()).catch((e: unknown) => e) as TransportError;
    expect(inactive).toBeInstanceOf(TransportError);
    expect(inactive.providerCode).toBe('406');
    expect(backup.sent).toHaveLength(0);

    const u = new FailoverTransport({
      transports: [createTransport('sg', { type: 'sendgrid', apiKey: SENDGRID_KEY, baseUrl: sendgrid.url }), backup],
    });
    const invalid = await u.send(outgoingMail({ to: [{ address: 'bob@localhost' }] })).catch((e: unknown) => e) as TransportError;
    expect(invalid).toBeInstanceOf(TransportError);
    expect(invalid.statusCode).toBe(400);
    expect(invalid.classification?.reason).toBe('userunknown');
    expect(backup.sent).toHaveLength(0);
  });

  it('skips a failed transport for retryPeriod, then tries it again', async () => {
    let now = 0;
    const port = await deadSmtpPort();
    const backup = new MemoryTransport('backup');
    const t = new FailoverTransport({
      name: 'default',
      retryPeriod: 10_000,
      now: () => now,
      transports: [createTransport('primary', `smtp://127.0.0.1:${port}?tlsMode=none`), backup],
    });
    onCleanup(() => t.close());
    expect((await t.send(outgoingMail())).attempts!.map((a) => a.transport)).toEqual(['primary', 'backup']);
    now = 9_999;
    expect((await t.send(outgoingMail())).attempts!.map((a) => a.transport)).toEqual(['backup']);
    now = 10_001;
    expect((await t.send(outgoingMail())).attempts!.map((a) => a.transport)).toEqual(['primary', 'backup']);
    expect(backup.sent).toHaveLength(3);
  });

  it('when every transport is being skipped it tries them anyway, in order', async () => {
    const sendgrid = await fake(new SendGridFake());
    const postmark = await fake(new PostmarkFake());
    const t = transport(`failover(sendgrid+api://${encodeURIComponent(SENDGRID_KEY)}@${host(sendgrid)} postmark+api://${POSTMARK_TOKEN}@${host(postmark)})?retryPeriod=60000`);
    sendgrid.failNext({ status: 500, body: { errors: [{ message: 'internal server error' }] } });
    postmark.failNext({ status: 503, body: 'Service Unavailable' });
    const error = await t.send(outgoingMail()).catch((e: unknown) => e) as TransportError;
    expect(error).toBeInstanceOf(TransportError);
    expect(error.transport).toBe('default');
    expect(error.statusCode).toBe(503);
    expect(error.cause).toBeInstanceOf(TransportError);
    expect((error.cause as TransportError).transport).toBe('default[1]');
    expect(error.attempts!.map((a) => [a.transport, a.ok])).toEqual([['default[0]', false], ['default[1]', false]]);
    expect(error.message).toContain('default[0] (sendgrid)');
    expect(leakedIn(error, SENDGRID_KEY)).toEqual([]);
    expect(leakedIn(error, POSTMARK_TOKEN)).toEqual([]);
    // Both are now being skipped; the next send tries them anyway and the first one delivers.
    const result = await t.send(outgoingMail());
    expect(result.deliveredBy).toBe('default[0]');
    expect(result.attempts).toEqual([{ transport: 'default[0]', kind: 'sendgrid', ok: true }]);
  });

  it('a custom transport that throws a plain Error is wrapped into a TransportError and failed over', async () => {
    const flaky = new ThrowingTransport('flaky', new Error('socket hang up in my own client'));
    const backup = new MemoryTransport('backup');
    const t = new FailoverTransport({ name: 'default', transports: [flaky, backup] });
    const result = await t.send(outgoingMail());
    expect(result.deliveredBy).toBe('backup');
    expect(result.attempts![0]).toMatchObject({
      transport: 'flaky', kind: 'custom', ok: false,
      error: { code: 'MAILER_TRANSPORT', failure: 'unknown', message: expect.stringContaining('socket hang up') },
    });

    const strings = new ThrowingTransport('strings', 'not even an Error');
    const all = new FailoverTransport({ name: 'default', transports: [flaky, strings] });
    const error = await all.send(outgoingMail()).catch((e: unknown) => e) as TransportError;
    expect(error).toBeInstanceOf(TransportError);
    expect(error.failure).toBe('unknown');
    expect((error.cause as TransportError).cause).toBe('not even an Error');
  });

  it('an invalid mail is not an outage: thrown as it is, nothing else tried', async () => {
    const invalid = new ThrowingTransport('strict', new InvalidMailError('The attachment x could not be read', 'attachments'));
    const backup = new MemoryTransport('backup');
    const t = new FailoverTransport({ transports: [invalid, backup] });
    await expect(t.send(outgoingMail())).rejects.toBeInstanceOf(InvalidMailError);
    expect(backup.sent).toHaveLength(0);
  });

  it('verify() passes while one transport verifies; close() closes every transport', async () => {
    const port = await deadSmtpPort();
    const postmark = await fake(new PostmarkFake());
    const t = transport<FailoverTransport>(`failover(smtp://127.0.0.1:${port}?tlsMode=none postmark+api://${POSTMARK_TOKEN}@${host(postmark)})`);
    await expect(t.verify()).resolves.toBeUndefined();
    const each = await t.verifyEach();
    expect(each.map((r) => [r.transport, r.ok])).toEqual([['default[0]', false], ['default[1]', true]]);
    const bad = transport<FailoverTransport>(`failover(smtp://127.0.0.1:${port}?tlsMode=none postmark+api://wrong-token@${host(postmark)})`);
    const error = await bad.verify().catch((e: unknown) => e) as TransportError;
    expect(error).toBeInstanceOf(TransportError);
    expect(error.failure).toBe('auth');
    expect(error.attempts).toHaveLength(2);

    const closed: string[] = [];
    const child = (name: string): Transport => ({ name, kind: 'x', send: async () => { throw new Error('no'); }, verify: async () => {}, close: async () => { closed.push(name); if (name === 'a') throw new Error('close failed'); } });
    await new RoundRobinTransport({ transports: [child('a'), child('b')] }).close();
    expect(closed).toEqual(['a', 'b']);
  });
});

describe('round-robin over real servers', () => {
  it('alternates between two SMTP sinks', async () => {
    const a = await sink();
    const b = await sink();
    const t = transport(`roundrobin(smtp://127.0.0.1:${a.port}?tlsMode=none smtp://127.0.0.1:${b.port}?tlsMode=none)`);
    const by: string[] = [];
    for (let i = 0; i < 6; i++) by.push((await t.send(outgoingMail())).deliveredBy!);
    for (let i = 1; i < by.length; i++) expect(by[i]).not.toBe(by[i - 1]);
    await a.waitFor(3);
    await b.waitFor(3);
    expect(a.received).toHaveLength(3);
    expect(b.received).toHaveLength(3);
  });

  it('skips a dead transport and fails over within the same send', async () => {
    const port = await deadSmtpPort();
    const up = await sink();
    const t = transport(`roundrobin(smtp://127.0.0.1:${port}?tlsMode=none smtp://127.0.0.1:${up.port}?tlsMode=none)`);
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await t.send(outgoingMail()));
    expect(results.every((r) => r.deliveredBy === 'default[1]')).toBe(true);
    // The dead one was tried once, then skipped.
    expect(results.flatMap((r) => r.attempts!).filter((a) => !a.ok)).toHaveLength(1);
    await up.waitFor(4);
  });
});

describe('batches through failover', () => {
  it('mails that failed as a whole on the first transport go to the next one, each with its own attempts', async () => {
    const postmark = await fake(new PostmarkFake());
    const sendgrid = await fake(new SendGridFake());
    const t = transport<FailoverTransport>(`failover(postmark+api://${POSTMARK_TOKEN}@${host(postmark)} sendgrid+api://${encodeURIComponent(SENDGRID_KEY)}@${host(sendgrid)})`);
    postmark.failNext({ status: 503, body: 'down' });
    // SendGrid puts mails with the same content into one request; the bad one has its own.
    const mails = [outgoingMail(), outgoingMail({ to: [{ address: 'carol@example.com' }] }), outgoingMail({ subject: 'Other', to: [{ address: 'x@localhost' }] })];
    const outcomes = await t.sendBatch(mails);
    expect(postmark.requests.map((r) => r.path)).toEqual(['/email/batch']);
    expect(sendgrid.requests.map((r) => r.path)).toEqual(['/v3/mail/send', '/v3/mail/send']);
    expect(outcomes.map((o) => o.ok)).toEqual([true, true, false]);
    for (const o of outcomes.slice(0, 2)) {
      if (!o.ok) throw new Error('expected ok');
      expect(o.result.deliveredBy).toBe('default[1]');
      expect(o.result.attempts!.map((a) => [a.transport, a.ok])).toEqual([['default[0]', false], ['default[1]', true]]);
    }
    const failed = outcomes[2]!;
    if (failed.ok) throw new Error('expected a failure');
    expect((failed.error as TransportError).statusCode).toBe(400);
    expect(failed.attempts!.map((a) => a.transport)).toEqual(['default[0]', 'default[1]']);
  });

  it('a mail refused for itself inside a batch is not failed over; the others are delivered by the first transport', async () => {
    const postmark = await fake(new PostmarkFake());
    postmark.inactive.add('ghost@example.com');
    const backup = new MemoryTransport('backup');
    const t = new FailoverTransport({ transports: [createTransport('pm', `postmark+api://${POSTMARK_TOKEN}@${host(postmark)}`), backup] });
    const outcomes = await t.sendBatch([outgoingMail(), outgoingMail({ to: [{ address: 'ghost@example.com' }] })]);
    expect(outcomes[0]).toMatchObject({ ok: true, result: { deliveredBy: 'pm' } });
    expect(outcomes[1]).toMatchObject({ ok: false, error: { providerCode: '406' } });
    expect(backup.sent).toHaveLength(0);
  });
});
