import 'reflect-metadata';
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { Queue } from 'bullmq';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MailerQueue } from '../../../lib/queue/index.js';
import { redisUrl, stopRedis } from '../../support/redis.js';
import { compileLib } from './fixtures/compile-lib.js';
import { QueueTestBed, until } from './queue-support.js';

/*
 * Real worker processes (test/e2e/queue/fixtures/queue-worker.mjs) against a real Redis and a
 * real SMTP server whose DATA reply the test holds back: a worker killed or stopped mid-send
 * must leave its mail to another worker, and the mail must arrive exactly once.
 */

const WORKER = fileURLToPath(new URL('./fixtures/queue-worker.mjs', import.meta.url));

let lib: string;
let bed: QueueTestBed;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  lib = await compileLib();
}, 120_000);

afterEach(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  children.clear();
  await bed?.cleanup();
});

afterAll(async () => {
  await stopRedis();
});

interface WorkerMessage {
  ready?: boolean;
  event?: string;
  jobId?: string;
  attempt?: number;
  final?: boolean;
  messageId?: string;
  error?: string;
}

interface WorkerHandle {
  child: ChildProcess;
  messages: WorkerMessage[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

async function startWorker(env: Record<string, string>): Promise<WorkerHandle> {
  const child = fork(WORKER, [], {
    env: { ...process.env, MAILROOM_LIB: lib, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.add(child);
  const messages: WorkerMessage[] = [];
  child.on('message', (m: WorkerMessage) => messages.push(m));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  await Promise.race([
    until(() => messages.some((m) => m.ready), 30_000, 'worker ready'),
    exited.then(({ code, signal }) => { throw new Error(`worker exited before it was ready (code ${code}, signal ${signal})`); }),
  ]);
  return { child, messages, exited };
}

/**
 * An SMTP server that answers DATA through `decide(n)` (n counts DATA commands from 1):
 * `accept`, `hold` (never answer; the client must give up or die) or a number of milliseconds to
 * wait before accepting. Parsed mails that were accepted are in `received`.
 */
async function holdingSink(decide: (n: number) => 'accept' | 'hold' | number) {
  const received: ParsedMail[] = [];
  let dataStarted = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      const n = ++dataStarted;
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const how = decide(n);
        if (how === 'hold') return;
        const accept = () => {
          simpleParser(Buffer.concat(chunks)).then((parsed) => {
            received.push(parsed);
            callback();
          }, (error: Error) => callback(error));
        };
        if (how === 'accept') accept();
        else setTimeout(accept, how);
      });
    },
  });
  server.on('error', () => { /* dropped connections are the point */ });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.server.address() as AddressInfo).port;
  bed.defer(() => new Promise<void>((resolve) => {
    for (const c of (server as unknown as { connections: Set<{ _socket: { destroy(): void } }> }).connections) c._socket.destroy();
    server.close(() => resolve());
  }));
  return { url: `smtp://127.0.0.1:${port}?tlsMode=none`, received, get dataStarted() { return dataStarted; } };
}

async function producer(): Promise<MailerQueue> {
  const app = await bed.app(undefined, { mode: 'producer' });
  return app.get(MailerQueue);
}

async function jobState(jobId: string): Promise<string> {
  const q = new Queue('mail', { connection: { url: await redisUrl() } as never, prefix: bed.prefix });
  try {
    return await q.getJobState(jobId);
  } finally {
    await q.close();
  }
}

async function jobResult(jobId: string): Promise<unknown> {
  const q = new Queue('mail', { connection: { url: await redisUrl() } as never, prefix: bed.prefix });
  try {
    return (await q.getJob(jobId))?.returnvalue;
  } finally {
    await q.close();
  }
}

const mail = (subject: string) => ({ from: 'Shop <shop@example.com>', to: 'ada@example.org', subject, text: `${subject} body` });

