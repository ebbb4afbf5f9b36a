#!/usr/bin/env node
import { promises as fs, readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { withLineFeeds } from '../bounces/line-ends.js';
import type { MessageReport } from './bounce.rows.js';
import { ParsePool } from './parse.pool.js';

const USAGE = `Usage: nestjs-mailroom bounce <file|dir|->... [--path-prefix P]

Parses bounce, complaint and auto-reply e-mails and prints one JSON line per input file:
  {"file": "...", "results": [{"recipient", "status", "replycode", "reason", "hardbounce", "kind"}]}

"results" lists delivery failures, delay warnings and complaints only. An automatic reply adds
"autoreply": true and "from" (who answered), a challenge-response request "challenge": true and "from"
(the address the held message was sent to); recipients a report names as delivered go to "delivered",
in the shape of "results".

A directory is walked recursively; "-" reads one message (or an mbox) from standard input. A file in
mbox format (starting with "From ") is split into its messages, printed as "<file>#<n>" (n from 1).
The command is also installed as "mailroom".

Options:
  --path-prefix P   remove P from the start of every printed file name
  -j, --jobs N      parse on N worker threads ("auto": one per core); output order stays the same
  -V, --version     print the version
  -h, --help        show this help

Exit codes: 0 every input was read; 1 some path could not be read (reported on stderr); 2 usage error.
`;

interface Options {
  paths: string[];
  prefix: string;
  jobs: number;
}

/** The installed package's version, read through the package's own name (its exports allow it). */
function version(): string {
  return (createRequire(import.meta.url)('nestjs-mailroom/package.json') as { version: string }).version;
}

function parseJobs(v: string | undefined): number | string {
  if (v === undefined) return '--jobs needs a value';
  if (v === 'auto') return availableParallelism();
  if (!/^[1-9][0-9]{0,3}$/.test(v)) return `--jobs wants a whole number from 1 or "auto", not "${v}"`;
  return Number(v);
}

function parseArgs(argv: readonly string[]): Options | string {
  const paths: string[] = [];
  let prefix = '';
  let jobs = 1;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--jobs' || a === '-j' || a.startsWith('--jobs=')) {
      const n = parseJobs(a.startsWith('--jobs=') ? a.slice('--jobs='.length) : argv[++i]);
      if (typeof n === 'string') return n;
      jobs = n;
    } else if (a === '--path-prefix') {
      const v = argv[++i];
      if (v === undefined) return '--path-prefix needs a value';
      prefix = v;
    } else if (a.startsWith('--path-prefix=')) {
      prefix = a.slice('--path-prefix='.length);
    } else if (a.startsWith('-') && a !== '-') {
      return `unknown option ${a}`;
    } else {
      paths.push(a);
    }
  }
  if (paths.length === 0) return 'no file or directory given';
  return { paths, prefix, jobs };
}

/** The name standard input goes by, as an argument and in the output. */
const STDIN = '-';

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function* walk(p: string): AsyncGenerator<string> {
  if (p === STDIN) {
    yield p;
    return;
  }
  const st = await fs.stat(p);
  if (!st.isDirectory()) {
    yield p;
    return;
  }
  const entries = await fs.readdir(p, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const child = path.join(p, e.name);
    if (e.isDirectory()) yield* walk(child);
    else if (e.isFile()) yield child;
  }
}

/** Splits an mbox into messages on "From " separator lines; undefined when the data is not an mbox. */
export function splitMbox(data: Buffer): Buffer[] | undefined {
  if (data.length < 5 || data.toString('latin1', 0, 5) !== 'From ') return undefined;
  const text = data.toString('latin1');
  const starts: number[] = [0];
  const re = /\nFrom [^\n]*\n/g;
  for (let m = re.exec(text); m; m = re.exec(text)) starts.push(m.index + 1);
  if (starts.length < 2) return undefined;
  const out: Buffer[] = [];
  for (let i = 0; i < starts.length; i++) {
    const s = starts[i]!;
    const e = i + 1 < starts.length ? starts[i + 1]! : data.length;
    const firstNl = text.indexOf('\n', s);
    out.push(data.subarray(firstNl + 1, e));
  }
  return out;
}

