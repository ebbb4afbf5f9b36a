// What telemetry costs per send: the sample app's templated receipt through MailerService into an
// SMTP sink in its own process, by five mailers in the same process:
//   off        telemetry: false — nothing instrumented (the baseline)
//   off-again  the same as off, a second time: how far two identical mailers differ in this run
//   api-only   the default with @opentelemetry/api installed and no SDK registered
//   sdk        an OpenTelemetry SDK recording every span (always-on sampling, batch processor, an
//              exporter that drops what it is handed) and every metric (a reader collected at the
//              end): the whole cost inside the process, short of the network export
//   sdk-10%    the same SDK sampling one trace in ten (ParentBased(TraceIdRatio(0.1))), metrics all
// A second phase sends the same mail through the memory transport (no socket, no MIME encoding,
// BENCH_MEMORY_MAILS, default 20000, in blocks of 1000): what is left of a send there is the
// module's own work, so the difference between the mailers is the instrumentation's cost in
// microseconds, measured with less of the machine's noise than over SMTP; it is then set against
// the CPU of an SMTP send from the first phase.
// The AsyncLocalStorage context manager is registered globally, as an SDK bootstrap does; the sdk
// mailer gets its tracer and meter providers through the telemetry options, so the global ones stay
// the API's no-ops for the other two. The mailers take turns in blocks of BENCH_BLOCK mails (default
// 250), the order rotating, until each has sent BENCH_MAILS (default 3000). Figures: client CPU per
// mail (process.cpuUsage) and mails per wall second over all blocks, and the median over the turns
// of each mailer's CPU per mail divided by off's in the same turn (steadier on a busy machine).
// Run: npm run bench:telemetry
import 'reflect-metadata';
import { fileURLToPath } from 'node:url';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base';
import { MailerModule, MailerService } from 'nestjs-mailroom';
import { startSinkProcess } from './support/sink.mjs';
import { receiptContext } from './support/receipt.mjs';
import { runConcurrently } from './support/concurrent-run.mjs';

const TEMPLATES = fileURLToPath(new URL('../sample-app/templates', import.meta.url));
const MAILS = Number(process.env.BENCH_MAILS ?? 3000);
const BLOCK = Number(process.env.BENCH_BLOCK ?? 250);
const MEMORY_MAILS = Number(process.env.BENCH_MEMORY_MAILS ?? 20000);
const CONCURRENCY = 10;
const FROM = 'Lumen & Co <orders@lumen.example>';

context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());

let exported = 0;
const droppingExporter = {
  export(spans, done) {
    exported += spans.length;
    done({ code: 0 });
  },
  shutdown: () => Promise.resolve(),
};
class CollectingReader extends MetricReader {
  onForceFlush() { return Promise.resolve(); }
  onShutdown() { return Promise.resolve(); }
}
const tracerProvider = new BasicTracerProvider({
  spanProcessors: [new BatchSpanProcessor(droppingExporter, { maxQueueSize: 65_536, maxExportBatchSize: 2_048, scheduledDelayMillis: 500 })],
});
const sampledProvider = new BasicTracerProvider({
  sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(0.1) }),
  spanProcessors: [new BatchSpanProcessor(droppingExporter, { maxQueueSize: 65_536, maxExportBatchSize: 2_048, scheduledDelayMillis: 500 })],
});
const reader = new CollectingReader();
const meterProvider = new MeterProvider({ readers: [reader] });

const sink = await startSinkProcess();
const ctx = receiptContext();
const subject = `Your receipt for order #${ctx.order.id}`;
const SMTP = { host: '127.0.0.1', port: sink.port, tlsMode: 'none', pool: { maxConnections: 5, maxMessages: 1_000_000 } };

async function mailer(telemetry, transport) {
  const App = class App {};
  Module({
    imports: [MailerModule.forRoot({ transport, defaults: { from: FROM }, templates: { dir: TEMPLATES }, telemetry })],
  })(App);
  const app = await NestFactory.createApplicationContext(App, { logger: false });
  const service = app.get(MailerService);
  return {
    send: (i) => service.send({ to: `customer${i}@example.org`, subject, template: 'receipt', context: ctx }),
    // The memory transport keeps every mail; emptied between blocks.
    clear: () => (transport === 'memory://' ? service.getTransport().clear() : undefined),
    close: () => app.close(),
  };
}

