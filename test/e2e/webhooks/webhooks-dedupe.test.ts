import 'reflect-metadata';
import { randomBytes, randomInt } from 'node:crypto';
import type { INestApplication, LoggerService } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Redis } from 'ioredis';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  MailerConfigurationError,
  MailerModule,
  MailerService,
  MailerWebhooksModule,
  MailerWebhooksService,
  MemorySuppressionStore,
  type DeliveryEvent,
  type DeliveryEventSink,
  type MailerWebhooksModuleOptions,
  type SuppressionInput,
} from '../../../lib/index.js';
import { deleteKeysByPrefix, redisUrl, uniqueKeyPrefix } from '../../support/redis.js';
import { onCleanup, smtpSink } from '../../support/cleanup.js';
import {
  basicAuth,
  ecdsaTwin,
  mailgunSign,
  readFixture,
  resendSecret,
  resendSign,
  sendGridSigner,
  snsNotification,
  snsSigner,
  SNS_TOPIC,
} from '../../unit/webhooks/webhook-signers.js';

// Copies of one delivery — a provider's retry signed afresh, a replay, two copies arriving
// together — are processed once, by the keys each provider means to be unique; a copy that
// arrives while the first is still being processed is told to come back (503), and a delivery
// that could not be recorded is answered 5xx and processed when it comes again.

const sendgrid = sendGridSigner();
const mailgunKey = 'key-dedupe-0123456789abcdef';
const resendKey = resendSecret();
const sns = snsSigner();
const postmark = { username: 'postmark', password: 'dedupe-secret' };

function providers(): MailerWebhooksModuleOptions['providers'] {
  return {
    sendgrid: { publicKey: sendgrid.publicKey },
    mailgun: { signingKey: mailgunKey },
    resend: { secret: resendKey },
    ses: { region: 'eu-west-1', topicArn: SNS_TOPIC, fetchCertificate: sns.fetchCertificate },
    postmark,
  };
}

const freshId = () => randomBytes(8).toString('hex');
const SECOND = 1_000;

interface Delivery {
  provider: Provider;
  body: string;
  headers: Record<string, string>;
  /** What was signed, to sign the same delivery again. */
  payload: unknown;
  id: string;
}

type Provider = 'sendgrid' | 'mailgun' | 'resend' | 'ses' | 'postmark';
const PROVIDERS: Provider[] = ['sendgrid', 'mailgun', 'resend', 'ses', 'postmark'];

/** A new delivery of a hard bounce to `recipient`, as the provider would post it. */
function deliver(provider: Provider, recipient = 'alice@example.com', now = Date.now()): Delivery {
  const id = freshId();
  switch (provider) {
    case 'sendgrid': {
      const payload = (readFixture('sendgrid', 'bounce') as Array<Record<string, unknown>>).map((e) => ({ ...e, email: recipient, sg_event_id: id }));
      const body = JSON.stringify(payload);
      return { provider, body, headers: sendgrid.sign(body, now), payload, id };
    }
    case 'mailgun': {
      const fixture = readFixture('mailgun', 'failed-permanent') as { 'event-data': Record<string, unknown> };
      const payload = { 'event-data': { ...fixture['event-data'], id, recipient } };
      return { provider, body: mailgunSign(payload, mailgunKey, now), headers: { 'content-type': 'application/json' }, payload, id };
    }
    case 'resend': {
      const fixture = readFixture('resend', 'bounced') as { data: Record<string, unknown> };
      const payload = { ...fixture, data: { ...fixture.data, to: [recipient] } };
      const body = JSON.stringify(payload);
      return { provider, body, headers: resendSign(body, resendKey, now, `msg_${id}`), payload, id: `msg_${id}` };
    }
    case 'ses': {
      const notification = JSON.parse((readFixture('ses', 'bounce') as { Message: string }).Message) as { bounce: { bouncedRecipients: Array<Record<string, unknown>> } };
      notification.bounce.bouncedRecipients = notification.bounce.bouncedRecipients.slice(0, 1).map((r) => ({ ...r, emailAddress: recipient }));
      const message = sns.sign({ ...snsNotification(notification, now), MessageId: id });
      return { provider, body: JSON.stringify(message), headers: { 'content-type': 'text/plain; charset=UTF-8' }, payload: message, id };
    }
    case 'postmark': {
      const payload = { ...(readFixture('postmark', 'bounce') as object), Email: recipient, ID: randomInt(1, 2 ** 47) };
      return { provider, body: JSON.stringify(payload), headers: { 'content-type': 'application/json', ...basicAuth(postmark.username, postmark.password) }, payload, id };
    }
  }
}

