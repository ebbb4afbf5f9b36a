import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { Injectable } from '@nestjs/common';
import { EventEmitterModule, OnEvent } from '@nestjs/event-emitter';
import { Test } from '@nestjs/testing';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import {
  MailerModule,
  MailerService,
  SUPPRESSION_EVENTS,
  SuppressionUnavailableError,
  type DeliveryEvent,
  type MailerModuleOptions,
  type MailEvent,
  type SuppressionAvailableEvent,
  type SuppressionUnavailableEvent,
} from '../../../lib/index.js';
import { RedisSuppressionStore } from '../../../lib/suppression/redis-suppression.store.js';
import { onCleanup, smtpSink } from '../../support/cleanup.js';
import { NestLogs } from '../../support/nest-logs.js';
import { useOutageRedis } from '../../support/redis-outage.js';
import type { SmtpSink } from '../../support/smtp-sink.js';

/*
 * Redis outages under the suppression list: each test starts a redis-server of its own, then
 * kills, freezes or restarts it while the mailer sends and learns. What is checked is what an
 * operator notices: sends that do not hang, mail that is not lost, entries that are not lost, one
 * log line per outage, no error events left unhandled.
 */

const ENTRIES = 'mailroom:suppression:entries';
const CIRCUIT = { probeInterval: 50, maxProbeInterval: 200 };

const userUnknown = (address: string) => (address.startsWith('gone') ? { code: 550, message: `5.1.1 <${address}>: Recipient address rejected: User unknown` } : undefined);

@Injectable()
class SuppressionListener {
  readonly seen: string[] = [];
  @OnEvent('suppression.*')
  on(event: { type: string }): void {
    this.seen.push(event.type);
  }
}

const redis = useOutageRedis();

interface Booted {
  mailer: MailerService;
  events: MailEvent[];
  emitted: string[];
  logs: NestLogs;
  close: () => Promise<void>;
}

async function boot(sink: SmtpSink, suppression: Exclude<MailerModuleOptions['suppression'], false | undefined> = {}): Promise<Booted> {
  const logs = new NestLogs();
  const moduleRef = await Test.createTestingModule({
    imports: [
      EventEmitterModule.forRoot({ wildcard: true }),
      MailerModule.forRoot({
        transport: `${sink.url}?tlsMode=none`,
        defaults: { from: 'shop@example.com' },
        retry: false,
        suppression: { redis: { url: redis().url }, circuit: CIRCUIT, ...suppression },
      }),
    ],
    providers: [SuppressionListener],
  }).setLogger(logs).compile();
  await moduleRef.init();
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await moduleRef.close();
  };
  onCleanup(close);
  const mailer = moduleRef.get(MailerService);
  const events: MailEvent[] = [];
  mailer.events$.subscribe((e) => events.push(e));
  return { mailer, events, emitted: moduleRef.get(SuppressionListener).seen, logs, close };
}

const ofType = <T extends MailEvent['type']>(events: MailEvent[], type: T) => events.filter((e) => e.type === type) as Array<Extract<MailEvent, { type: T }>>;
const outageLines = (logs: NestLogs) => logs.of('MailerService').filter((l) => /suppression list (is unavailable|answers again)/.test(l.message));

async function until(check: () => boolean | Promise<boolean>, what: string, timeout = 15_000): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Milliseconds `fn` took. Only compared with bounds far above what it should take. */
async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - start };
}

const complaint = (recipient: string, at: Date): DeliveryEvent => ({
  provider: 'postmark',
  type: 'complained',
  providerEvent: 'SpamComplaint',
  recipient,
  timestamp: at,
  classification: { kind: 'complained', bounce: 'none', reason: 'feedback', retryable: false, action: 'suppress', recipient },
  raw: {},
});


/**
 * Webhook events handed to the mailer while the list is down: kept for later, and the call rejects
 * so that a webhook is answered 5xx and its provider delivers it again.
 */
async function learnWhileDown(mailer: MailerService, events: DeliveryEvent[]): Promise<void> {
  await expect(mailer.handleDeliveryEvents(events)).rejects.toBeInstanceOf(SuppressionUnavailableError);
}

