// HTTP provider transports against a Postmark-like fake that runs in its own process:
//   1. 1,000 mails through MailerService.sendBatch (Postmark's /email/batch, 500 per request)
//      against MailerService.send in a loop with 10 in flight (one request per mail);
//   2. the cost of one API send through the module (MailerService.send, and PostmarkTransport.send
//      alone) against a bare fetch of the same JSON payload to the same server, one at a time,
//      the three interleaved in small blocks.
// Rounds alternate the order so that warm-up and GC pressure fall evenly.
// Run: npm run build && node bench/providers.mjs   (BENCH_MAILS, BENCH_ROUNDS, BENCH_SENDS to change sizes)
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MailerModule, MailerService, PostmarkTransport } from 'nestjs-mailroom';
import { startPostmarkFake } from './support/postmark-fake.mjs';

const MAILS = Number(process.env.BENCH_MAILS ?? 1000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SENDS = Number(process.env.BENCH_SENDS ?? 1000);
const IN_FLIGHT = 10;
const FROM = 'Lumen & Co <orders@lumen.example>';

const fake = await startPostmarkFake();

const row = (i) => `<tr><td style="padding:4px 8px">Item ${i}</td><td style="text-align:right">€${(i * 3.5).toFixed(2)}</td></tr>`;
const HTML = `<html><body><h1>Your receipt</h1><table>${Array.from({ length: 40 }, (_, i) => row(i)).join('')}</table><p>Thanks for your order.</p></body></html>`;
const TEXT = 'Your receipt\n\nThanks for your order.\n';

function mail(i) {
  return { to: { name: `Customer ${i}`, address: `customer${i}@example.org` }, subject: `Your receipt for order #${1000 + i}`, html: HTML, text: TEXT, tags: ['receipt'] };
}

function outgoing(i) {
  const to = { name: `Customer ${i}`, address: `customer${i}@example.org` };
  return {
    messageId: `<${randomUUID()}@lumen.example>`,
    from: { name: 'Lumen & Co', address: 'orders@lumen.example' },
    to: [to], cc: [], bcc: [], replyTo: [],
    subject: `Your receipt for order #${1000 + i}`,
    html: HTML, text: TEXT, attachments: [], headers: {}, tags: ['receipt'], metadata: {},
    envelope: { from: 'orders@lumen.example', to: [to.address] },
  };
}

class BenchModule {}
Module({ imports: [MailerModule.forRoot({ transport: `postmark+api://${fake.token}@${fake.host}`, defaults: { from: FROM } })] })(BenchModule);

const app = await NestFactory.createApplicationContext(BenchModule, { logger: false });
const mailer = app.get(MailerService);
const transport = new PostmarkTransport({ serverToken: fake.token, baseUrl: fake.url });

async function inFlight(items, limit, fn) {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}

async function timed(fn) {
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  await fn();
  const wall = Number(process.hrtime.bigint() - start) / 1e6;
  const used = process.cpuUsage(cpu);
  return { wall, cpu: (used.user + used.system) / 1000 };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

// 1. Batch against one request per mail.
const mails = Array.from({ length: MAILS }, (_, i) => mail(i));
const throughput = { batch: [], loop: [] };
const requests = { batch: 0, loop: 0 };
const runs = {
  batch: async () => {
    const outcomes = await mailer.sendBatch(mails);
    if (outcomes.some((o) => !o.ok)) throw new Error('a batch mail failed');
  },
  loop: () => inFlight(mails, IN_FLIGHT, (m) => mailer.send(m)),
};
for (let w = 0; w < 2; w++) {
  await runs.batch();
  await runs.loop();
}
for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 === 0 ? ['batch', 'loop'] : ['loop', 'batch'];
  for (const name of order) {
    await fake.ask('reset');
    const t = await timed(runs[name]);
    const { messages, requests: count } = await fake.ask('count');
    if (messages !== MAILS) throw new Error(`${name}: the fake received ${messages} of ${MAILS}`);
    requests[name] = count;
    throughput[name].push(MAILS / (t.wall / 1000));
  }
}

// 2. One send at a time: module against bare fetch of the same payload.
await mailer.send(mail(0));
const { last: payload } = await fake.ask('last');
const body = JSON.stringify(payload);
const headers = { 'User-Agent': 'bench', Accept: 'application/json', 'Content-Type': 'application/json', 'X-Postmark-Server-Token': fake.token };
// Blocks of BLOCK sends, the three variants interleaved block by block (in rotating order), so
// that a change in the machine's load during the run falls on all of them alike.
const BLOCK = 50;
let sequence = 0;
const single = {
  fetch: async (n) => {
    for (let i = 0; i < n; i++) {
      const res = await fetch(`${fake.url}/email`, { method: 'POST', headers, body });
      const answer = JSON.parse(await res.text());
      if (answer.ErrorCode !== 0) throw new Error('fetch: refused');
    }
  },
  transport: async (n) => {
    for (let i = 0; i < n; i++) await transport.send(outgoing(sequence++));
  },
  mailer: async (n) => {
    for (let i = 0; i < n; i++) await mailer.send(mail(sequence++));
  },
};
const names = Object.keys(single);
const perSend = Object.fromEntries(names.map((n) => [n, { wall: 0, cpu: 0, blocks: [] }]));
for (let w = 0; w < 3; w++) for (const name of names) await single[name](SENDS / 5);
const blocks = Math.max(1, Math.round((SENDS * ROUNDS) / BLOCK));
for (let blockIndex = 0; blockIndex < blocks; blockIndex++) {
  const order = names.map((_, i) => names[(i + blockIndex) % names.length]);
  for (const name of order) {
    const t = await timed(() => single[name](BLOCK));
    perSend[name].wall += t.wall;
    perSend[name].cpu += t.cpu;
    perSend[name].blocks.push((t.wall * 1000) / BLOCK);
  }
}
const sendsEach = blocks * BLOCK;
for (const name of names) {
  perSend[name].wallPer = (perSend[name].wall * 1000) / sendsEach;
  perSend[name].cpuPer = (perSend[name].cpu * 1000) / sendsEach;
  perSend[name].medianBlock = median(perSend[name].blocks);
}

await app.close();
await fake.stop();

const f0 = (n) => n.toFixed(0);
const f2 = (n) => n.toFixed(2);
const b = median(throughput.batch);
const l = median(throughput.loop);
console.log(`node ${process.version}, ${MAILS} mails, ${ROUNDS} rounds (median), fake in its own process`);
console.log('');
console.log(`1. ${MAILS} mails through MailerService`);
console.log(`   sendBatch (/email/batch, ${requests.batch} requests)      ${f0(b).padStart(7)} mails/s`);
console.log(`   send, ${IN_FLIGHT} in flight (/email, ${requests.loop} requests) ${f0(l).padStart(7)} mails/s`);
console.log(`   ratio sendBatch / send loop             ${f2(b / l).padStart(7)}×`);
console.log('');
console.log(`2. one send at a time, ${sendsEach} sends each, interleaved in blocks of ${BLOCK}, same JSON payload (${Buffer.byteLength(body)} bytes)`);
console.log('   (client CPU is the cost the module adds; wall time includes the fake server, which shares the machine)');
for (const [name, label] of [['fetch', 'bare fetch'], ['transport', 'PostmarkTransport.send'], ['mailer', 'MailerService.send']]) {
  const r = perSend[name];
  console.log(`   ${label.padEnd(24)} ${f0(r.cpuPer).padStart(5)} µs CPU  ${f0(r.wallPer).padStart(5)} µs wall (median block ${f0(r.medianBlock)} µs) per send`);
}
const fetchRun = perSend.fetch;
for (const name of ['transport', 'mailer']) {
  const r = perSend[name];
  console.log(`   ${(name === 'mailer' ? 'MailerService.send' : 'PostmarkTransport.send').padEnd(24)} / fetch: ${f2(r.cpuPer / fetchRun.cpuPer)}× CPU (+${f0(r.cpuPer - fetchRun.cpuPer)} µs), ${f2(r.wallPer / fetchRun.wallPer)}× wall (+${f0(r.wallPer - fetchRun.wallPer)} µs)`);
}
