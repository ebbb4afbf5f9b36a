// Mails per second for a templated receipt, all senders in one process, into one SMTP sink:
//   raw-html       nodemailer pool + precompiled Handlebars; HTML only, no CSS inlining, no text part
//   raw-same       nodemailer pool sending the very message mailroom sends (inlined HTML + text part);
//                  the parts come from a HandlebarsRenderer, whose render costs what plain Handlebars does
//   mailroom       MailerService, defaults (CSS inlined and text part derived at compile time)
//   incumbent      @nestjs-modules/mailer + HandlebarsAdapter (CSS inlined per send, its default; no text part)
//   mailroom-html  MailerService with text: false, i.e. the same content the incumbent sends
//   mailroom-b64   mailroom-html with the SMTP option textEncoding: 'base64' (native base64 instead of
//                  nodemailer's quoted-printable encoder)
// The senders take turns in blocks of BENCH_BLOCK mails (default 250), the order rotating from one
// turn to the next, until each has sent BENCH_MAILS (default 3000): JIT state, garbage collection and
// the machine's load then fall on all of them alike, which whole runs one after the other do not
// achieve (the sender that follows another inherits its garbage). Figures are totals over the
// blocks: mails per wall second and client CPU per mail. Run: npm run bench
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import Handlebars from 'handlebars';
import nodemailer from 'nodemailer';
import { MailerModule as IncumbentModule, MailerService as IncumbentService } from '@nestjs-modules/mailer';
import { HandlebarsAdapter } from '@nestjs-modules/mailer/adapters/handlebars.adapter';
import { HandlebarsRenderer, MailerModule, MailerService } from 'nestjs-mailroom';
import { startSinkProcess } from './support/sink.mjs';
import { receiptContext } from './support/receipt.mjs';
import { runConcurrently } from './support/concurrent-run.mjs';

const TEMPLATES = fileURLToPath(new URL('../sample-app/templates', import.meta.url));
const MAILS = Number(process.env.BENCH_MAILS ?? 3000);
const BLOCK = Number(process.env.BENCH_BLOCK ?? 250);
const CONCURRENCY = 10;
const POOL = { pool: true, maxConnections: 5, maxMessages: Infinity };
const FROM = 'Lumen & Co <orders@lumen.example>';

const sink = await startSinkProcess();
const context = receiptContext();
const subject = `Your receipt for order #${context.order.id}`;

async function rawSameSender() {
  const renderer = new HandlebarsRenderer({ dir: TEMPLATES });
  await renderer.init();
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port: sink.port, ignoreTLS: true, ...POOL });
  return {
    send: (i) => {
      const { html, text } = renderer.render('receipt', context);
      return transport.sendMail({ from: FROM, to: `customer${i}@example.org`, subject, html, text });
    },
    close: async () => { transport.close(); await renderer.close(); },
  };
}

function rawSender() {
  const hb = Handlebars.create();
  hb.registerPartial('line', readFileSync(`${TEMPLATES}/partials/line.hbs`, 'utf8'));
  const body = hb.compile(readFileSync(`${TEMPLATES}/receipt.hbs`, 'utf8'));
  const layout = hb.compile(readFileSync(`${TEMPLATES}/layouts/main.hbs`, 'utf8'));
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port: sink.port, ignoreTLS: true, ...POOL });
  return {
    send: (i) => transport.sendMail({
      from: FROM, to: `customer${i}@example.org`, subject,
      html: layout({ ...context, body: new hb.SafeString(body(context)) }),
    }),
    close: async () => transport.close(),
  };
}

async function incumbentSender() {
  const IncumbentApp = class IncumbentApp {};
  Module({
    imports: [IncumbentModule.forRoot({
      transport: { host: '127.0.0.1', port: sink.port, ignoreTLS: true, ...POOL },
      defaults: { from: FROM },
      template: { dir: TEMPLATES, adapter: new HandlebarsAdapter(), options: { strict: false } },
      options: { partials: { dir: `${TEMPLATES}/partials` }, layout: 'layouts/main' },
    })],
  })(IncumbentApp);
  const app = await NestFactory.createApplicationContext(IncumbentApp, { logger: false });
  const mailer = app.get(IncumbentService);
  return {
    send: (i) => mailer.sendMail({ to: `customer${i}@example.org`, subject, template: 'receipt', context }),
    close: () => app.close(),
  };
}