describe('suppression list on Redis, Redis killed (onUnavailable: send, the default)', () => {
  it('sends at once and unfiltered during the outage, keeps what it learns, writes it when Redis returns', async () => {
    const sink = await smtpSink({ rcpt: userUnknown });
    const { mailer, events, emitted, logs } = await boot(sink);
    await mailer.suppressions!.add({ address: 'listed@example.org', reason: 'userunknown', source: 'manual' });
    expect((await mailer.send({ to: ['a@example.org', 'listed@example.org'], text: 'before' })).accepted).toEqual(['a@example.org']);

    await redis().kill();
    const learnedAt = new Date();
    // Every kind of evidence, learned while Redis is away.
    const slowest: number[] = [];
    for (let i = 0; i < 5; i++) {
      const { value, ms } = await timed(() => mailer.send({ to: ['a@example.org', `gone${i}@example.org`], text: `during ${i}` }));
      slowest.push(ms);
      expect(value.accepted).toEqual(['a@example.org']);
      expect(value.rejected).toMatchObject([{ address: `gone${i}@example.org`, classification: { reason: 'userunknown' } }]);
    }
    await mailer.handleBounce(readFileSync(new URL('../../fixtures/bounces/postfix-dsn.eml', import.meta.url)));
    // Webhook events are kept too, and the caller learns that the list did not take them, so the
    // webhook is answered 5xx and the provider delivers again: written by whichever comes first.
    await expect(mailer.handleDeliveryEvents([complaint('angry@example.org', learnedAt)])).rejects.toBeInstanceOf(SuppressionUnavailableError);

    // The list cannot be read, so an address only Redis knows goes out (the documented price of
    // failing open) — but one learned during the outage is held back.
    const { value: unfiltered } = await timed(() => mailer.send({ to: ['listed@example.org', 'gone0@example.org', 'angry@example.org'], text: 'during' }));
    expect(unfiltered.accepted).toEqual(['listed@example.org']);
    expect(unfiltered.rejected.map((r) => [r.address, r.classification?.reason])).toEqual([
      ['gone0@example.org', 'suppressed'], ['angry@example.org', 'suppressed'],
    ]);
    // No send waited on Redis: before, each one took ioredis's reconnection attempts (10-60 s).
    expect(Math.max(...slowest)).toBeLessThan(2_000);

    const unavailable = ofType(events, SUPPRESSION_EVENTS.unavailable);
    expect(unavailable).toHaveLength(1);
    expect(unavailable[0]).toMatchObject({ onUnavailable: 'send', error: expect.any(SuppressionUnavailableError) });
    expect(unavailable[0]!.error.message).toMatch(/Redis, which holds the suppression list, cannot be used: not connected/);
    expect(ofType(events, SUPPRESSION_EVENTS.available)).toHaveLength(0);

    await redis().restart();
    await until(() => ofType(events, SUPPRESSION_EVENTS.available).length > 0, 'suppression.available');
    const [available] = ofType(events, SUPPRESSION_EVENTS.available) as SuppressionAvailableEvent[];
    expect(available).toMatchObject({ written: 7, dropped: 0 });
    expect(available!.downtime).toBeGreaterThan(0);

    const admin = new Redis(redis().url);
    onCleanup(() => void admin.disconnect());
    const stored = await admin.hgetall(ENTRIES);
    expect(Object.keys(stored).sort()).toEqual([
      'angry@example.org', 'ghost@receiver.test',
      'gone0@example.org', 'gone1@example.org', 'gone2@example.org', 'gone3@example.org', 'gone4@example.org',
      'listed@example.org',
    ]);
    expect(JSON.parse(stored['gone3@example.org']!)).toMatchObject({ reason: 'userunknown', source: 'smtp' });
    expect(JSON.parse(stored['angry@example.org']!)).toMatchObject({ reason: 'feedback', source: 'webhook', createdAt: learnedAt.getTime() });
    expect(JSON.parse(stored['ghost@receiver.test']!)).toMatchObject({ reason: 'userunknown', source: 'bounce-mail' });

    // The list is read again: what Redis knew and what the outage taught are both honoured.
    const after = await mailer.send({ to: ['a@example.org', 'listed@example.org', 'gone4@example.org'], text: 'after' });
    expect(after.accepted).toEqual(['a@example.org']);

    // One line and one event each way for the whole outage, through events$ and the event emitter.
    expect(outageLines(logs).map((l) => l.level)).toEqual(['warn', 'log']);
    expect(outageLines(logs)[0]!.message).toMatch(/unavailable \(Redis, which holds the suppression list, cannot be used: not connected .*\): sends go out without it/);
    expect(outageLines(logs)[1]!.message).toMatch(/answers again after [\d.]+ s; 7 entries learned meanwhile written\./);
    await until(() => emitted.length === 2, 'event emitter');
    expect(emitted).toEqual(['suppression.unavailable', 'suppression.available']);
    const received = sink.received.map((m) => m.envelope.to.join(','));
    expect(received.filter((to) => to.includes('listed@example.org'))).toEqual(['listed@example.org']);
  });

  it('keeps the store\'s rule when the buffer is written: an entry never gives way to one that ends sooner', async () => {
    const sink = await smtpSink();
    const { mailer, events } = await boot(sink, { policy: { ttl: { userunknown: 86_400_000 } } });
    await mailer.suppressions!.add({ address: 'permanent@example.org', reason: 'feedback', source: 'webhook' });
    await redis().kill();
    const at = new Date();
    const bounce = (recipient: string): DeliveryEvent => ({
      provider: 'postmark', type: 'bounced', providerEvent: 'HardBounce', recipient, timestamp: at, raw: {},
      classification: { kind: 'bounced', bounce: 'hard', reason: 'userunknown', retryable: false, action: 'suppress', replyCode: 550, status: '5.1.1', recipient },
    });
    // In the buffer: a permanent complaint, then a day-long bounce for the same address.
    await learnWhileDown(mailer, [complaint('twice@example.org', at)]);
    await learnWhileDown(mailer, [bounce('twice@example.org')]);
    // Against Redis: a day-long bounce for an address Redis holds for good.
    await learnWhileDown(mailer, [bounce('permanent@example.org')]);
    await redis().restart();
    await until(() => ofType(events, SUPPRESSION_EVENTS.available).length > 0, 'suppression.available');

    expect(await mailer.suppressions!.get('twice@example.org')).toMatchObject({ reason: 'feedback' });
    expect((await mailer.suppressions!.get('twice@example.org'))!.expiresAt).toBeUndefined();
    expect(await mailer.suppressions!.get('permanent@example.org')).toMatchObject({ reason: 'feedback' });
    expect((await mailer.suppressions!.get('permanent@example.org'))!.expiresAt).toBeUndefined();
  });

  it('counts what the buffer cannot hold, says so once, and reports it when Redis returns', async () => {
    const sink = await smtpSink();
    const { mailer, events, logs } = await boot(sink, { circuit: { ...CIRCUIT, maxBuffered: 3 } });
    await redis().kill();
    const at = new Date();
    for (let i = 0; i < 6; i++) await learnWhileDown(mailer, [complaint(`c${i}@example.org`, at)]);
    // The same address again does not take another place.
    await learnWhileDown(mailer, [complaint('c0@example.org', at)]);
    const full = logs.of('MailerService', 'warn').filter((l) => l.message.includes('more are dropped'));
    expect(full).toHaveLength(1);
    expect(full[0]!.message).toContain('3 addresses learned meanwhile are waiting');

    await redis().restart();
    await until(() => ofType(events, SUPPRESSION_EVENTS.available).length > 0, 'suppression.available');
    expect(ofType(events, SUPPRESSION_EVENTS.available)[0]).toMatchObject({ written: 3, dropped: 3 });
    expect(outageLines(logs).at(-1)!.message).toContain('3 entries learned meanwhile written; 3 more could not be kept (buffer full)');
    expect(await mailer.suppressions!.count()).toBe(3);
  });

  it('a Redis that stops answering (frozen) costs one command timeout, then sends skip it', async () => {
    const sink = await smtpSink();
    const { mailer, events, logs } = await boot(sink, { redis: { url: redis().url, commandTimeout: 300 } });
    await mailer.send({ to: 'a@example.org', text: 'warm' });
    redis().freeze();
    const first = await timed(() => mailer.send({ to: 'a@example.org', text: 'first' }));
    const next: number[] = [];
    for (let i = 0; i < 5; i++) next.push((await timed(() => mailer.send({ to: 'a@example.org', text: `next ${i}` }))).ms);
    // The first send of the outage waited for the command timeout (300 ms), not for ever; the
    // circuit is open for the others. Bounds far above the expected, so a busy machine passes.
    expect(first.value.accepted).toEqual(['a@example.org']);
    expect(first.ms).toBeLessThan(3_000);
    expect(Math.max(...next)).toBeLessThan(1_500);
    expect(ofType(events, SUPPRESSION_EVENTS.unavailable)).toHaveLength(1);
    expect(ofType(events, SUPPRESSION_EVENTS.unavailable)[0]!.error.message).toContain('Command timed out');

    redis().thaw();
    await until(() => ofType(events, SUPPRESSION_EVENTS.available).length > 0, 'suppression.available');
    expect(outageLines(logs).map((l) => l.level)).toEqual(['warn', 'log']);
    expect(sink.received).toHaveLength(7);
  });
});