describe('queue workers as real processes', () => {
  it('a worker killed with SIGKILL mid-send leaves its job to another worker; the mail arrives once', async () => {
    bed = new QueueTestBed('sigkill');
    const sink = await holdingSink((n) => (n === 1 ? 'hold' : 'accept'));
    const env = { SMTP_URL: sink.url, REDIS_URL: await redisUrl(), QUEUE_PREFIX: bed.prefix, LOCK_DURATION: '2000', STALLED_INTERVAL: '1000' };
    const queue = await producer();
    const first = await startWorker(env);
    const { jobId, messageId } = await queue.enqueue(mail('crash'), { jobId: 'order-1-crash' });
    await until(() => sink.dataStarted === 1, 15_000, 'first DATA');
    first.child.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    expect(sink.received).toHaveLength(0);

    const second = await startWorker(env);
    await until(() => sink.received.length === 1, 30_000, 'delivery by the second worker');
    expect(sink.received[0]!.messageId).toBe(messageId);
    expect(sink.received[0]!.subject).toBe('crash');
    await until(async () => (await jobState(jobId)) === 'completed', 10_000, 'completed');
    await until(() => second.messages.some((m) => m.event === 'mail.queue.sent'), 10_000, 'sent event');
    expect(second.messages.filter((m) => m.event === 'mail.queue.sent').map((m) => m.messageId)).toEqual([messageId]);
    // Another stalled-check round must not bring it back a second time.
    await new Promise((r) => setTimeout(r, 2_500));
    expect(sink.received).toHaveLength(1);
    expect(sink.dataStarted).toBe(2);
  }, 90_000);

  it('SIGTERM during a send: the send finishes, then the worker exits; the mail arrives once', async () => {
    bed = new QueueTestBed('sigterm-finish');
    const sink = await holdingSink((n) => (n === 1 ? 1_500 : 'accept'));
    const env = { SMTP_URL: sink.url, REDIS_URL: await redisUrl(), QUEUE_PREFIX: bed.prefix, SHUTDOWN_TIMEOUT: '20000' };
    const queue = await producer();
    const worker = await startWorker(env);
    const { jobId, messageId } = await queue.enqueue(mail('graceful'));
    await until(() => sink.dataStarted === 1, 15_000, 'first DATA');
    worker.child.kill('SIGTERM');
    await worker.exited;
    expect(sink.received.map((m) => m.messageId)).toEqual([messageId]);
    expect(await jobState(jobId)).toBe('completed');
    expect(await jobResult(jobId)).toMatchObject({ messageId, accepted: ['ada@example.org'] });
  }, 60_000);

  it('SIGTERM with a send that outlasts shutdownTimeout: the job goes back to the queue and another worker delivers it', async () => {
    bed = new QueueTestBed('sigterm-return');
    const sink = await holdingSink((n) => (n === 1 ? 'hold' : 'accept'));
    const env = { SMTP_URL: sink.url, REDIS_URL: await redisUrl(), QUEUE_PREFIX: bed.prefix, SHUTDOWN_TIMEOUT: '500' };
    const queue = await producer();
    const first = await startWorker(env);
    const { jobId, messageId } = await queue.enqueue(mail('returned'));
    await until(() => sink.dataStarted === 1, 15_000, 'first DATA');
    first.child.kill('SIGTERM');
    await first.exited;
    expect(sink.received).toHaveLength(0);
    expect(await jobState(jobId)).toBe('waiting');
    expect(first.messages.some((m) => m.event === 'mail.queue.failed')).toBe(false);

    const second = await startWorker(env);
    await until(() => sink.received.length === 1, 20_000, 'delivery by the second worker');
    expect(sink.received[0]!.messageId).toBe(messageId);
    await until(() => second.messages.some((m) => m.event === 'mail.queue.sent'), 10_000, 'sent event');
    expect(second.messages.find((m) => m.event === 'mail.queue.sent')).toMatchObject({ jobId, attempt: 1 });
    await until(async () => (await jobState(jobId)) === 'completed', 10_000, 'completed');
  }, 60_000);
});
