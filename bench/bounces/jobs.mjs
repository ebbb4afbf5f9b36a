// `mailroom bounce --jobs N` on a mailbox dump: bounces per second with 1, 2, … worker threads.
//   node bench/bounces/jobs.mjs            (after npm run build)
//   CORPUS_DIR=/path/to/corpora/bounces COPIES=6 ROUNDS=3 JOBS=1,2,auto node bench/bounces/jobs.mjs
//
// The dump is the corpus's maildir named COPIES times on one command line, so every run parses the same
// messages; each round runs every job count once, in turn, and the best round of each is reported
// (the machine is shared). Output is checked equal to the one-thread output in every run.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const corpus = process.env.CORPUS_DIR ?? path.join(repo, '../shared/corpora/bounces');
const pkg = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8'));
const cli = process.env.MAILROOM_CLI ?? path.join(repo, pkg.bin['nestjs-mailroom']);
const COPIES = Number(process.env.COPIES ?? 6);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const JOBS = (process.env.JOBS ?? '1,2,auto').split(',');
const dump = Array.from({ length: COPIES }, () => path.join(corpus, 'corpus/maildir'));

function once(jobs) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [cli, 'bounce', '--jobs', jobs, ...dump], { maxBuffer: 1 << 28, encoding: 'utf8' });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`--jobs ${jobs} exited ${r.status}: ${r.stderr}`);
  return { seconds, out: r.stdout };
}

const reference = once('1').out;
const messages = reference.split('\n').filter(Boolean).length;
const best = new Map(JOBS.map((j) => [j, Infinity]));
for (let round = 0; round < ROUNDS; round++) {
  for (const jobs of JOBS) {
    const { seconds, out } = once(jobs);
    if (out !== reference) throw new Error(`--jobs ${jobs} printed something else than --jobs 1`);
    best.set(jobs, Math.min(best.get(jobs), seconds));
  }
}
const cpu = os.cpus();
console.log(`${messages} messages per run (the maildir ${COPIES} times), best of ${ROUNDS} rounds, whole command incl. start-up`);
console.log(`machine: ${os.availableParallelism()} cores available (${cpu[0]?.model ?? 'unknown CPU'}), Node ${process.version}`);
const one = best.get('1') ?? best.get(JOBS[0]);
for (const [jobs, seconds] of best) {
  const rate = Math.round(messages / seconds);
  console.log(`--jobs ${jobs.padEnd(4)} ${seconds.toFixed(2)} s  ${String(rate).padStart(6)} bounces/s  ${(one / seconds).toFixed(2)}x of --jobs 1`);
}
