import 'reflect-metadata';
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SpanKind, trace } from '@opentelemetry/api';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MailerQueue } from '../../../lib/queue/index.js';
import { redisUrl, stopRedis } from '../../support/redis.js';
import { collect, registerOtel, type OtelHarness } from '../../support/otel.js';
import { compileLib } from '../queue/fixtures/compile-lib.js';
import { QueueTestBed, until } from '../queue/queue-support.js';

/*
 * A mail enqueued inside a request's span is sent by a worker in another process (started here,
 * with its own SDK) against a real Redis and a real SMTP server: the worker's spans continue the
 * request's trace through the context stored in the job. Fails when no Redis can be had.
 */

const WORKER = fileURLToPath(new URL('./fixtures/traced-worker.mjs', import.meta.url));

interface ExportedSpan {
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  attributes: Record<string, unknown>;
}

let lib: string;
let otel: OtelHarness;
let bed: QueueTestBed;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  otel = registerOtel();
  lib = await compileLib();
}, 120_000);

afterEach(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  children.clear();
  await bed?.cleanup();
});

afterAll(async () => {
  await otel.shutdown();
  await stopRedis();
});

async function startWorker(env: Record<string, string>): Promise<ExportedSpan[]> {
  const child = fork(WORKER, [], { env: { ...process.env, MAILROOM_LIB: lib, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  children.add(child);
  const spans: ExportedSpan[] = [];
  let ready = false;
  child.on('message', (m: { ready?: boolean; spans?: ExportedSpan[] }) => {
    if (m.ready) ready = true;
    if (m.spans) spans.push(...m.spans);
  });
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`worker exited (code ${code})`))));
  await Promise.race([until(() => ready, 30_000, 'worker ready'), exited]);
  return spans;
}

describe('a queued mail continues the trace of the request that enqueued it', () => {
  it('request → mail.enqueue (producer) → mail.process (consumer, other process) → mail.send → mail.attempt', async () => {
    bed = new QueueTestBed('otel');
    const sink = await bed.sink();
    const workerSpans = await startWorker({ SMTP_URL: `${sink.url}?tlsMode=none`, REDIS_URL: await redisUrl(), QUEUE_PREFIX: bed.prefix });
    const app = await bed.app(undefined, { mode: 'producer' });
    const queue = app.get(MailerQueue);

    const { jobId } = await trace.getTracer('test').startActiveSpan('POST /signup', async (request) => {
      try {
        return await queue.enqueue({ from: 'shop@example.com', to: 'ada@example.org', subject: 'Welcome', text: 'x' });
      } finally {
        request.end();
      }
    });
    await until(() => workerSpans.some((s) => s.name === 'mail.process'), 20_000, 'the worker\'s spans');
    expect(await sink.waitFor(1)).toHaveLength(1);

    const request = otel.spans().find((s) => s.name === 'POST /signup')!;
    const enqueue = otel.spans().find((s) => s.name === 'mail.enqueue')!;
    expect(enqueue.kind).toBe(SpanKind.PRODUCER);
    expect(enqueue.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    expect(enqueue.attributes).toMatchObject({ 'messaging.system': 'bullmq', 'messaging.destination.name': 'mail', 'messaging.message.id': jobId });

    const traceId = request.spanContext().traceId;
    const byName = (name: string) => workerSpans.find((s) => s.name === name)!;
    const processSpan = byName('mail.process');
    const send = byName('mail.send');
    const attempt = byName('mail.attempt');
    for (const span of [processSpan, send, attempt]) expect(span.traceId).toBe(traceId);
    expect(processSpan.kind).toBe(SpanKind.CONSUMER);
    expect(processSpan.parentSpanId).toBe(enqueue.spanContext().spanId);
    expect(processSpan.attributes).toMatchObject({ 'messaging.message.id': jobId, 'mailroom.job.attempt': 1 });
    expect(send.parentSpanId).toBe(processSpan.spanId);
    expect(attempt.parentSpanId).toBe(send.spanId);
    expect(attempt.attributes).toMatchObject({ 'mailroom.transport': 'default', 'mailroom.outcome': 'sent' });
  }, 60_000);

  it('reports the queue\'s jobs by state as a gauge', async () => {
    bed = new QueueTestBed('otel-gauge');
    const app = await bed.app(undefined, { mode: 'producer' });
    const queue = app.get(MailerQueue);
    await queue.enqueue({ from: 'shop@example.com', to: 'ada@example.org', subject: 'Later', text: 'x' }, { delay: 60_000 });
    await queue.enqueue({ from: 'shop@example.com', to: 'ada@example.org', subject: 'Now', text: 'x' });
    await collect(otel);
    const states = Object.fromEntries(otel.points('mailroom.queue.jobs')
      .filter((p) => p.attributes['messaging.destination.name'] === 'mail')
      .map((p) => [p.attributes['mailroom.queue.state'], p.value]));
    expect(states).toMatchObject({ waiting: 1, delayed: 1, active: 0, failed: 0 });
  }, 30_000);
});
