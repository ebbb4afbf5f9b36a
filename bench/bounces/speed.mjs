// Throughput of the SMTP reply classifier and of the bounce parser, on one core.
//   node bench/bounces/speed.mjs            (the built package; build first with npm run build)
//   MAILROOM_ENTRY=/path/to/other/build/index.js CORPUS_DIR=/path/to/corpora/bounces node bench/bounces/speed.mjs
//   SECONDS=2 ROUNDS=5 (each round runs every measurement once, for SECONDS each; the best round counts)
//
// The machines this runs on are shared, so a single run is at the mercy of the other jobs: the
// measurements are interleaved round by round and the best round of each is reported, with the median
// beside it, per wall second and per second of this process's own CPU time.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const corpus = process.env.CORPUS_DIR ?? path.join(repo, '../shared/corpora/bounces');
const { classifySmtpReply, parseBounce } = await import(process.env.MAILROOM_ENTRY ? pathToFileURL(process.env.MAILROOM_ENTRY).href : 'nestjs-mailroom');
const { MailParser, simpleParser } = await import('mailparser');
const SECONDS = Number(process.env.SECONDS ?? 2);
const ROUNDS = Number(process.env.ROUNDS ?? 5);

const REPLIES = [
  [550, '5.1.1 <kijitora@example.jp>: Recipient address rejected: User unknown in local recipient table'],
  [421, '4.7.0 Try again later, closing connection. (EHLO) ab12-20020a17 - gsmtp'],
  [552, '5.2.2 The email account that you tried to reach is over quota. Please direct the recipient to https://support.google.com/mail/?p=OverQuotaPerm'],
  [554, '5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/192.0.2.1'],
  [550, '5.7.26 This mail is unauthenticated, which poses a security risk to the sender and Gmail users, and has been blocked.'],
  [451, '4.3.0 Temporary local problem - please try later'],
  [250, '2.0.0 Ok: queued as 4BqW2x0cQLz9sWR'],
  [550, 'Requested action not taken: mailbox unavailable (S2017062302)'],
  [553, '5.1.3 The recipient address <a@@b> is not a valid RFC-5321 address.'],
  [421, 'Too many concurrent SMTP connections; please try again later.'],
];

const dir = path.join(corpus, 'corpus/maildir/bsd');
const files = fs.readdirSync(dir).sort().map((f) => fs.readFileSync(path.join(dir, f)));

/** Runs `batch` (which handles `per` items) for SECONDS; items per wall second and per CPU second. */
async function measure(batch, per) {
  let n = 0;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const end = t0 + SECONDS * 1000;
  while (performance.now() < end) {
    await batch();
    n += per;
  }
  const wall = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  return { wall: n / wall, cpu: n / ((c.user + c.system) / 1e6) };
}

let sink = 0;
const classify = () => {
  for (let i = 0; i < 1000; i++) {
    const [code, text] = REPLIES[i % REPLIES.length];
    sink += classifySmtpReply(code, text, 'a@b.test').retryable ? 1 : 0;
  }
};
const parse = async () => {
  for (const b of files) sink += (await parseBounce(b)).length;
};
// The same MailParser options as the parser's own MIME pass, every part drained: the floor.
const MP_OPTIONS = { skipHtmlToText: true, skipTextToHtml: true, skipImageLinks: true, skipTextLinks: true, keepDeliveryStatus: true, ignoreEmbedded: true, checksumAlgo: false };
const mailparserOnce = (b) => new Promise((resolve, reject) => {
  const p = new MailParser(MP_OPTIONS);
  p.on('data', (d) => {
    if (d.type === 'attachment') {
      d.content.on('data', () => {});
      d.content.on('end', () => d.release());
    }
  });
  p.on('end', resolve);
  p.on('error', reject);
  p.end(b);
});
const mailparser = async () => {
  for (const b of files) await mailparserOnce(b);
};
const simple = async () => {
  for (const b of files) await simpleParser(b, { skipHtmlToText: true, skipTextToHtml: true, skipImageLinks: true, skipTextLinks: true, keepDeliveryStatus: true });
};

const runs = { classifySmtpReply: [], parseBounce: [], mailparserStream: [], simpleParser: [] };
await measure(classify, 1000);
await measure(parse, files.length);
for (let r = 0; r < ROUNDS; r++) {
  runs.classifySmtpReply.push(await measure(classify, 1000));
  runs.parseBounce.push(await measure(parse, files.length));
  runs.mailparserStream.push(await measure(mailparser, files.length));
  runs.simpleParser.push(await measure(simple, files.length));
}
// Reports about many recipients: the time per recipient at 1,000 and at 16,000 should be about the
// same (a parser that rereads the whole report for each recipient grows with the square).
const bigReport = (n) => {
  const addrs = Array.from({ length: n }, (_, i) => `user${i}@receiver.test`);
  return Buffer.from(`From: MAILER-DAEMON@mx.sender.test\nSubject: failure notice\n\n${addrs.map((a) => `<${a}>:\n550 5.1.1 no such user\n`).join('\n')}`);
};
const perRecipientUs = async (n) => {
  const b = bigReport(n);
  await parseBounce(b);
  const t0 = performance.now();
  const r = await parseBounce(b);
  if (r.length !== n) throw new Error(`expected ${n} results, got ${r.length}`);
  return Math.round(((performance.now() - t0) * 1000) / n * 10) / 10;
};
const large = { usPerRecipientAt1000: await perRecipientUs(1000), usPerRecipientAt16000: await perRecipientUs(16000) };

const summary = (list) => {
  const by = (k) => list.map((x) => x[k]).sort((a, b) => a - b);
  const mid = (a) => a[Math.floor(a.length / 2)];
  return { bestWall: Math.round(by('wall').at(-1)), medianWall: Math.round(mid(by('wall'))), bestCpu: Math.round(by('cpu').at(-1)), medianCpu: Math.round(mid(by('cpu'))) };
};
console.log(JSON.stringify({
  node: process.version,
  loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100),
  cpus: os.cpus().length,
  cpuModel: os.cpus()[0]?.model,
  rounds: ROUNDS,
  secondsEach: SECONDS,
  corpusFiles: files.length,
  meanBytes: Math.round(files.reduce((a, b) => a + b.length, 0) / files.length),
  classifySmtpReply: summary(runs.classifySmtpReply),
  parseBounce: summary(runs.parseBounce),
  mailparserStream: summary(runs.mailparserStream),
  simpleParser: summary(runs.simpleParser),
  largeReports: large,
  sink: sink > 0,
}, null, 1));