async function mailroomSender(templateOptions = {}, smtpOptions = {}) {
  const MailroomApp = class MailroomApp {};
  Module({
    imports: [MailerModule.forRoot({
      transport: { host: '127.0.0.1', port: sink.port, tlsMode: 'none', pool: { maxConnections: 5, maxMessages: 1_000_000 }, ...smtpOptions },
      defaults: { from: FROM },
      templates: { dir: TEMPLATES, ...templateOptions },
    })],
  })(MailroomApp);
  const app = await NestFactory.createApplicationContext(MailroomApp, { logger: false });
  const mailer = app.get(MailerService);
  return {
    send: (i) => mailer.send({ to: `customer${i}@example.org`, subject, template: 'receipt', context }),
    close: () => app.close(),
  };
}

async function run(sender, count) {
  const result = await runConcurrently(sender.send, count, CONCURRENCY);
  return result;
}

const makers = {
  'raw-html': rawSender,
  'raw-same': rawSameSender,
  mailroom: () => mailroomSender(),
  incumbent: incumbentSender,
  'mailroom-html': () => mailroomSender({ text: false }),
  'mailroom-b64': () => mailroomSender({ text: false }, { textEncoding: 'base64' }),
};
const senders = {};
for (const [name, make] of Object.entries(makers)) {
  senders[name] = await make();
  await run(senders[name], 300); // warm-up: JIT, pool connections, template caches
}
const names = Object.keys(makers);
const totals = Object.fromEntries(names.map((name) => [name, { seconds: 0, cpuMicros: 0, mails: 0 }]));
for (let turn = 0; turn * BLOCK < MAILS; turn += 1) {
  const order = names.map((_, i) => names[(i + turn) % names.length]);
  for (const name of order) {
    const block = await run(senders[name], Math.min(BLOCK, MAILS - turn * BLOCK));
    for (const key of Object.keys(block)) totals[name][key] += block[key];
  }
}
for (const sender of Object.values(senders)) await sender.close();
const delivered = await sink.count();
await sink.stop();

const summary = Object.fromEntries(Object.entries(totals).map(([name, t]) => [name, {
  mailsPerSecond: Math.round(t.mails / t.seconds),
  cpuMicrosPerMail: Math.round(t.cpuMicros / t.mails),
}]));
console.log(`node ${process.version}; templated receipt, ${MAILS} mails per sender in turns of ${BLOCK}, concurrency ${CONCURRENCY}, sink in its own process (${delivered} mails received)`);
console.table(summary);
const ratio = (a, b) => (a / b).toFixed(2);
const s = summary;
console.log(`mailroom time per mail vs raw nodemailer sending the same message: ${ratio(s['raw-same'].mailsPerSecond, s.mailroom.mailsPerSecond)}x wall, ${ratio(s.mailroom.cpuMicrosPerMail, s['raw-same'].cpuMicrosPerMail)}x CPU (target <= 1.15x)`);
console.log(`mailroom time per mail vs raw nodemailer sending bare HTML: ${ratio(s['raw-html'].mailsPerSecond, s.mailroom.mailsPerSecond)}x wall, ${ratio(s.mailroom.cpuMicrosPerMail, s['raw-html'].cpuMicrosPerMail)}x CPU`);
console.log(`throughput vs @nestjs-modules/mailer, same content (inlined HTML): ${ratio(s['mailroom-html'].mailsPerSecond, s.incumbent.mailsPerSecond)}x, CPU per mail ${ratio(s.incumbent.cpuMicrosPerMail, s['mailroom-html'].cpuMicrosPerMail)}x less (target >= 2x); with textEncoding base64: ${ratio(s['mailroom-b64'].mailsPerSecond, s.incumbent.mailsPerSecond)}x, ${ratio(s.incumbent.cpuMicrosPerMail, s['mailroom-b64'].cpuMicrosPerMail)}x less CPU; mailroom with its text part: ${ratio(s.mailroom.mailsPerSecond, s.incumbent.mailsPerSecond)}x`);