async function run(sender, count) {
  const result = await runConcurrently(sender.send, count, CONCURRENCY);
  sender.clear();
  return result;
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** One phase: the four mailers over `transport`, taking turns; per mailer totals and per-turn ratios to off. */
async function phase(transport, mails, blockSize) {
  const makers = {
    off: () => mailer(false, transport),
    'off-again': () => mailer(false, transport),
    'api-only': () => mailer(undefined, transport),
    sdk: () => mailer({ tracerProvider, meterProvider }, transport),
    'sdk-10%': () => mailer({ tracerProvider: sampledProvider, meterProvider }, transport),
  };
  const senders = {};
  for (const [name, make] of Object.entries(makers)) {
    senders[name] = await make();
    await run(senders[name], 300); // warm-up: JIT, pool connections, template caches
  }
  const names = Object.keys(makers);
  const totals = Object.fromEntries(names.map((name) => [name, { seconds: 0, cpuMicros: 0, mails: 0 }]));
  const turnRatios = Object.fromEntries(names.map((name) => [name, []]));
  for (let turn = 0; turn * blockSize < mails; turn += 1) {
    const order = names.map((_, i) => names[(i + turn) % names.length]);
    const perMail = {};
    for (const name of order) {
      const block = await run(senders[name], Math.min(blockSize, mails - turn * blockSize));
      for (const key of Object.keys(block)) totals[name][key] += block[key];
      perMail[name] = block.cpuMicros / block.mails;
    }
    for (const name of names) turnRatios[name].push(perMail[name] / perMail.off);
  }
  for (const sender of Object.values(senders)) await sender.close();
  return Object.fromEntries(Object.entries(totals).map(([name, t]) => [name, {
    mailsPerSecond: Math.round(t.mails / t.seconds),
    cpuMicrosPerMail: Math.round(t.cpuMicros / t.mails),
    cpuVsOffMedian: Number(median(turnRatios[name]).toFixed(3)),
  }]));
}

const smtp = await phase(SMTP, MAILS, BLOCK);
const memory = MEMORY_MAILS > 0 ? await phase('memory://', MEMORY_MAILS, 1000) : undefined;
await tracerProvider.forceFlush();
const { resourceMetrics } = await reader.collect();
const series = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).reduce((n, m) => n + m.dataPoints.length, 0);
await sampledProvider.forceFlush();
await tracerProvider.shutdown();
await sampledProvider.shutdown();
await meterProvider.shutdown();
const delivered = await sink.count();
await sink.stop();

console.log(`node ${process.version}; templated receipt, concurrency ${CONCURRENCY}; sdk: ${exported} spans exported, ${series} metric series`);
console.log(`SMTP: ${MAILS} mails per mailer in turns of ${BLOCK} (${delivered} received by the sink)`);
console.table(smtp);
const baseline = (p) => (p.off.cpuMicrosPerMail + p['off-again'].cpuMicrosPerMail) / 2;
for (const name of ['off-again', 'api-only', 'sdk', 'sdk-10%']) {
  console.log(`  ${name}: ${(smtp[name].cpuMicrosPerMail / baseline(smtp)).toFixed(3)}x the CPU per mail of off and off-again, median per turn vs off ${smtp[name].cpuVsOffMedian.toFixed(3)}x`);
}
if (memory) {
  console.log(`memory transport: ${MEMORY_MAILS} mails per mailer in turns of 1000`);
  console.table(memory);
  const base = baseline(memory);
  for (const name of ['off-again', 'api-only', 'sdk', 'sdk-10%']) {
    const extra = memory[name].cpuMicrosPerMail - base;
    console.log(`  ${name}: ${extra >= 0 ? '+' : ''}${extra.toFixed(0)} µs per mail (median per turn vs off ${memory[name].cpuVsOffMedian.toFixed(3)}x) = ${(100 * extra / baseline(smtp)).toFixed(1)}% of an SMTP send's CPU`);
  }
}
console.log('targets: api-only within the off/off-again spread; sdk under 5% of the CPU per mail');
