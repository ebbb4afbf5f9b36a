import 'reflect-metadata';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { Test, type TestingModule } from '@nestjs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MailerModule, MailerService, TransportError, type MailerModuleOptions } from '../../../lib/index.js';
import type { TemplateRenderer } from '../../../lib/templates/template-renderer.types.js';
import { onCleanup, smtpSink as sink } from '../../support/cleanup.js';
import { childrenOf, collect, everyAttributeValue, registerOtel, type OtelHarness } from '../../support/otel.js';
import { FakeClock } from '../../unit/retry/fake-clock.js';
import { PostmarkFake, POSTMARK_TOKEN } from '../../support/provider-fakes/index.js';

/*
 * The spans and metrics of real sends over a real SMTP server, recorded by the OpenTelemetry
 * SDK registered globally as an application's tracing bootstrap does.
 */

let otel: OtelHarness;
const logged: string[] = [];

beforeAll(() => {
  otel = registerOtel();
});

afterAll(async () => {
  await otel.shutdown();
});

const from = 'shop@example.com';
const SUBJECT = 'Your order 4711 has shipped';

/** A renderer of our own, so the send has a render step without template files. */
const renderer: TemplateRenderer = {
  init: async () => undefined,
  has: (name) => name === 'shipped',
  render: (_name, context) => ({ subject: SUBJECT, html: `<p>Parcel for ${String(context.name)}</p>`, text: `Parcel for ${String(context.name)}` }),
  close: async () => undefined,
};

async function boot(options: MailerModuleOptions): Promise<MailerService> {
  const moduleRef: TestingModule = await Test.createTestingModule({ imports: [MailerModule.forRoot(options)] }).compile();
  moduleRef.useLogger({
    log: () => undefined,
    warn: (message: unknown) => { logged.push(String(message)); },
    error: (message: unknown) => { logged.push(String(message)); },
  });
  await moduleRef.init();
  onCleanup(() => moduleRef.close());
  return moduleRef.get(MailerService);
}

function sendSpans(messageId: string) {
  const spans = otel.spans();
  const root = spans.find((s) => s.name === 'mail.send' && s.attributes['mailroom.message.id'] === messageId);
  if (!root) throw new Error(`no mail.send span for ${messageId}; spans: ${spans.map((s) => s.name).join(', ')}`);
  return { root, spans };
}