function display(file: string, prefix: string): string {
  return prefix && file.startsWith(prefix) ? file.slice(prefix.length) : file;
}

/** Runs the command; returns the exit code. Output goes to the given writers (stdout/stderr by default). */
export async function main(
  argv: readonly string[],
  out: (s: string) => void = (s) => process.stdout.write(s),
  err: (s: string) => void = (s) => process.stderr.write(s),
  stdin: () => Promise<Buffer> = readStdin,
): Promise<number> {
  if (argv[0] === '-V' || argv[0] === '--version') {
    out(`${version()}\n`);
    return 0;
  }
  if (argv.length === 0 || argv.includes('-h') || argv.includes('--help')) {
    (argv.length === 0 ? err : out)(USAGE);
    return argv.length === 0 ? 2 : 0;
  }
  const [command, ...rest] = argv;
  if (command !== 'bounce') {
    err(`mailroom: unknown command "${command}"\n\n${USAGE}`);
    return 2;
  }
  const opts = parseArgs(rest);
  if (typeof opts === 'string') {
    err(`mailroom bounce: ${opts}\n\n${USAGE}`);
    return 2;
  }
  // Messages are parsed in order, up to `window` at a time, and printed in the order they were read.
  const pool = opts.jobs > 1 ? new ParsePool(opts.jobs, new URL('./bounce.worker.js', import.meta.url)) : undefined;
  if (pool) {
    try {
      await pool.ready();
    } catch (e) {
      await pool.close();
      err(`mailroom: cannot start ${opts.jobs} parser threads: ${(e as Error).message}\n`);
      return 1;
    }
  }
  // With worker threads, this thread reads and prints only: the parser is loaded by the threads.
  const parse = pool ? (data: Buffer) => pool.parse(data) : (await import('./bounce.rows.js')).describeMessage;
  // A deep window keeps every thread busy while the message at the head of the output waits for a
  // slow one (with 4 per thread, 2 threads on 2 cores ran at 1.1x one thread; with 32, at 1.6x).
  const window = pool ? opts.jobs * 32 : 1;
  const pending: Array<{ file: string; report: Promise<MessageReport> }> = [];
  const print = async (entry: { file: string; report: Promise<MessageReport> }) => {
    const { results, error, ...notices } = await entry.report;
    const line: Record<string, unknown> = { file: entry.file, results, ...notices };
    if (error !== undefined) line.error = error;
    out(`${JSON.stringify(line)}\n`);
  };
  let failed = false;
  try {
    for (const root of opts.paths) {
      try {
        for await (const file of walk(root)) {
          let data: Buffer;
          try {
            // Read synchronously: each asynchronous read is four trips through libuv's thread pool, and
            // with one file after another the parser sat idle for a third of the run waiting on them.
            data = file === STDIN ? await stdin() : readFileSync(file);
          } catch (e) {
            failed = true;
            err(`mailroom: cannot read ${file}: ${(e as Error).message}\n`);
            continue;
          }
          const name = display(file, opts.prefix);
          const messages = splitMbox(withLineFeeds(data));
          const list = messages ?? [data];
          for (let i = 0; i < list.length; i++) {
            pending.push({ file: messages ? `${name}#${i + 1}` : name, report: parse(list[i]!) });
            while (pending.length >= window) await print(pending.shift()!);
          }
        }
      } catch (e) {
        failed = true;
        const code = (e as NodeJS.ErrnoException).code;
        err(`mailroom: cannot read ${root}: ${code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}\n`);
      }
    }
    while (pending.length > 0) await print(pending.shift()!);
  } finally {
    await pool?.close();
  }
  return failed ? 1 : 0;
}

/** Run as a program (directly, or through the `bin` symlink npm creates), not imported. */
function invokedDirectly(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}
if (invokedDirectly()) {
  // A reader that stops early (`nestjs-mailroom bounce dir | head -1`) closes the pipe: stop there,
  // quietly, as command-line tools do.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`mailroom: ${(e as Error).stack ?? String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