describe("suppression list on Redis, Redis killed (onUnavailable: 'fail')", () => {
  it('refuses sends with SuppressionUnavailableError and sends nothing, without suppressing anyone', async () => {
    const sink = await smtpSink();
    const { mailer, events, logs } = await boot(sink, { onUnavailable: 'fail' });
    await mailer.send({ to: 'a@example.org', text: 'before' });
    await redis().kill();

    const refusals: unknown[] = [];
    for (let i = 0; i < 5; i++) refusals.push(await mailer.send({ to: 'a@example.org', text: `during ${i}` }).catch((e: unknown) => e));
    expect(refusals.every((e) => e instanceof SuppressionUnavailableError)).toBe(true);
    const refusal = refusals[0] as SuppressionUnavailableError;
    expect(refusal.code).toBe('MAILER_SUPPRESSION_UNAVAILABLE');
    expect(refusal.message).toContain("the mail was not sent (suppression.onUnavailable is 'fail')");
    // Not a delivery failure: no transport was tried, so no mail.failed and nothing to classify.
    expect(ofType(events, 'mail.failed')).toHaveLength(0);

    const batch = await mailer.sendBatch([{ to: 'b@example.org', text: '1' }, { to: 'c@example.org', text: '2' }]);
    expect(batch.map((r) => !r.ok && r.error instanceof SuppressionUnavailableError)).toEqual([true, true]);
    expect(sink.received).toHaveLength(1);
    expect(outageLines(logs)).toHaveLength(1);
    expect(outageLines(logs)[0]!.message).toContain("sends are refused with SuppressionUnavailableError until it answers (onUnavailable: 'fail')");
    expect(ofType(events, SUPPRESSION_EVENTS.unavailable)[0]).toMatchObject({ onUnavailable: 'fail' });

    await redis().restart();
    await until(() => ofType(events, SUPPRESSION_EVENTS.available).length > 0, 'suppression.available');
    const again = await mailer.send({ to: 'a@example.org', text: 'after' });
    expect(again.accepted).toEqual(['a@example.org']);
    expect(await mailer.suppressions!.has('a@example.org')).toBe(false);
    expect(sink.received).toHaveLength(2);
  });
});

