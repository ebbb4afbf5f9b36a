// The mail queue end to end: a producer (this process) enqueues mails through MailerQueue, worker
// processes (this file with the argument `worker`) take them from Redis and send them with
// MailerService to an SMTP sink in its own process (support/sink-process.mjs). Measured:
//   direct      one process sending with MailerService.send, 10 in flight: the baseline
//   1 worker    queue throughput with one worker process (concurrency 10)
//   2 workers   the same with two worker processes
//   memory      one worker through a long run: RSS and heap sampled every few seconds
// Needs Redis (REDIS_URL, default redis://127.0.0.1:6379) and a build: npm run build.
// Sizes: BENCH_QUEUE_MAILS (5000) per throughput run, BENCH_QUEUE_MEMORY_MAILS (50000; 0 skips),
// BENCH_QUEUE_CONCURRENCY (10), BENCH_QUEUE_SAMPLE_MS (3000).
import 'reflect-metadata';
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Redis } from 'ioredis';
import { MailerModule, MailerQueue, MailerQueueModule, MailerService } from 'nestjs-mailroom';
import { startSinkProcess } from './support/sink.mjs';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const MAILS = Number(process.env.BENCH_QUEUE_MAILS ?? 5_000);
const MEMORY_MAILS = Number(process.env.BENCH_QUEUE_MEMORY_MAILS ?? 50_000);
const CONCURRENCY = Number(process.env.BENCH_QUEUE_CONCURRENCY ?? 10);
const SAMPLE_MS = Number(process.env.BENCH_QUEUE_SAMPLE_MS ?? 3_000);
const FROM = 'Lumen & Co <orders@lumen.example>';
const HTML = `<p>Hello,</p><p>${'Your order has shipped and is on its way. '.repeat(12)}</p>`;
const TEXT = `Hello,\n\n${'Your order has shipped and is on its way. '.repeat(12)}\n`;
const SELF = fileURLToPath(import.meta.url);

const mail = (i) => ({ from: FROM, to: `customer${i}@example.org`, subject: `Order ${i} has shipped`, html: HTML, text: TEXT });

async function appContext(imports) {
  class BenchModule {}
  Module({ imports })(BenchModule);
  return NestFactory.createApplicationContext(BenchModule, { logger: ['error', 'warn'] });
}

const smtp = (port) => ({ transport: `smtp://127.0.0.1:${port}?tlsMode=none&pool=true&maxConnections=5` });

// ---- child roles ------------------------------------------------------------------------------

async function workerRole() {
  const { SINK_PORT, QUEUE_PREFIX } = process.env;
  const app = await appContext([
    MailerModule.forRoot({ ...smtp(SINK_PORT), suppression: false, retry: false }),
    MailerQueueModule.forRoot({ connection: { url: REDIS_URL }, prefix: QUEUE_PREFIX, mode: 'worker', concurrency: CONCURRENCY }),
  ]);
  app.enableShutdownHooks();
  let sent = 0;
  let failed = 0;
  app.get(MailerQueue).events$.subscribe((e) => {
    if (e.type === 'mail.queue.sent') sent += 1;
    else if (e.type === 'mail.queue.failed') failed += 1;
  });
  const sample = (collected = false) => {
    // A full collection first measures what is retained rather than what awaits collection.
    if (collected) global.gc?.();
    const m = process.memoryUsage();
    const c = process.cpuUsage();
    process.send({ sample: { t: Date.now(), rss: m.rss, heapUsed: m.heapUsed, cpu: c.user + c.system, sent, failed, collected } });
  };
  setInterval(sample, SAMPLE_MS).unref();
  process.on('message', (msg) => { if (msg === 'sample') sample(true); });
  sample(true);
  process.send({ ready: true });
}

async function directRole() {
  const app = await appContext([MailerModule.forRoot({ ...smtp(process.env.SINK_PORT), suppression: false, retry: false })]);
  const mailer = app.get(MailerService);
  const n = Number(process.env.DIRECT_MAILS);
  let next = 0;
  const started = performance.now();
  const cpu = process.cpuUsage();
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < n) await mailer.send(mail(next++));
  }));
  const elapsed = performance.now() - started;
  const used = process.cpuUsage(cpu);
  process.send({ done: true, elapsed, cpuPerMail: (used.user + used.system) / n });
  await app.close();
  process.exit(0);
}

// ---- producer / orchestration -----------------------------------------------------------------