describe('spans of a send', () => {
  it('retried once after a 451, then delivered: render, compose, two attempts and the retry wait, under the caller\'s span', async () => {
    let asked = 0;
    const s = await sink({ rcpt: () => (++asked === 1 ? { code: 451, message: '4.7.1 Greylisted, please try again later' } : undefined) });
    const clock = new FakeClock();
    const mailer = await boot({
      transport: `${s.url}?tlsMode=none`, defaults: { from }, templates: { renderer }, retry: { clock, jitter: 'none' },
    });
    const result = await trace.getTracer('test').startActiveSpan('POST /orders', async (request) => {
      try {
        return await mailer.send({ to: 'ada@example.org', template: 'shipped', context: { name: 'Ada' } });
      } finally {
        request.end();
      }
    });
    expect(result.attempts.map((a) => a.ok)).toEqual([false, true]);
    const { root, spans } = sendSpans(result.messageId);
    const request = spans.find((sp) => sp.name === 'POST /orders')!;
    expect(root.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    expect(root.spanContext().traceId).toBe(request.spanContext().traceId);
    expect(root.attributes).toMatchObject({
      'mailroom.transport': 'default',
      'mailroom.transport.kind': 'smtp',
      'mailroom.template': 'shipped',
      'mailroom.outcome': 'sent',
      'mailroom.attempts': 2,
      'mailroom.recipients.count': 1,
      'mailroom.recipients.accepted': 1,
    });
    expect(root.status.code).not.toBe(SpanStatusCode.ERROR);

    const children = childrenOf(root, spans);
    expect(children.map((c) => c.name)).toEqual(['mail.render', 'mail.compose', 'mail.attempt', 'mail.attempt']);
    const [, , first, second] = children;
    expect(first!.kind).toBe(SpanKind.CLIENT);
    expect(first!.attributes).toMatchObject({
      'mailroom.transport': 'default',
      'mailroom.transport.kind': 'smtp',
      'mailroom.attempt.number': 1,
      'mailroom.outcome': 'failed',
      'error.type': 'envelope',
      'mailroom.smtp.reply_code': 451,
      'mailroom.classification.kind': 'deferred',
      'mailroom.classification.retryable': true,
    });
    expect(first!.status.code).toBe(SpanStatusCode.ERROR);
    expect(second!.attributes).toMatchObject({ 'mailroom.attempt.number': 2, 'mailroom.outcome': 'sent' });
    expect(second!.status.code).not.toBe(SpanStatusCode.ERROR);

    const retry = root.events.filter((e) => e.name === 'mail.retry');
    expect(retry).toHaveLength(1);
    expect(retry[0]!.attributes).toMatchObject({ 'mailroom.attempt.number': 1, 'mailroom.retry.delay': 1, 'error.type': 'envelope' });
  });

  it('through a failover whose first server is down: one attempt on the failover, a hop per server under it', async () => {
    const down = await sink();
    const downUrl = down.url;
    await down.stop();
    const up = await sink();
    const mailer = await boot({
      transport: `failover(${downUrl}?tlsMode=none ${up.url}?tlsMode=none)`, defaults: { from }, retry: false,
    });
    const result = await mailer.send({ to: 'grace@example.org', subject: SUBJECT, text: 'x' });
    expect(result.transport).toBe('default[1]');
    const { root, spans } = sendSpans(result.messageId);
    expect(root.attributes).toMatchObject({ 'mailroom.delivered_by': 'default[1]', 'mailroom.outcome': 'sent', 'mailroom.attempts': 2 });
    const attempts = childrenOf(root, spans).filter((c) => c.name === 'mail.attempt');
    expect(attempts).toHaveLength(1);
    expect(attempts[0]!.attributes).toMatchObject({ 'mailroom.transport': 'default', 'mailroom.transport.kind': 'failover', 'mailroom.outcome': 'sent' });
    const hops = childrenOf(attempts[0]!, spans);
    expect(hops.map((h) => [h.name, h.attributes['mailroom.transport'], h.attributes['mailroom.attempt.hop'], h.attributes['mailroom.outcome']])).toEqual([
      ['mail.attempt', 'default[0]', 0, 'failed'],
      ['mail.attempt', 'default[1]', 1, 'sent'],
    ]);
    expect(hops[0]!.attributes['error.type']).toBe('connection');
    expect(hops[0]!.status.code).toBe(SpanStatusCode.ERROR);
  });

  it('a permanent failure: the send span is an error with the classification, and one log line says why without the address', async () => {
    const s = await sink({ rcpt: () => ({ code: 550, message: '5.1.1 <nobody@example.net>: Recipient address rejected: User unknown' }) });
    const mailer = await boot({ transport: `${s.url}?tlsMode=none`, defaults: { from } });
    logged.length = 0;
    const error = await mailer.send({ to: 'nobody@example.net', subject: SUBJECT, text: 'x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    const root = otel.spans().filter((sp) => sp.name === 'mail.send').at(-1)!;
    expect(root.status.code).toBe(SpanStatusCode.ERROR);
    expect(root.attributes).toMatchObject({
      'mailroom.outcome': 'failed',
      'error.type': 'envelope',
      'mailroom.classification.kind': 'bounced',
      'mailroom.classification.reason': 'userunknown',
      'mailroom.classification.bounce': 'hard',
      'mailroom.classification.retryable': false,
      'mailroom.smtp.status': '5.1.1',
      'mailroom.smtp.reply_code': 550,
    });
    const lines = logged.filter((l) => l.includes('event=mail.failed'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/transport=default .*failure=envelope kind=bounced reason=userunknown bounce=hard retryable=false/);
    expect(lines[0]).not.toContain('nobody@');
    expect(lines[0]).not.toContain(SUBJECT);
  });

  it('recipients as domains or keyed hashes when configured, never the subject in clear', async () => {
    const s = await sink();
    const mailer = await boot({
      transport: `${s.url}?tlsMode=none`, defaults: { from },
      telemetry: { recipients: 'domain', subject: 'hash', hashKey: 'k1' },
    });
    const result = await mailer.send({ to: ['ada@Example.org', 'bob@example.com'], subject: SUBJECT, text: 'x' });
    const { root } = sendSpans(result.messageId);
    expect(root.attributes['mailroom.recipients.domains']).toEqual(['example.com', 'example.org']);
    expect(root.attributes['mailroom.subject.hash']).toMatch(/^[0-9a-f]{32}$/);

    const hashing = await boot({ transport: `${s.url}?tlsMode=none`, defaults: { from }, telemetry: { recipients: 'hash', hashKey: 'k1' } });
    const again = await hashing.send({ to: 'Ada@example.org', subject: SUBJECT, text: 'x' });
    const hashes = sendSpans(again.messageId).root.attributes['mailroom.recipients.hashes'] as string[];
    const second = await hashing.send({ to: 'ada@example.org', subject: 'other', text: 'x' });
    expect(sendSpans(second.messageId).root.attributes['mailroom.recipients.hashes']).toEqual(hashes);
    expect(hashes[0]).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe('metrics after a known sequence of outcomes', () => {
  it('counts sent, failed, rejected and suppressed recipients by transport, provider and classification', async () => {
    const s = await sink({
      rcpt: (address) => (address.startsWith('gone') ? { code: 550, message: '5.1.1 User unknown' } : undefined),
    });
    const mailer = await boot({ transport: `${s.url}?tlsMode=none`, transports: { bulk: `${s.url}?tlsMode=none` }, defaults: { from } });
    await collect(otel);
    const before = {
      sent: otel.count('mailroom.mail.sent', { 'mailroom.transport': 'bulk' }),
      failed: otel.count('mailroom.mail.failed', { 'mailroom.transport': 'bulk' }),
      rejected: otel.count('mailroom.recipients.rejected', { 'mailroom.transport': 'bulk' }),
      suppressed: otel.count('mailroom.recipients.suppressed', { 'mailroom.transport': 'bulk' }),
      durations: otel.count('mailroom.send.duration', { 'mailroom.transport': 'bulk' }),
    };
    const bulk = mailer.use('bulk');
    await bulk.send({ to: 'ada@example.org', subject: 'a', text: 'x' });
    await bulk.send({ to: 'grace@example.org', subject: 'b', text: 'x' });
    // One of two recipients refused: the mail goes out, the refused one is counted and suppressed.
    await bulk.send({ to: ['linus@example.org', 'gone1@example.org'], subject: 'c', text: 'x' });
    // Its only recipient refused: the send fails.
    await expect(bulk.send({ to: 'gone2@example.org', subject: 'd', text: 'x' })).rejects.toBeInstanceOf(TransportError);
    // Both refused addresses are on the suppression list now.
    const held = await bulk.send({ to: ['gone1@example.org', 'gone2@example.org', 'margaret@example.org'], subject: 'e', text: 'x' });
    expect(held.rejected.map((r) => r.classification?.reason)).toEqual(['suppressed', 'suppressed']);

    await collect(otel);
    const delta = (name: string, match: Record<string, string | number | boolean>, base = 0) => otel.count(name, { 'mailroom.transport': 'bulk', ...match }) - base;
    expect(delta('mailroom.mail.sent', { 'mailroom.provider': 'smtp' }, before.sent)).toBe(4);
    expect(delta('mailroom.mail.failed', {
      'mailroom.provider': 'smtp', 'error.type': 'envelope',
      'mailroom.classification.kind': 'bounced', 'mailroom.classification.reason': 'userunknown', 'mailroom.classification.retryable': false,
    }, before.failed)).toBe(1);
    expect(delta('mailroom.recipients.rejected', { 'mailroom.classification.reason': 'userunknown' }, before.rejected)).toBe(2);
    expect(delta('mailroom.recipients.suppressed', {}, before.suppressed)).toBe(2);
    expect(delta('mailroom.send.duration', {}, before.durations)).toBe(5);
    expect(otel.count('mailroom.send.duration', { 'mailroom.transport': 'bulk', 'mailroom.outcome': 'failed' })).toBeGreaterThanOrEqual(1);
    const attempt = otel.points('mailroom.attempt.duration').filter((p) => p.attributes['mailroom.transport'] === 'bulk');
    expect(attempt.reduce((n, p) => n + (typeof p.value === 'number' ? 0 : p.value.count), 0)).toBe(5);
  });

  it('counts retries by reason, and the attribute values of every metric come from closed sets', async () => {
    let asked = 0;
    const s = await sink({ rcpt: () => (++asked === 1 ? { code: 421, message: '4.7.0 Try again later' } : undefined) });
    const clock = new FakeClock();
    const mailer = await boot({ transports: { retrying: `${s.url}?tlsMode=none` }, defaults: { from }, retry: { clock, jitter: 'none' } });
    await mailer.use('retrying').send({ to: 'ada@example.org', subject: SUBJECT, text: 'x' });
    await collect(otel);
    expect(otel.count('mailroom.retries', { 'mailroom.transport': 'retrying' })).toBe(1);
    const allowed = new Set(['mailroom.transport', 'mailroom.provider', 'mailroom.outcome', 'error.type', 'mailroom.classification.kind',
      'mailroom.classification.reason', 'mailroom.classification.retryable', 'mailroom.classification.bounce', 'mailroom.event.type',
      'mailroom.webhook.reason', 'messaging.destination.name', 'mailroom.queue.state']);
    const { resourceMetrics } = await otel.reader.collect();
    for (const scope of resourceMetrics.scopeMetrics) {
      for (const metric of scope.metrics) {
        for (const point of metric.dataPoints) {
          for (const [key, value] of Object.entries(point.attributes)) {
            expect(allowed, `${metric.descriptor.name} has attribute ${key}`).toContain(key);
            expect(String(value)).not.toContain('@');
          }
        }
      }
    }
  });
});

describe('rate limits and transport names on metrics', () => {
  it('a send held back by its rate limit: the wait is an event on its span and a histogram sample', async () => {
    const s = await sink();
    const clock = new FakeClock();
    const mailer = await boot({
      transports: { limited: `${s.url}?tlsMode=none` }, defaults: { from }, retry: { clock }, rateLimit: { perSecond: 1, burst: 1 },
    });
    const limited = mailer.use('limited');
    await limited.send({ to: 'ada@example.org', subject: 'a', text: 'x' });
    const second = await limited.send({ to: 'ada@example.org', subject: 'b', text: 'x' });
    expect(clock.sleeps).toEqual([1000]);
    const waits = sendSpans(second.messageId).root.events.filter((e) => e.name === 'mail.ratelimit.wait');
    expect(waits.map((e) => e.attributes?.['mailroom.wait.duration'])).toEqual([1]);
    await collect(otel);
    const samples = otel.points('mailroom.ratelimit.wait').filter((p) => p.attributes['mailroom.transport'] === 'limited');
    expect(samples.map((p) => (typeof p.value === 'number' ? p.value : [p.value.count, p.value.sum]))).toEqual([[1, 1]]);
  });

  it('metricTransportName folds transport names into the groups it answers', async () => {
    const s = await sink();
    const mailer = await boot({
      transports: { 'tenant-a': `${s.url}?tlsMode=none`, 'tenant-b': `${s.url}?tlsMode=none` }, defaults: { from },
      telemetry: { metricTransportName: (name) => (name.startsWith('tenant-') ? 'tenants' : name) },
    });
    await collect(otel);
    const before = otel.count('mailroom.mail.sent', { 'mailroom.transport': 'tenants' });
    await mailer.use('tenant-a').send({ to: 'ada@example.org', subject: 'a', text: 'x' });
    await mailer.use('tenant-b').send({ to: 'ada@example.org', subject: 'b', text: 'x' });
    await collect(otel);
    expect(otel.count('mailroom.mail.sent', { 'mailroom.transport': 'tenants' }) - before).toBe(2);
    expect(otel.count('mailroom.mail.sent', { 'mailroom.transport': 'tenant-a' })).toBe(0);
  });
});

describe('provider APIs', () => {
  it('a Postmark send: the attempt is a client span of kind postmark, and mail.send carries the id its webhooks will report', async () => {
    const fake = await new PostmarkFake().start();
    onCleanup(() => fake.stop());
    const mailer = await boot({
      transports: { api: { type: 'postmark', serverToken: POSTMARK_TOKEN, baseUrl: fake.url } }, defaults: { from },
    });
    const result = await mailer.use('api').send({ to: 'ada@example.org', subject: SUBJECT, text: 'x' });
    expect(result.providerMessageId).toBeTruthy();
    const { root, spans } = sendSpans(result.messageId);
    expect(root.attributes['mailroom.provider.message_id']).toBe(result.providerMessageId);
    const [attempt] = childrenOf(root, spans).filter((c) => c.name === 'mail.attempt');
    expect(attempt!.kind).toBe(SpanKind.CLIENT);
    expect(attempt!.attributes).toMatchObject({ 'mailroom.transport': 'api', 'mailroom.transport.kind': 'postmark', 'mailroom.outcome': 'sent' });
  });
});

describe('sendBatch', () => {
  it('one mail.send_batch span per transport, and every mail counted as a send alone would be', async () => {
    const s = await sink({ rcpt: (address) => (address.startsWith('gone') ? { code: 550, message: '5.1.1 User unknown' } : undefined) });
    const mailer = await boot({ transports: { batch: `${s.url}?tlsMode=none` }, defaults: { from } });
    await collect(otel);
    const sentBefore = otel.count('mailroom.mail.sent', { 'mailroom.transport': 'batch' });
    const outcomes = await mailer.use('batch').sendBatch([
      { to: 'ada@example.org', subject: 'a', text: 'x' },
      { to: 'gone3@example.org', subject: 'b', text: 'x' },
      { to: 'grace@example.org', subject: 'c', text: 'x' },
    ]);
    expect(outcomes.map((o) => o.ok)).toEqual([true, false, true]);
    const batch = otel.spans().filter((sp) => sp.name === 'mail.send_batch' && sp.attributes['mailroom.transport'] === 'batch');
    expect(batch).toHaveLength(1);
    expect(batch[0]!.attributes['mailroom.batch.size']).toBe(3);
    await collect(otel);
    expect(otel.count('mailroom.mail.sent', { 'mailroom.transport': 'batch' }) - sentBefore).toBe(2);
    expect(otel.count('mailroom.mail.failed', { 'mailroom.transport': 'batch', 'mailroom.classification.reason': 'userunknown' })).toBe(1);
  });
});

describe('privacy by default', () => {
  it('no address or subject in any span attribute, event or status, whatever the outcome', async () => {
    let asked = 0;
    const s = await sink({
      rcpt: (address) => {
        if (address.startsWith('gone')) return { code: 550, message: `5.1.1 <${address}>: Recipient address rejected: User unknown` };
        return address.startsWith('slow') && ++asked === 1 ? { code: 451, message: `4.7.1 <${address}> greylisted` } : undefined;
      },
    });
    const clock = new FakeClock();
    const mailer = await boot({ transport: `${s.url}?tlsMode=none`, defaults: { from }, templates: { renderer }, retry: { clock, jitter: 'none' } });
    const traceId = await trace.getTracer('test').startActiveSpan('privacy', async (outer) => {
      await mailer.send({ to: 'ada@example.org', cc: 'bob@example.net', template: 'shipped', context: { name: 'Ada' } });
      await mailer.send({ to: 'slow@example.org', subject: SUBJECT, text: 'x' });
      await mailer.send({ to: ['gone@example.org', 'carol@example.org'], subject: SUBJECT, text: 'x' });
      await mailer.send({ to: 'gone@example.org', subject: SUBJECT, text: 'x' }).catch(() => undefined);
      await mailer.send({ to: 'gone4@example.org', subject: SUBJECT, text: 'x' }).catch(() => undefined);
      outer.end();
      return outer.spanContext().traceId;
    });
    const spans = otel.spans().filter((sp) => sp.spanContext().traceId === traceId && sp.instrumentationScope.name === 'nestjs-mailroom');
    expect(spans.filter((sp) => sp.name === 'mail.send')).toHaveLength(5);
    const values = everyAttributeValue(spans);
    const leaks = values.filter((v) => /(ada|bob|slow|gone|gone4|carol)@/.test(v) || v.includes(SUBJECT) || v.includes('Parcel') || v.includes('Ada'));
    expect(leaks).toEqual([]);
    // The sends went as planned: one retried, one partly refused, one held by the suppression list
    // (its address learned from the partial refusal), one refused.
    const outcomes = spans.filter((sp) => sp.name === 'mail.send').sort((a, b) => (a.startTime[0] - b.startTime[0]) || (a.startTime[1] - b.startTime[1]))
      .map((sp) => sp.attributes['mailroom.outcome']);
    expect(outcomes).toEqual(['sent', 'sent', 'sent', 'suppressed', 'failed']);
    expect(spans.filter((sp) => sp.name === 'mail.attempt' && sp.attributes['mailroom.outcome'] === 'failed')).toHaveLength(2);
  });
});