/**
 * The provider delivering the same thing again, as it does after an answer it did not get: signed
 * afresh where it signs each attempt (SendGrid, Mailgun and Svix re-sign with a new time; Mailgun
 * with a new token), or the same request where it sends the same bytes (SNS, Postmark).
 */
function again(d: Delivery, now = Date.now() + SECOND): Delivery {
  switch (d.provider) {
    case 'sendgrid':
      return { ...d, headers: sendgrid.sign(d.body, now) };
    case 'mailgun':
      return { ...d, body: mailgunSign(d.payload as Record<string, unknown>, mailgunKey, now) };
    case 'resend':
      return { ...d, headers: resendSign(d.body, resendKey, now, d.id) };
    default:
      return d;
  }
}

function post(app: INestApplication, d: Pick<Delivery, 'body' | 'headers'> & { provider: string }) {
  let r = request(app.getHttpServer()).post(`/webhooks/mail/${d.provider}`);
  for (const [k, v] of Object.entries(d.headers)) r = r.set(k, v);
  return r.send(d.body);
}

/** A sink that can be made to wait (to hold a delivery in flight) or to fail. */
class GateSink implements DeliveryEventSink {
  readonly events: DeliveryEvent[] = [];
  fail = false;
  private gate?: Promise<void>;
  private open?: () => void;
  private entered?: () => void;

  /** Holds every record() until `release()`; resolves once a record() is waiting. */
  hold(): Promise<void> {
    this.gate = new Promise((resolve) => (this.open = resolve));
    return new Promise((resolve) => (this.entered = resolve));
  }

  release(): void {
    this.open?.();
    this.gate = undefined;
  }

  async record(event: DeliveryEvent): Promise<void> {
    if (this.gate) {
      this.entered?.();
      await this.gate;
    }
    if (this.fail) throw new Error('the audit database is unreachable');
    this.events.push(event);
  }
}

/** Lines logged by the application, by level. */
class CapturingLogger implements LoggerService {
  readonly lines: Array<{ level: string; message: string }> = [];
  log(message: unknown): void { this.lines.push({ level: 'log', message: String(message) }); }
  error(message: unknown): void { this.lines.push({ level: 'error', message: String(message) }); }
  warn(message: unknown): void { this.lines.push({ level: 'warn', message: String(message) }); }
  debug(): void {}
  verbose(): void {}
}

interface App {
  app: INestApplication;
  sink: GateSink;
  streamed: DeliveryEvent[];
  logger: CapturingLogger;
}

async function start(options: Partial<MailerWebhooksModuleOptions> = {}, imports: unknown[] = []): Promise<App> {
  const sink = new GateSink();
  const moduleRef = await Test.createTestingModule({
    imports: [...(imports as never[]), MailerWebhooksModule.forRoot({ providers: providers(), sinks: [sink], ...options })],
  }).compile();
  const logger = new CapturingLogger();
  const app = moduleRef.createNestApplication({ rawBody: true, logger });
  await app.init();
  onCleanup(() => app.close());
  const streamed: DeliveryEvent[] = [];
  app.get(MailerWebhooksService).events$.subscribe((e) => streamed.push(e));
  return { app, sink, streamed, logger };
}