describe('suppression list on Redis: start-up, shutdown and direct calls', () => {
  it('a Redis that is down at start-up stops the application with a typed error, and leaves no client behind', async () => {
    const sink = await smtpSink();
    await redis().kill();
    const { value: error, ms } = await timed(() => boot(sink).then(() => undefined, (e: unknown) => e));
    expect(error).toBeInstanceOf(SuppressionUnavailableError);
    expect((error as Error).message).toContain('ECONNREFUSED');
    expect(ms).toBeLessThan(5_000);
    // A client left reconnecting would print its errors; useOutageRedis checks after each test that none did.
    await new Promise((r) => setTimeout(r, 300));
  });

  it('the store\'s own methods fail fast with SuppressionUnavailableError while Redis is away', async () => {
    const store = await RedisSuppressionStore.create({ url: redis().url });
    onCleanup(() => store.close());
    await store.add({ address: 'x@example.org', reason: 'manual', source: 'manual' });
    await redis().kill();
    for (const call of [() => store.get('x@example.org'), () => store.count(), () => store.list(), () => store.remove('x@example.org'), () => store.add({ address: 'y@example.org', reason: 'manual', source: 'manual' })]) {
      const { value, ms } = await timed(() => call().then(() => undefined, (e: unknown) => e));
      expect(value).toBeInstanceOf(SuppressionUnavailableError);
      expect(ms).toBeLessThan(1_000);
    }
    await redis().restart();
    await until(async () => (await store.has('x@example.org').catch(() => false)) === true, 'the store to reconnect');
  });

  it('shutting down during an outage ends, and says how many entries could not be written', async () => {
    const sink = await smtpSink();
    const { mailer, logs, close } = await boot(sink);
    await redis().kill();
    await learnWhileDown(mailer, [complaint('lost1@example.org', new Date()), complaint('lost2@example.org', new Date())]);
    const { ms } = await timed(close);
    expect(ms).toBeLessThan(5_000);
    expect(logs.of('MailerService', 'error').map((l) => l.message)).toEqual([
      '2 suppression entries learned while the list was unavailable could not be written before shutdown.',
    ]);
  });

  it('an application\'s own client is used as it is: no listener added, no option changed', async () => {
    const client = new Redis(redis().url, { maxRetriesPerRequest: 1 });
    client.on('error', () => undefined);
    onCleanup(() => void client.disconnect());
    const before = { listeners: client.listenerCount('error'), options: { ...client.options } };
    const store = await RedisSuppressionStore.create({ client });
    await store.add({ address: 'x@example.org', reason: 'manual', source: 'manual' });
    await store.close();
    expect(client.listenerCount('error')).toBe(before.listeners);
    expect(client.options).toEqual(before.options);
    expect(client.status).toBe('ready');
    expect(() => new RedisSuppressionStore({ client, commandTimeout: 100 })).toThrow(/set it on your own client/);
  });
});
