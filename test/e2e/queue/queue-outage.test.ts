import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { Test, type TestingModule } from '@nestjs/testing';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { MailerModule, QueueUnavailableError, SuppressionUnavailableError, type MailerModuleOptions } from '../../../lib/index.js';
import { MAIL_QUEUE_EVENTS, MailerQueue, type MailerQueueModuleOptions, type MailQueueEvent, type MailQueueFailedEvent } from '../../../lib/queue/index.js';
import { MailerQueueModule } from '../../../lib/queue/mailer-queue.module.js';
import { onCleanup, smtpSink } from '../../support/cleanup.js';
import { NestLogs } from '../../support/nest-logs.js';
import { useOutageRedis } from '../../support/redis-outage.js';
import { OwnRedisServer } from '../../support/redis-server.js';
import type { SmtpSink } from '../../support/smtp-sink.js';
import { until } from './queue-support.js';

/*
 * Redis outages under the mail queue, on a redis-server each test starts (with an append-only
 * file, as BullMQ asks for in production, so that a killed Redis comes back with its jobs) and
 * kills. Counted: mails refused with a typed error, mails lost, mails delivered twice; one log
 * line each way per outage; nothing left unhandled.
 */

const PREFIX = 'outage';

const redis = useOutageRedis();

async function app(queue: Partial<MailerQueueModuleOptions>, sink?: SmtpSink, mailer: Partial<MailerModuleOptions> = {}): Promise<{ moduleRef: TestingModule; queue: MailerQueue; logs: NestLogs; events: MailQueueEvent[] }> {
  const logs = new NestLogs();
  const moduleRef = await Test.createTestingModule({
    imports: [
      ...(sink ? [MailerModule.forRoot({ transport: `${sink.url}?tlsMode=none`, defaults: { from: 'shop@example.com' }, ...mailer })] : []),
      MailerQueueModule.forRoot({ connection: { url: redis().url }, prefix: PREFIX, enqueueTimeout: 500, ...queue }),
    ],
  }).setLogger(logs).compile();
  await moduleRef.init();
  onCleanup(() => moduleRef.close());
  const mailQueue = moduleRef.get(MailerQueue);
  const events: MailQueueEvent[] = [];
  mailQueue.events$.subscribe((e) => events.push(e));
  return { moduleRef, queue: mailQueue, logs, events };
}

/** Every job BullMQ holds, whatever its state. */
async function jobsInRedis(): Promise<number> {
  const inspector = new Queue('mail', { connection: { host: '127.0.0.1', port: redis().port }, prefix: PREFIX });
  try {
    const counts = await inspector.getJobCounts();
    return Object.values(counts).reduce((a, b) => a + b, 0);
  } finally {
    await inspector.close();
  }
}

const outageLines = (logs: NestLogs) => logs.of('MailerQueue').filter((l) => /Redis (cannot be reached|answers again)/.test(l.message));

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - start };
}

/**
 * An SMTP server that holds the first DATA until `release()`, then accepts everything; what it
 * accepted is in `received`, parsed.
 */
async function gatedSmtp(): Promise<{ url: string; received: ParsedMail[]; readonly waiting: number; release(): void }> {
  const received: ParsedMail[] = [];
  const held: Array<() => void> = [];
  let open = false;
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const accept = () => void simpleParser(Buffer.concat(chunks)).then((parsed) => {
          received.push(parsed);
          callback();
        }, (error: Error) => callback(error));
        if (open) accept();
        else held.push(accept);
      });
    },
  });
  smtp.on('error', () => undefined);
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', () => resolve()));
  onCleanup(() => new Promise<void>((resolve) => smtp.close(() => resolve())));
  return {
    url: `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}`,
    received,
    get waiting() { return held.length; },
    release() {
      open = true;
      for (const accept of held.splice(0)) accept();
    },
  };
}

const mail = (n: number) => ({ from: 'shop@example.com', to: `r${n}@example.org`, subject: `mail ${n}`, text: `mail ${n}` });