describe.each(PROVIDERS)('%s: copies of one delivery', (provider) => {
  it('the provider delivering it again is answered 200 duplicate and processes nothing', async () => {
    const { app, sink, streamed } = await start();
    const d = deliver(provider);
    await post(app, d).expect(200, { received: 1 });
    await post(app, again(d)).expect(200, { received: 0, duplicate: true });
    await post(app, again(d, Date.now() + 2 * SECOND)).expect(200, { received: 0, duplicate: true });
    expect(sink.events.map((e) => e.recipient)).toEqual(['alice@example.com']);
    expect(streamed).toHaveLength(1);
  });

  it('two copies arriving together: one is processed, the other is answered 503 while the first is in flight', async () => {
    const { app, sink, streamed } = await start();
    const d = deliver(provider);
    const inSink = sink.hold();
    const first = post(app, d).then((res) => res);
    await inSink;
    const second = await post(app, again(d));
    expect(second.status).toBe(503);
    expect(second.body.message).toMatch(/being processed/);
    sink.release();
    expect((await first).body).toEqual({ received: 1 });
    await post(app, again(d)).expect(200, { received: 0, duplicate: true });
    expect(sink.events).toHaveLength(1);
    expect(streamed).toHaveLength(1);
  });

  it('a copy of a delivery whose processing failed is processed: the claim was released', async () => {
    const { app, sink, streamed } = await start();
    const d = deliver(provider);
    sink.fail = true;
    await post(app, d).expect(500);
    expect(streamed).toEqual([]);
    sink.fail = false;
    await post(app, again(d)).expect(200, { received: 1 });
    expect(sink.events.map((e) => e.recipient)).toEqual(['alice@example.com']);
    await post(app, again(d)).expect(200, { received: 0, duplicate: true });
  });

  it('another delivery about the same recipient is processed', async () => {
    const { app, sink } = await start();
    await post(app, deliver(provider)).expect(200, { received: 1 });
    await post(app, deliver(provider)).expect(200, { received: 1 });
    expect(sink.events).toHaveLength(2);
  });
});

describe('what counts as the same delivery', () => {
  it('SendGrid: a replay under the malleable twin of the signature is a duplicate and re-adds nothing', async () => {
    const { app } = await start({}, [MailerModule.forRoot({ transport: 'memory://', defaults: { from: 'shop@example.com' } })]);
    const mailer = app.get(MailerService);
    const d = deliver('sendgrid', 'removed@example.com');
    await post(app, d).expect(200, { received: 1 });
    expect(await mailer.suppressions!.has('removed@example.com')).toBe(true);
    // Support removes the address; a copy of the request comes back under another spelling of its signature.
    await mailer.suppressions!.remove('removed@example.com');
    const signature = 'x-twilio-email-event-webhook-signature';
    const twin = { ...d, headers: { ...d.headers, [signature]: ecdsaTwin(d.headers[signature]!) } };
    await post(app, twin).expect(200, { received: 0, duplicate: true });
    await post(app, { ...d, headers: { ...d.headers, [signature]: `${d.headers[signature]}junk` } }).expect(401);
    expect(await mailer.suppressions!.has('removed@example.com')).toBe(false);
  });

  it('SendGrid: events are checked one by one, so a retry packed in another batch processes only what is new', async () => {
    const { app, sink } = await start();
    const event = (email: string) => ({ ...(readFixture('sendgrid', 'bounce') as Array<Record<string, unknown>>)[0]!, email, sg_event_id: freshId() });
    const [a, b, c, d] = [event('a@example.com'), event('b@example.com'), event('c@example.com'), event('d@example.com')];
    const batch = (events: unknown[]) => {
      const body = JSON.stringify(events);
      return { provider: 'sendgrid', body, headers: sendgrid.sign(body) };
    };
    await post(app, batch([a, b])).expect(200, { received: 2 });
    await post(app, batch([b, c])).expect(200, { received: 1 });
    await post(app, batch([c, a])).expect(200, { received: 0, duplicate: true });
    await post(app, batch([d, d])).expect(200, { received: 1 });
    expect(sink.events.map((e) => e.recipient)).toEqual(['a@example.com', 'b@example.com', 'c@example.com', 'd@example.com']);
  });

  it('Mailgun: a captured token carrying another event is a duplicate; the same event under a new token is too', async () => {
    const { app, sink } = await start();
    const d = deliver('mailgun');
    await post(app, d).expect(200, { received: 1 });
    const captured = JSON.parse(d.body) as { 'event-data': Record<string, unknown> };
    const forged = { ...captured, 'event-data': { ...captured['event-data'], id: freshId(), recipient: 'victim@example.com' } };
    await post(app, { ...d, body: JSON.stringify(forged) }).expect(200, { received: 0, duplicate: true });
    await post(app, again(d)).expect(200, { received: 0, duplicate: true });
    expect(sink.events.map((e) => e.recipient)).toEqual(['alice@example.com']);
  });

  it('Postmark: records without an id are told apart by message, recipient and time', async () => {
    const { app, sink } = await start();
    const auth = { 'content-type': 'application/json', ...basicAuth(postmark.username, postmark.password) };
    const delivery = (at: string) => ({ provider: 'postmark', headers: auth, body: JSON.stringify({ ...(readFixture('postmark', 'delivery') as object), MessageID: 'm-1', DeliveredAt: at }) });
    await post(app, delivery('2026-03-01T12:00:00Z')).expect(200, { received: 1 });
    await post(app, delivery('2026-03-01T12:00:00Z')).expect(200, { received: 0, duplicate: true });
    await post(app, delivery('2026-03-01T12:00:01Z')).expect(200, { received: 1 });
    expect(sink.events).toHaveLength(2);
  });

  it('keys of one provider never match another provider\'s', async () => {
    const { app, sink } = await start();
    const id = freshId();
    const resend = deliver('resend');
    await post(app, { ...resend, headers: resendSign(resend.body, resendKey, Date.now(), id) }).expect(200, { received: 1 });
    const ses = deliver('ses');
    const message = sns.sign({ ...snsNotification(JSON.parse((ses.payload as { Message: string }).Message)), MessageId: id });
    await post(app, { ...ses, body: JSON.stringify(message) }).expect(200, { received: 1 });
    expect(sink.events.map((e) => e.provider)).toEqual(['resend', 'ses']);
  });

  it('ttlSeconds is refused when it is not a positive number, and unknown dedupe keys name the right one', async () => {
    for (const dedupe of [{ ttlSeconds: 0 }, { ttlSeconds: Number.NaN }, { ttl: 60 }, { redis: { url: 'http://localhost:6379' } }, { redis: {} }]) {
      const compiling = Test.createTestingModule({ imports: [MailerWebhooksModule.forRoot({ providers: { postmark }, dedupe: dedupe as never })] }).compile();
      await expect(compiling, JSON.stringify(dedupe)).rejects.toThrow(MailerConfigurationError);
    }
    await expect(Test.createTestingModule({ imports: [MailerWebhooksModule.forRoot({ providers: { postmark }, dedupe: { ttl: 60 } as never })] }).compile())
      .rejects.toThrow(/dedupe: unknown option "ttl"\. Known: redis, ttlSeconds/);
  });
});