function startChild(role, env) {
  const child = fork(SELF, [role], { env: { ...process.env, ...env }, execArgv: ['--expose-gc'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const samples = [];
  let resolveReady;
  let resolveDone;
  const ready = new Promise((r) => { resolveReady = r; });
  const done = new Promise((r) => { resolveDone = r; });
  child.on('message', (m) => {
    if (m.ready) resolveReady();
    if (m.sample) samples.push(m.sample);
    if (m.done) resolveDone(m);
  });
  const exited = new Promise((r) => child.once('exit', r));
  return { child, ready, done, samples, exited };
}

async function deleteKeys(redis, prefix) {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== '0');
}

async function waitForSink(sink, target, onTick) {
  for (;;) {
    const n = await sink.count();
    onTick?.(n);
    if (n >= target) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function enqueueAll(queue, n, offset) {
  const started = performance.now();
  for (let i = 0; i < n; i += 500) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + 500); j++) batch.push(mail(offset + j));
    await queue.enqueueBatch(batch);
  }
  return performance.now() - started;
}

async function queueRun(sink, redis, { workers, mails, memory = false }) {
  const prefix = `mailroom-bench:${randomUUID()}`;
  const producer = await appContext([MailerQueueModule.forRoot({ connection: { url: REDIS_URL }, prefix, mode: 'producer' })]);
  const queue = producer.get(MailerQueue);
  const children = Array.from({ length: workers }, () => startChild('worker', { SINK_PORT: String(sink.port), QUEUE_PREFIX: prefix }));
  await Promise.all(children.map((c) => c.ready));
  const before = await sink.count();
  const started = performance.now();
  let enqueueMs = 0;
  const enqueuing = enqueueAll(queue, mails, before).then((ms) => { enqueueMs = ms; });
  let lastReport = 0;
  await waitForSink(sink, before + mails, (n) => {
    if (memory && performance.now() - lastReport > 10_000) {
      lastReport = performance.now();
      process.stdout.write(`  … ${n - before} / ${mails}\n`);
    }
  });
  const elapsed = performance.now() - started;
  await enqueuing;
  for (const c of children) c.child.send('sample');
  await new Promise((r) => setTimeout(r, 200));
  for (const c of children) c.child.kill('SIGTERM');
  await Promise.all(children.map((c) => c.exited));
  await producer.close();
  await deleteKeys(redis, prefix);
  // Worker CPU from readiness to the end, over every worker: what one queued mail costs a worker.
  const cpu = children.reduce((sum, c) => sum + c.samples[c.samples.length - 1].cpu - c.samples[0].cpu, 0);
  return { elapsed, enqueueMs, samples: children[0].samples, cpuPerMail: cpu / mails };
}

async function directRun(sink, mails) {
  const child = startChild('direct', { SINK_PORT: String(sink.port), DIRECT_MAILS: String(mails) });
  const result = await child.done;
  await child.exited;
  return result;
}

const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

async function main() {
  const redis = new Redis(REDIS_URL, { lazyConnect: true });
  await redis.connect().catch((error) => {
    throw new Error(`bench/queue.mjs needs Redis at ${REDIS_URL} (set REDIS_URL): ${error.message}`);
  });
  const sink = await startSinkProcess();
  console.log(`queue bench: ${MAILS} mails per throughput run, worker concurrency ${CONCURRENCY}, node ${process.version}`);

  await directRun(sink, Math.min(500, MAILS)); // warm-up: the sink's and the OS's first connections
  const direct = await directRun(sink, MAILS);
  const directRate = MAILS / (direct.elapsed / 1000);
  console.log(`direct     ${directRate.toFixed(0).padStart(6)} mails/s  (${(direct.cpuPerMail).toFixed(0)} µs CPU per mail)`);
  for (const workers of [1, 2]) {
    const r = await queueRun(sink, redis, { workers, mails: MAILS });
    const rate = MAILS / (r.elapsed / 1000);
    console.log(`${workers} worker${workers > 1 ? 's' : ' '}  ${rate.toFixed(0).padStart(6)} mails/s end to end  (${(rate / directRate).toFixed(2)}× direct; worker CPU ${r.cpuPerMail.toFixed(0)} µs per mail, ${(r.cpuPerMail / direct.cpuPerMail).toFixed(2)}× direct; enqueue ${(MAILS / (r.enqueueMs / 1000)).toFixed(0)} mails/s)`);
  }

  if (MEMORY_MAILS > 0) {
    console.log(`memory run: ${MEMORY_MAILS} mails, one worker, sampled every ${SAMPLE_MS} ms`);
    const r = await queueRun(sink, redis, { workers: 1, mails: MEMORY_MAILS, memory: true });
    const s = r.samples;
    const first = s[0];
    const last = s[s.length - 1];
    const max = (key) => Math.max(...s.map((x) => x[key]));
    console.log(`  ${(MEMORY_MAILS / (r.elapsed / 1000)).toFixed(0)} mails/s, worker CPU ${r.cpuPerMail.toFixed(0)} µs per mail, over ${(r.elapsed / 1000).toFixed(0)} s, ${s.length} samples, ${last.sent} sent, ${last.failed} failed`);
    console.log(`  rss       start ${mb(first.rss)}  end ${mb(last.rss)}  max ${mb(max('rss'))}`);
    console.log(`  heapUsed  start ${mb(first.heapUsed)}  end ${mb(last.heapUsed)}  max ${mb(max('heapUsed'))}  (start and end after a full collection: what is retained)`);
    const third = Math.floor(s.length / 3);
    if (third > 0) {
      const avg = (xs) => xs.reduce((a, x) => a + x.heapUsed, 0) / xs.length;
      console.log(`  heapUsed mean, first third ${mb(avg(s.slice(0, third)))}, last third ${mb(avg(s.slice(-third)))}`);
    }
  }

  await sink.stop();
  await redis.quit();
}

const role = process.argv[2];
if (role === 'worker') await workerRole();
else if (role === 'direct') await directRole();
else await main();
