import 'reflect-metadata';
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Injectable } from '@nestjs/common';
import { EventEmitterModule, OnEvent } from '@nestjs/event-emitter';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';

const originalConnect = Redis.prototype.connect;
import { InvalidMailError, MailerConfigurationError } from '../../../lib/index.js';
import {
  MAIL_QUEUE_EVENTS,
  MailerQueue,
  type MailQueueEvent,
  type MailQueueFailedEvent,
  type MailQueueSentEvent,
} from '../../../lib/queue/index.js';
import { redisUrl, stopRedis } from '../../support/redis.js';
import { QueueTestBed, until } from './queue-support.js';

let bed: QueueTestBed;
afterEach(async () => {
  await bed?.cleanup();
});
afterAll(async () => {
  await stopRedis();
});

function collect(queue: MailerQueue): MailQueueEvent[] {
  const events: MailQueueEvent[] = [];
  queue.events$.subscribe((e) => events.push(e));
  return events;
}

async function inspector(prefix: string, name = 'mail'): Promise<Queue> {
  const q = new Queue(name, { connection: { url: await redisUrl() } as never, prefix });
  bed.defer(() => q.close());
  return q;
}

describe('MailerQueue end to end (real Redis, real SMTP)', () => {
  it('enqueues a mail that a worker delivers with the same Message-ID; queued and sent are published', async () => {
    bed = new QueueTestBed('deliver');
    const sink = await bed.sink();
    const app = await bed.app(sink);
    const queue = app.get(MailerQueue);
    const events = collect(queue);
    const { jobId, messageId, duplicate } = await queue.enqueue({
      from: 'Shop <shop@example.com>', to: 'ada@example.org', subject: 'Your order', text: 'Thanks!', html: '<p>Thanks!</p>',
      headers: { 'X-Order': 'A-1' }, tags: ['receipt'],
    });
    expect(duplicate).toBe(false);
    expect(messageId).toMatch(/^<[^@]+@example\.com>$/);
    const [mail] = await sink.waitFor(1);
    expect(mail!.parsed.messageId).toBe(messageId);
    expect(mail!.parsed.subject).toBe('Your order');
    expect(mail!.parsed.text?.trim()).toBe('Thanks!');
    expect(mail!.parsed.headers.get('x-order')).toBe('A-1');
    expect(mail!.envelope.to).toEqual(['ada@example.org']);
    await until(() => events.some((e) => e.type === MAIL_QUEUE_EVENTS.sent), 5_000, 'sent event');
    expect(events[0]).toMatchObject({ type: 'mail.queue.queued', jobId });
    const sent = events.find((e) => e.type === MAIL_QUEUE_EVENTS.sent) as MailQueueSentEvent;
    expect(sent).toMatchObject({ jobId, attempt: 1, result: { messageId, accepted: ['ada@example.org'], transport: 'default' } });
    const q = await inspector(bed.prefix);
    await until(async () => (await q.getJobState(jobId)) === 'completed', 5_000, 'completed');
    expect((await q.getJob(jobId))!.returnvalue).toMatchObject({ messageId, accepted: ['ada@example.org'] });
  });

  it('uses the default sender\'s domain for a Message-ID fixed per job when the mail has no from', async () => {
    bed = new QueueTestBed('default-from');
    const sink = await bed.sink();
    const app = await bed.app(sink);
    const { messageId } = await app.get(MailerQueue).enqueue({ to: 'ada@example.org', subject: 's', text: 't' });
    expect(messageId).toBeUndefined();
    const [mail] = await sink.waitFor(1);
    expect(mail!.parsed.messageId).toMatch(/^<[0-9a-f]{32}@example\.com>$/);
    expect(mail!.parsed.from?.value[0]?.address).toBe('shop@example.com');
  });

  it('carries Buffer, stream and base64 attachments byte for byte', async () => {
    bed = new QueueTestBed('attachments');
    const sink = await bed.sink();
    const app = await bed.app(sink);
    const binary = randomBytes(200_000);
    const streamed = randomBytes(70_001);
    const encoded = randomBytes(3_333);
    const chunks = [streamed.subarray(0, 1000), streamed.subarray(1000, 40_000), streamed.subarray(40_000)];
    await app.get(MailerQueue).enqueue({
      from: 'shop@example.com', to: 'ada@example.org', subject: 'files', text: 'see attached',
      attachments: [
        { filename: 'a.bin', content: binary, contentType: 'application/octet-stream' },
        { filename: 'b.bin', content: Readable.from(chunks) },
        { filename: 'c.bin', content: encoded.toString('base64'), encoding: 'base64' },
        { filename: 'd.txt', content: 'plain text ünïcødé' },
        { filename: 'logo.png', content: binary.subarray(0, 100), cid: 'logo@shop', contentDisposition: 'inline' },
      ],
    });
    const [mail] = await sink.waitFor(1);
    const byName = new Map(mail!.parsed.attachments.map((a) => [a.filename, a]));
    expect(byName.get('a.bin')!.content.equals(binary)).toBe(true);
    expect(byName.get('a.bin')!.contentType).toBe('application/octet-stream');
    expect(byName.get('b.bin')!.content.equals(streamed)).toBe(true);
    expect(byName.get('c.bin')!.content.equals(encoded)).toBe(true);
    expect(byName.get('d.txt')!.content.toString('utf8')).toBe('plain text ünïcødé');
    expect(byName.get('logo.png')!.cid).toBe('logo@shop');
    expect(byName.get('logo.png')!.content.equals(binary.subarray(0, 100))).toBe(true);
  });

  it('refuses what cannot travel, and adds nothing', async () => {
    bed = new QueueTestBed('refuse');
    const app = await bed.app(undefined, { mode: 'producer' });
    const queue = app.get(MailerQueue);
    const failing = new Readable({ read() { this.destroy(new Error('disk gone')); } });
    await expect(queue.enqueue({ to: 'a@example.org', attachments: [{ filename: 'x', content: failing }] }))
      .rejects.toThrow(/mail\.attachments\[0\]\.content: the attachment stream failed.*disk gone/);
    await expect(queue.enqueue({ to: 'a@example.org', context: { format: () => 'x' } } as never))
      .rejects.toBeInstanceOf(InvalidMailError);
    await expect(queue.enqueueBatch([{ to: 'a@example.org' }, { to: 'b@example.org', context: { n: 10n } } as never]))
      .rejects.toThrow(/enqueueBatch\[1\]: mail\.context\.n: a bigint/);
    await expect(queue.enqueue({ to: 'a@example.org' }, { jobId: '42' })).rejects.toBeInstanceOf(InvalidMailError);
    expect(Object.values(await queue.getJobCounts()).reduce((a, b) => a + b, 0)).toBe(0);
  });

  it('de-duplicates by jobId: a second enqueue adds nothing and returns the same id', async () => {
    bed = new QueueTestBed('dedup');
    const sink = await bed.sink();
    const app = await bed.app(sink);
    const queue = app.get(MailerQueue);
    const events = collect(queue);
    const first = await queue.enqueue({ from: 'shop@example.com', to: 'ada@example.org', subject: 'once', text: '1' }, { jobId: 'order-A-1001-receipt' });
    const second = await queue.enqueue({ from: 'shop@example.com', to: 'ada@example.org', subject: 'twice', text: '2' }, { jobId: 'order-A-1001-receipt' });
    expect(first).toMatchObject({ jobId: 'order-A-1001-receipt', duplicate: false });
    expect(second).toEqual({ jobId: 'order-A-1001-receipt', duplicate: true });
    const batch = await queue.enqueueBatch([
      { mail: { from: 'shop@example.com', to: 'ada@example.org', subject: 'thrice', text: '3' }, jobId: 'order-A-1001-receipt' },
      { mail: { from: 'shop@example.com', to: 'bob@example.org', subject: 'other', text: '4' }, jobId: 'order-B-7' },
    ]);
    expect(batch.map((b) => [b.jobId, b.duplicate])).toEqual([['order-A-1001-receipt', true], ['order-B-7', false]]);
    await sink.waitFor(2);
    await new Promise((r) => setTimeout(r, 300));
    expect(sink.received.map((m) => m.parsed.subject).sort()).toEqual(['once', 'other']);
    expect(events.filter((e) => e.type === MAIL_QUEUE_EVENTS.queued)).toHaveLength(2);
  });

  it('honours delay: a delayed mail arrives after one enqueued later without delay', async () => {
    bed = new QueueTestBed('delay');
    const sink = await bed.sink();
    const app = await bed.app(sink);
    const queue = app.get(MailerQueue);
    const start = Date.now();
    await queue.enqueue({ from: 'shop@example.com', to: 'ada@example.org', subject: 'later', text: 'x' }, { delay: 1_500 });
    await queue.enqueue({ from: 'shop@example.com', to: 'ada@example.org', subject: 'now', text: 'x' });
    await sink.waitFor(1);
    const firstAt = Date.now();
    await sink.waitFor(2);
    const secondAt = Date.now();
    expect(sink.received.map((m) => m.parsed.subject)).toEqual(['now', 'later']);
    expect(secondAt - start).toBeGreaterThanOrEqual(1_400);
    expect(firstAt - start).toBeLessThan(secondAt - start);
  });

  it('sends by priority: the urgent mail enqueued last goes first', async () => {
    bed = new QueueTestBed('priority');
    const sink = await bed.sink();
    const producer = await bed.app(undefined, { mode: 'producer' });
    const queue = producer.get(MailerQueue);
    for (const n of [1, 2, 3]) await queue.enqueue({ from: 'shop@example.com', to: 'ada@example.org', subject: `bulk ${n}`, text: 'x' }, { priority: 100 });
    await queue.enqueue({ from: 'shop@example.com', to: 'ada@example.org', subject: 'password reset', text: 'x' }, { priority: 1 });
    await bed.app(sink, { mode: 'worker', concurrency: 1 });
    await sink.waitFor(4);
    expect(sink.received.map((m) => m.parsed.subject)).toEqual(['password reset', 'bulk 1', 'bulk 2', 'bulk 3']);
  });

  it('a 550 is tried once, fails for good and is published with final: true', async () => {
    bed = new QueueTestBed('permanent');
    let rcpt = 0;
    const sink = await bed.sink({ rcpt: () => { rcpt += 1; return { code: 550, message: '5.1.1 User unknown' }; } });
    const app = await bed.app(sink, { retry: { limit: 3, backoff: { initial: 20 }, jitter: 'none' } });
    const queue = app.get(MailerQueue);
    const events = collect(queue);
    const { jobId } = await queue.enqueue({ from: 'shop@example.com', to: 'gone@example.org', subject: 's', text: 't' });
    const q = await inspector(bed.prefix);
    await until(async () => (await q.getJobState(jobId)) === 'failed', 10_000, 'failed state');
    await new Promise((r) => setTimeout(r, 300));
    expect(rcpt).toBe(1);
    const failed = events.filter((e) => e.type === MAIL_QUEUE_EVENTS.failed) as MailQueueFailedEvent[];
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ jobId, attempt: 1, final: true });
    expect(failed[0]!.error.name).toBe('TransportError');
    const job = (await q.getJob(jobId))!;
    expect(job.attemptsMade).toBe(1);
    expect(job.failedReason).toMatch(/TransportError/);
  });

  it('a 451 greylisting is retried by BullMQ and delivered on the second attempt with the same Message-ID', async () => {
    bed = new QueueTestBed('greylist');
    let rcpt = 0;
    const sink = await bed.sink({ rcpt: () => (++rcpt === 1 ? { code: 451, message: '4.7.1 Greylisted, try again later' } : undefined) });
    const app = await bed.app(sink, { retry: { limit: 2, backoff: { initial: 200 }, jitter: 'none' } });
    const queue = app.get(MailerQueue);
    const events = collect(queue);
    const started = Date.now();
    const { jobId, messageId } = await queue.enqueue({ from: 'shop@example.com', to: 'ada@example.org', subject: 'grey', text: 't' });
    const [mail] = await sink.waitFor(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    expect(rcpt).toBe(2);
    expect(mail!.parsed.messageId).toBe(messageId);
    await until(() => events.some((e) => e.type === MAIL_QUEUE_EVENTS.sent), 5_000, 'sent');
    expect(events.filter((e) => e.type !== MAIL_QUEUE_EVENTS.queued).map((e) => [e.type, (e as MailQueueSentEvent).attempt, (e as MailQueueFailedEvent).final]))
      .toEqual([['mail.queue.failed', 1, false], ['mail.queue.sent', 2, undefined]]);
    const q = await inspector(bed.prefix);
    await until(async () => (await q.getJobState(jobId)) === 'completed', 5_000, 'completed');
  });

  it('producer mode processes nothing', async () => {
    bed = new QueueTestBed('producer');
    const sink = await bed.sink();
    const app = await bed.app(sink, { mode: 'producer' });
    const queue = app.get(MailerQueue);
    const { jobId } = await queue.enqueue({ from: 'shop@example.com', to: 'ada@example.org', subject: 's', text: 't' });
    await new Promise((r) => setTimeout(r, 1_000));
    expect(sink.received).toHaveLength(0);
    const q = await inspector(bed.prefix);
    expect(await q.getJobState(jobId)).toBe('waiting');
    expect(await q.getWorkersCount()).toBe(0);
  });

  it('worker mode refuses enqueue()', async () => {
    bed = new QueueTestBed('worker-mode');
    const sink = await bed.sink();
    const app = await bed.app(sink, { mode: 'worker' });
    await expect(app.get(MailerQueue).enqueue({ to: 'a@example.org' })).rejects.toThrow(/worker mode/);
  });

  it('shares one rate limit between two workers through Redis', async () => {
    bed = new QueueTestBed('rate');
    const sink = await bed.sink();
    const producer = await bed.app(undefined, { mode: 'producer' });
    const queue = producer.get(MailerQueue);
    const N = 6;
    const q = await inspector(bed.prefix);
    await queue.enqueueBatch(Array.from({ length: N }, (_, i) => ({ from: 'shop@example.com', to: 'ada@example.org', subject: `m${i}`, text: 'x' })));
    const started = Date.now();
    await bed.app(sink, { mode: 'worker', rateLimit: { max: 2, duration: 1_000 }, concurrency: 5 });
    await bed.app(sink, { mode: 'worker', rateLimit: { max: 2, duration: 1_000 }, concurrency: 5 });
    await sink.waitFor(N, 15_000);
    const elapsed = Date.now() - started;
    // 6 jobs at 2 per second, whichever worker takes them: at least two full windows.
    expect(elapsed).toBeGreaterThanOrEqual(1_800);
    await until(async () => (await q.getJobCounts('completed')).completed === N, 5_000, 'all completed');
  });

  it('publishes through @nestjs/event-emitter when it is present', async () => {
    bed = new QueueTestBed('emitter');
    const seen: string[] = [];
    @Injectable()
    class Listener {
      @OnEvent('mail.queue.*')
      on(event: MailQueueEvent) { seen.push(event.type); }
    }
    const sink = await bed.sink();
    const { Test } = await import('@nestjs/testing');
    const { MailerModule } = await import('../../../lib/index.js');
    const { MailerQueueModule } = await import('../../../lib/queue/index.js');
    const moduleRef = await Test.createTestingModule({
      imports: [
        EventEmitterModule.forRoot({ wildcard: true }),
        MailerModule.forRoot({ transport: `${sink.url}?tlsMode=none`, defaults: { from: 'shop@example.com' } }),
        MailerQueueModule.forRoot({ connection: { url: await redisUrl() }, prefix: bed.prefix }),
      ],
      providers: [Listener],
    }).compile();
    await moduleRef.init();
    bed.defer(() => moduleRef.close());
    await moduleRef.get(MailerQueue).enqueue({ to: 'ada@example.org', subject: 's', text: 't' });
    await sink.waitFor(1);
    await until(() => seen.includes('mail.queue.sent'), 5_000, 'emitted sent');
    expect(seen).toEqual(['mail.queue.queued', 'mail.queue.sent']);
  });

  it('forRootAsync with a factory; a worker without MailerModule fails at start-up', async () => {
    bed = new QueueTestBed('async');
    const { Test } = await import('@nestjs/testing');
    const { MailerQueueModule } = await import('../../../lib/queue/index.js');
    const url = await redisUrl();
    const ok = await Test.createTestingModule({
      imports: [MailerQueueModule.forRootAsync({ useFactory: () => ({ connection: { url }, prefix: bed.prefix, mode: 'producer' as const }) })],
    }).compile();
    await ok.init();
    bed.defer(() => ok.close());
    expect((await ok.get(MailerQueue).enqueue({ to: 'a@example.org' })).jobId).toBeTruthy();
    const bad = await Test.createTestingModule({
      imports: [MailerQueueModule.forRoot({ connection: { url }, prefix: bed.prefix, mode: 'worker' })],
    }).compile();
    await expect(bad.init()).rejects.toThrow(/import MailerModule/);
    await bad.close().catch(() => undefined);
  });

  it('uses an ioredis client the application owns, as it is or as { client }, and leaves it open; forRootAsync with useClass', async () => {
    bed = new QueueTestBed('own-client');
    const sink = await bed.sink();
    const own = new Redis(await redisUrl(), { maxRetriesPerRequest: null });
    bed.defer(() => own.quit());
    const app = await bed.app(sink, { connection: own as never });
    await app.get(MailerQueue).enqueue({ from: 'shop@example.com', to: 'ada@example.org', subject: 'own', text: 't' });
    await sink.waitFor(1);
    await app.close();
    expect(own.status).toBe('ready');
    expect(await own.ping()).toBe('PONG');

    const prefix = bed.prefix;
    class QueueConfig {
      createMailerQueueOptions() {
        return { connection: { client: own }, prefix, mode: 'producer' as const };
      }
    }
    const { Test } = await import('@nestjs/testing');
    const { MailerQueueModule } = await import('../../../lib/queue/index.js');
    const viaClass = await Test.createTestingModule({ imports: [MailerQueueModule.forRootAsync({ useClass: QueueConfig })] }).compile();
    await viaClass.init();
    expect((await viaClass.get(MailerQueue).enqueue({ to: 'x@example.org' })).duplicate).toBe(false);
    await viaClass.close();
    expect(own.status).toBe('ready');
  });

  it('closes cleanly: the Redis client the module opened is quit', async () => {
    bed = new QueueTestBed('close');
    const sink = await bed.sink();
    const created: Redis[] = [];
    // Every ioredis client opened while the application starts: the module's own and BullMQ's.
    const connect = vi.spyOn(Redis.prototype, 'connect').mockImplementation(function (this: Redis, ...args) {
      created.push(this);
      return originalConnect.apply(this, args);
    });
    const app = await bed.app(sink);
    connect.mockRestore();
    const queue = app.get(MailerQueue);
    expect(created.length).toBeGreaterThan(0);
    await app.close();
    await until(() => created.every((c) => c.status === 'end'), 5_000, 'every client the module opened closed');
    await expect(queue.enqueue({ to: 'a@example.org' })).rejects.toBeInstanceOf(MailerConfigurationError);
  });

  it('fixes the locale when the mail is enqueued, where the request is, not on the worker', async () => {
    bed = new QueueTestBed('locale');
    const sink = await bed.sink();
    const dir = await mkdtemp(join(tmpdir(), 'mailroom-queue-locale-'));
    bed.defer(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, 'notice.hbs'), '<p>Your parcel is on its way.</p>');
    await writeFile(join(dir, 'notice.subject.hbs'), 'Shipped');
    await writeFile(join(dir, 'notice.fr.subject.hbs'), 'Expédié');
    await writeFile(join(dir, 'notice.fr.hbs'), '<p>Votre colis est en route.</p>');
    const request = new AsyncLocalStorage<string>();
    const app = await bed.app(sink, {}, { templates: { dir }, locale: { resolve: () => request.getStore() } });
    const { jobId } = await request.run('fr-CA', () => app.get(MailerQueue).enqueue({ to: 'zoe@example.ca', template: 'notice' }));
    const [mail] = await sink.waitFor(1);
    expect(mail!.parsed.subject).toBe('Expédié');
    expect(mail!.parsed.text?.trim()).toBe('Votre colis est en route.');
    const q = await inspector(bed.prefix);
    expect((await q.getJob(jobId))!.data.mail).toMatchObject({ template: 'notice', locale: 'fr-CA' });
  });
});