/** A suppression store whose writes can be made to fail, with an error that names a secret. */
class FlakyStore extends MemorySuppressionStore {
  failWrites = false;
  override async addMany(entries: SuppressionInput[]) {
    if (this.failWrites) throw new Error('connect ECONNREFUSED redis://:hunter2@cache.internal:6379');
    return super.addMany(entries);
  }
}

describe('a failed write is answered 5xx, never 200', () => {
  const bounce = () => deliver('postmark', 'bounced@example.com');

  it('the suppression store failing: 500, nothing published, logged once without the secret; the retry is recorded', async () => {
    const store = new FlakyStore();
    const { app, streamed, logger } = await start({}, [
      MailerModule.forRoot({ transport: 'memory://', defaults: { from: 'shop@example.com' }, suppression: { store } }),
    ]);
    const d = bounce();
    store.failWrites = true;
    const res = await post(app, d).expect(500);
    expect(res.body.message).toMatch(/could not be recorded/);
    expect(streamed).toEqual([]);
    const errors = logger.lines.filter((l) => l.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toMatch(/postmark webhook delivery was not recorded.*ECONNREFUSED/);
    expect(logger.lines.map((l) => l.message).join('\n')).not.toContain('hunter2');
    expect(await store.has('bounced@example.com')).toBe(false);

    store.failWrites = false;
    await post(app, again(d)).expect(200, { received: 1 });
    expect(await store.get('bounced@example.com')).toMatchObject({ source: 'webhook', reason: 'userunknown' });
    expect(streamed).toHaveLength(1);
  });

  it('MailerService.handleDeliveryEvents rejects when the store fails; a send still goes out and only logs', async () => {
    const store = new FlakyStore();
    const smtp = await smtpSink({ rcpt: (a) => (a.startsWith('gone') ? { code: 550, message: '5.1.1 User unknown' } : undefined) });
    const moduleRef = await Test.createTestingModule({
      imports: [MailerModule.forRoot({ transport: `${smtp.url}?tlsMode=none`, defaults: { from: 'shop@example.com' }, suppression: { store } })],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    onCleanup(() => app.close());
    const mailer = app.get(MailerService);
    store.failWrites = true;
    const [event] = (await import('../../../lib/transports/providers/postmark/postmark.webhook.js')).parsePostmarkWebhook(bounce().body);
    await expect(mailer.handleDeliveryEvents([event!])).rejects.toThrow(/ECONNREFUSED/);
    const sent = await mailer.send({ to: ['ok@example.org', 'gone@example.org'], text: 'x' });
    expect(sent.accepted).toEqual(['ok@example.org']);
    expect(await store.count()).toBe(0);
  });
});

describe('claims in Redis, shared by instances', () => {
  const RUN_PREFIX = uniqueKeyPrefix('webhook-claims');
  let url: string;
  let admin: Redis;
  let n = 0;
  const prefix = () => `${RUN_PREFIX}${++n}:`;

  /** Every key under `keyPrefix` (SCAN walks the whole keyspace in steps). */
  async function keysUnder(keyPrefix: string): Promise<string[]> {
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await admin.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 1000);
      cursor = next;
      found.push(...keys);
    } while (cursor !== '0');
    return found;
  }

  beforeAll(async () => {
    url = await redisUrl();
    admin = new Redis(url);
  });
  afterAll(async () => {
    await deleteKeysByPrefix(admin, RUN_PREFIX);
    await admin.quit();
  });

  it('a copy that reaches another instance is a duplicate there; one in flight on another instance is 503', async () => {
    const keyPrefix = prefix();
    const a = await start({ dedupe: { redis: { url, keyPrefix } } });
    const b = await start({ dedupe: { redis: { url, keyPrefix } } });
    for (const provider of PROVIDERS) {
      const d = deliver(provider);
      await post(a.app, d).expect(200, { received: 1 });
      await post(b.app, again(d)).expect(200, { received: 0, duplicate: true });

      const e = deliver(provider);
      const inSink = b.sink.hold();
      const first = post(b.app, e).then((res) => res);
      await inSink;
      await post(a.app, again(e)).expect(503);
      b.sink.release();
      expect((await first).status).toBe(200);
      await post(a.app, again(e)).expect(200, { received: 0, duplicate: true });
    }
    expect(a.sink.events.length + b.sink.events.length).toBe(2 * PROVIDERS.length);
    // What is kept: one key per delivery key, marked done, expiring after the provider's window.
    const stored = await keysUnder(keyPrefix);
    // Mailgun keeps two per delivery: its event id and its signature token.
    expect(stored).toHaveLength(2 * PROVIDERS.length + 2);
    for (const key of stored) {
      expect(await admin.get(key)).toBe('done');
      const ttl = await admin.pttl(key);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(key.includes(':postmark:') ? 3_600_000 : 660_000);
    }
  });

  it('instances with other prefixes do not share, and ttlSeconds bounds how long keys live', async () => {
    const kept = prefix();
    const a = await start({ dedupe: { redis: { url, keyPrefix: kept }, ttlSeconds: 30 } });
    const b = await start({ dedupe: { redis: { url, keyPrefix: prefix() } } });
    const d = deliver('resend');
    await post(a.app, d).expect(200, { received: 1 });
    await post(b.app, again(d)).expect(200, { received: 1 });
    const stored = await keysUnder(kept);
    expect(stored).toHaveLength(1);
    const ttl = await admin.pttl(stored[0]!);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(30_000);
  });

  it('Redis not answering: 503 so the provider delivers again, and nothing is recorded', async () => {
    const client = new Redis(url, { maxRetriesPerRequest: 0, enableOfflineQueue: false });
    await new Promise((resolve) => client.once('ready', resolve));
    const { app, sink, logger } = await start({ dedupe: { redis: { client, keyPrefix: prefix() } } });
    client.disconnect();
    const res = await post(app, deliver('sendgrid')).expect(503);
    expect(res.body.message).toMatch(/Duplicates cannot be checked/);
    expect(sink.events).toEqual([]);
    expect(logger.lines.filter((l) => l.level === 'error')).toHaveLength(1);
  });

  it('an unreachable Redis stops start-up', async () => {
    const compiled = await Test.createTestingModule({
      imports: [MailerWebhooksModule.forRoot({ providers: { postmark }, dedupe: { redis: { url: 'redis://127.0.0.1:1', keyPrefix: prefix() } } })],
    }).compile();
    const app = compiled.createNestApplication({ rawBody: true, logger: false });
    await expect(app.init()).rejects.toThrow();
    await app.close().catch(() => undefined);
  });
});
