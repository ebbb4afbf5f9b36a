// Throughput of the SMTP reply classifier and of the bounce parser, on one core.
//   node bench/bounces/speed.mjs            (uses dist/; build first with tsc -p tsconfig.build.json)
//   MAILROOM_DIST=/path/to/dist CORPUS_DIR=/path/to/corpora/bounces node bench/bounces/speed.mjs
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dist = process.env.MAILROOM_DIST ?? path.join(repo, 'dist');
const corpus = process.env.CORPUS_DIR ?? path.join(repo, '../shared/corpora/bounces');
const { classifySmtpReply, parseBounce } = await import(pathToFileURL(path.join(dist, 'bounces/index.js')).href);

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

function benchReplies(seconds) {
  let n = 0;
  let sink = 0;
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  while (performance.now() < end) {
    for (let i = 0; i < 1000; i++) {
      const [code, text] = REPLIES[i % REPLIES.length];
      sink += classifySmtpReply(code, text, 'a@b.test').retryable ? 1 : 0;
    }
    n += 1000;
  }
  const s = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  return { perSecond: Math.round(n / s), perCpuSecond: Math.round(n / ((c.user + c.system) / 1e6)), sink };
}

async function benchParse(seconds) {
  const dir = path.join(corpus, 'corpus/maildir/bsd');
  const files = fs.readdirSync(dir).map((f) => fs.readFileSync(path.join(dir, f)));
  let n = 0;
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  while (performance.now() < end) {
    for (const b of files) await parseBounce(b);
    n += files.length;
  }
  const s = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  return { perSecond: Math.round(n / s), perCpuSecond: Math.round(n / ((c.user + c.system) / 1e6)), files: files.length, meanBytes: Math.round(files.reduce((a, b) => a + b.length, 0) / files.length) };
}

benchReplies(1); // warm-up
const replies = benchReplies(Number(process.env.SECONDS ?? 3));
await benchParse(1);
const parse = await benchParse(Number(process.env.SECONDS ?? 3));
// Mailparser alone on the same files: the floor the parser cannot go below.
const { MailParser } = await import('mailparser');
async function benchMailparser(seconds) {
  const dir = path.join(corpus, 'corpus/maildir/bsd');
  const files = fs.readdirSync(dir).map((f) => fs.readFileSync(path.join(dir, f)));
  const opts = { skipTextToHtml: true, skipImageLinks: true, skipTextLinks: true, keepDeliveryStatus: true, ignoreEmbedded: true, checksumAlgo: false };
  let n = 0;
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  while (performance.now() < end) {
    for (const b of files) {
      await new Promise((resolve, reject) => {
        const p = new MailParser(opts);
        p.on('data', (d) => { if (d.type === 'attachment') { d.content.on('data', () => {}); d.content.on('end', () => d.release()); } });
        p.on('end', resolve);
        p.on('error', reject);
        p.end(b);
      });
    }
    n += files.length;
  }
  const c = process.cpuUsage(c0);
  return { perSecond: Math.round(n / ((performance.now() - t0) / 1000)), perCpuSecond: Math.round(n / ((c.user + c.system) / 1e6)) };
}
const floor = await benchMailparser(Number(process.env.SECONDS ?? 3));
console.log(JSON.stringify({
  node: process.version,
  classifySmtpReply: { perSecond: replies.perSecond, perCpuSecond: replies.perCpuSecond },
  parseBounce: { perSecond: parse.perSecond, perCpuSecond: parse.perCpuSecond },
  mailparserAlone: floor,
  corpusFiles: parse.files,
  meanBytes: parse.meanBytes,
}));