describe('MailerQueue with Redis killed', () => {
  it('enqueue() and enqueueBatch() reject with QueueUnavailableError within enqueueTimeout, and add nothing', async () => {
    const { queue, logs } = await app({ mode: 'producer' });
    await queue.enqueue(mail(0));
    await redis().kill();

    const refused: unknown[] = [];
    const waits: number[] = [];
    for (let i = 1; i <= 5; i++) {
      const { value, ms } = await timed(() => queue.enqueue(mail(i)).then(() => undefined, (e: unknown) => e));
      refused.push(value);
      waits.push(ms);
    }
    const batch = await queue.enqueueBatch([mail(6), mail(7), mail(8)]).then(() => undefined, (e: unknown) => e);
    const counts = await queue.getJobCounts().then(() => undefined, (e: unknown) => e);
    for (const error of [...refused, batch]) {
      expect(error).toBeInstanceOf(QueueUnavailableError);
      expect(error).toMatchObject({ code: 'MAILER_QUEUE_UNAVAILABLE', outcome: 'not-added' });
    }
    expect((refused[0] as Error).message).toMatch(/^Could not enqueue the mail: Redis is not connected \(.+\)( and did not come back within 500 ms)?\. Nothing was added\.$/);
    expect(counts).toBeInstanceOf(QueueUnavailableError);
    // Bounded by enqueueTimeout (500 ms); a generous ceiling, since the point is that it ends.
    expect(Math.max(...waits)).toBeLessThan(3_000);

    await redis().restart();
    expect((await queue.enqueue(mail(9))).duplicate).toBe(false);
    // Nothing refused turns up later, once Redis is back: two jobs, the ones that were accepted.
    await new Promise((r) => setTimeout(r, 300));
    expect(await jobsInRedis()).toBe(2);
    expect(outageLines(logs).map((l) => l.level)).toEqual(['warn', 'log']);
    expect(outageLines(logs)[0]!.message).toContain('enqueue() rejects with QueueUnavailableError after at most 500 ms');
  });

  it('a Redis back within enqueueTimeout costs the caller a wait, not an error', async () => {
    const { queue } = await app({ mode: 'producer', enqueueTimeout: 10_000 });
    await redis().kill();
    const pending = queue.enqueue(mail(1), { jobId: 'blip-1' });
    await new Promise((r) => setTimeout(r, 300));
    await redis().restart();
    expect(await pending).toMatchObject({ jobId: 'blip-1', duplicate: false });
    expect(await jobsInRedis()).toBe(1);
  });

  it('a Redis that stops answering (frozen) ends enqueue() at the timeout, with an outcome it cannot know', async () => {
    const { queue, logs } = await app({ mode: 'producer' });
    await queue.enqueue(mail(0));
    redis().freeze();
    const { value: error, ms } = await timed(() => queue.enqueue(mail(1), { jobId: 'frozen-1' }).then(() => undefined, (e: unknown) => e));
    expect(error).toBeInstanceOf(QueueUnavailableError);
    // The jobId check (a read) is what timed out: the add was never sent.
    expect(error).toMatchObject({ outcome: 'not-added' });
    expect(ms).toBeLessThan(3_000);
    redis().thaw();
    // Once Redis answers, enqueueing the same jobId again is safe whatever happened.
    expect((await queue.enqueue(mail(1), { jobId: 'frozen-1' })).jobId).toBe('frozen-1');
    expect(await jobsInRedis()).toBe(2);
    expect(outageLines(logs).map((l) => l.level)).toEqual(['warn', 'log']);
  });

  it('a worker that loses Redis keeps the process up, says so once, and delivers every mail once Redis is back', async () => {
    const sink = await smtpSink();
    // An outage shorter than lockDuration: the locks of jobs in flight outlive it.
    const { queue, logs, events } = await app({ mode: 'both', concurrency: 2, lockDuration: 15_000 }, sink);
    // Jobs fall due before, during and after the outage.
    const ids = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const { messageId } = await queue.enqueue(mail(i), { jobId: `job-${i}`, delay: i * 150 });
      ids.add(messageId!);
    }
    await until(() => sink.received.length >= 2, 10_000, 'the first deliveries');
    await redis().kill();
    const refused = await queue.enqueue(mail(99)).then(() => undefined, (e: unknown) => e);
    expect(refused).toBeInstanceOf(QueueUnavailableError);
    await new Promise((r) => setTimeout(r, 1_500));
    await redis().restart();

    await until(() => new Set(sink.received.map((m) => m.parsed.messageId)).size === ids.size, 30_000, 'every mail');
    await new Promise((r) => setTimeout(r, 500));
    const delivered = sink.received.map((m) => m.parsed.messageId!);
    const lost = [...ids].filter((id) => !delivered.includes(id));
    expect(lost).toEqual([]);
    expect(delivered.length - new Set(delivered).size).toBe(0);
    expect(outageLines(logs).map((l) => l.level)).toEqual(['warn', 'log']);
    expect(logs.of('MailerQueue', 'error')).toEqual([]);
    expect(events.filter((e) => e.type === MAIL_QUEUE_EVENTS.sent)).toHaveLength(12);
  });

  it('an outage longer than lockDuration while a mail is being sent: it is sent again, with the same Message-ID', async () => {
    const smtp = await gatedSmtp();
    const { queue, logs } = await app({ mode: 'both', concurrency: 1, lockDuration: 1_000, stalledInterval: 500 }, smtp as unknown as SmtpSink);
    const { messageId } = await queue.enqueue(mail(1), { jobId: 'in-flight' });
    await until(() => smtp.waiting > 0, 10_000, 'the send to reach DATA');
    await redis().kill();
    await new Promise((r) => setTimeout(r, 1_500));
    await redis().restart();
    // The server accepts the mail only now: the job's lock expired during the outage.
    smtp.release();
    await until(() => smtp.received.length >= 2, 20_000, 'the second delivery');
    expect(smtp.received.map((m) => m.messageId)).toEqual([messageId, messageId]);
    const lockLines = logs.of('MailerQueue', 'warn').filter((l) => l.message.startsWith('Job in-flight lost its lock'));
    expect(lockLines).toHaveLength(1);
    expect(logs.of('MailerQueue', 'error')).toEqual([]);
  });

  it("with the suppression list's Redis down and onUnavailable: 'fail', the job waits for it and the mail is sent once", async () => {
    const listServer = await OwnRedisServer.start();
    onCleanup(() => listServer.stop());
    const sink = await smtpSink();
    const { queue, events } = await app({ mode: 'both', retry: { limit: 20, backoff: { initial: 100, max: 300 }, jitter: 'none' } }, sink, {
      suppression: { redis: { url: listServer.url }, onUnavailable: 'fail', circuit: { probeInterval: 50, maxProbeInterval: 200 } },
    });
    await listServer.kill();
    const { messageId } = await queue.enqueue(mail(1));
    await until(() => events.some((e) => e.type === MAIL_QUEUE_EVENTS.failed), 10_000, 'a refused attempt');
    expect(sink.received).toHaveLength(0);
    await listServer.restart();
    await until(() => sink.received.length > 0, 20_000, 'the delivery');
    await new Promise((r) => setTimeout(r, 300));
    expect(sink.received.map((m) => m.parsed.messageId)).toEqual([messageId]);
    const failed = events.filter((e) => e.type === MAIL_QUEUE_EVENTS.failed) as MailQueueFailedEvent[];
    expect(failed.every((e) => e.error instanceof SuppressionUnavailableError && !e.final)).toBe(true);
    expect(events.filter((e) => e.type === MAIL_QUEUE_EVENTS.sent)).toMatchObject([{ attempt: failed.length + 1 }]);
  });

  it('shuts down during an outage without waiting for Redis', async () => {
    const sink = await smtpSink();
    const { moduleRef } = await app({ mode: 'both' }, sink);
    await redis().kill();
    await new Promise((r) => setTimeout(r, 200));
    const { ms } = await timed(() => moduleRef.close());
    expect(ms).toBeLessThan(15_000);
  });

  it("an application's client: its options are kept, enqueue() is still bounded", async () => {
    const client = new Redis(redis().url, { maxRetriesPerRequest: null });
    client.on('error', () => undefined);
    onCleanup(() => void client.disconnect());
    const options = { ...client.options };
    const { queue } = await app({ mode: 'producer', connection: client });
    await queue.enqueue(mail(0));
    await redis().kill();
    // Once the client knows (before that, its offline queue takes the job, and the outcome is
    // 'unknown': see docs/queue.md on an application's client).
    await until(() => client.status !== 'ready', 5_000, 'the client to notice');
    const { value: error, ms } = await timed(() => queue.enqueue(mail(1)).then(() => undefined, (e: unknown) => e));
    expect(error).toMatchObject({ code: 'MAILER_QUEUE_UNAVAILABLE', outcome: 'not-added' });
    expect(ms).toBeLessThan(3_000);
    expect(client.options).toEqual(options);
  });
});
