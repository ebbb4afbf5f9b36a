import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { simpleParser, type ParsedMail } from 'mailparser';
import { testCertificates } from './smtp-sink.js';

const SCRIPT = fileURLToPath(new URL('./aiosmtpd-peer.py', import.meta.url));

/**
 * A fault to inject, matched on a stage and, optionally, a recipient, the message number (MAIL
 * FROM count since the server started, from 1) or the message's number on its connection. A 421
 * reply closes the connection after it is sent. `drop` closes it without a reply; at the data
 * stage `accept-then-drop` keeps the message first (the server has it, the client never hears
 * so), and `reply-then-close` keeps it, answers 250 and closes.
 */
export interface FaultRule {
  stage: 'mail' | 'rcpt' | 'data';
  recipient?: string;
  message?: number;
  onConnection?: number;
  /** A whole reply line: `421 4.7.0 Too many messages, slow down`. */
  reply?: string;
  action?: 'drop' | 'accept-then-drop' | 'reply-then-close';
  /** How often the rule applies; every time when absent. */
  times?: number;
}

export interface AiosmtpdOptions {
  tls?: 'none' | 'starttls' | 'implicit';
  /** AUTH PLAIN and LOGIN with these credentials, offered once the connection is encrypted. */
  auth?: { user: string; pass: string };
  /** Advertise PIPELINING (aiosmtpd reads pipelined commands in order but does not say so). */
  pipelining?: boolean;
  /** Advertise SMTPUTF8 (default true). */
  smtputf8?: boolean;
  /** Advertise 8BITMIME (default true); false also refuses any 8-bit byte in a message. */
  eightBitMime?: boolean;
  rules?: FaultRule[];
}

export interface AiosmtpdMail {
  envelope: { from: string; to: string[] };
  raw: Buffer;
  parsed: ParsedMail;
  /** MAIL FROM parameters as sent: `SMTPUTF8`, `BODY=8BITMIME`, `SIZE=…`. */
  mailOptions: string[];
  secure: boolean;
  user?: string;
  /** Which connection carried it (from 1), and its number on that connection. */
  connection: number;
  onConnection: number;
}

interface MessageEvent {
  event: 'message';
  connection: number;
  onConnection: number;
  from: string;
  to: string[];
  mailOptions: string[];
  secure: boolean;
  user: string | null;
  raw: string;
}

type PeerEvent =
  | { event: 'listening'; port: number }
  | { event: 'connection'; id: number }
  | { event: 'auth-failure' }
  | { event: 'sync' }
  | MessageEvent;

let python: string | undefined;

/**
 * The Python that has aiosmtpd: `MAILROOM_PYTHON`, else `python3` on the PATH, else Debian's
 * `/usr/bin/python3` (a python3 of pyenv or a virtualenv on the PATH does not see Debian's
 * packages). Throws, saying what to install, when none has it: these tests fail rather than skip.
 */
export function aiosmtpdPython(): string {
  if (python) return python;
  const candidates = [process.env.MAILROOM_PYTHON, 'python3', '/usr/bin/python3'].filter((c): c is string => !!c);
  const tried: string[] = [];
  for (const candidate of candidates) {
    try {
      execFileSync(candidate, ['-c', 'import aiosmtpd'], { stdio: 'pipe' });
      python = candidate;
      return candidate;
    } catch (error) {
      const detail = (error as { stderr?: Buffer }).stderr?.toString().trim().split('\n').pop() ?? (error as Error).message;
      tried.push(`${candidate}: ${detail}`);
    }
  }
  throw new Error(
    'The SMTP tests against a server of another family need aiosmtpd: install Debian\'s python3-aiosmtpd '
    + '(apt-get install python3-aiosmtpd; .ci/run does so when it is missing), or point MAILROOM_PYTHON '
    + `at a Python that has it. Tried ${tried.join('; ')}.`,
  );
}

/** aiosmtpd in a child process on a free loopback port, with what it received. */
export class AiosmtpdPeer {
  readonly received: AiosmtpdMail[] = [];
  connections = 0;
  authFailures = 0;
  port = 0;
  private child?: ChildProcessWithoutNullStreams;
  private certDir?: string;
  private stderr = '';
  private exited = false;
  private pending = Promise.resolve();
  private waiters: Array<() => void> = [];
  private syncs: Array<() => void> = [];

  constructor(private readonly options: AiosmtpdOptions = {}) {}

  async start(): Promise<this> {
    const config: Record<string, unknown> = { ...this.options };
    if (this.options.tls && this.options.tls !== 'none') {
      const certs = testCertificates();
      this.certDir = mkdtempSync(join(tmpdir(), 'mailroom-aiosmtpd-'));
      config.cert = join(this.certDir, 'server.pem');
      config.key = join(this.certDir, 'server.key');
      writeFileSync(config.cert as string, certs.cert);
      writeFileSync(config.key as string, certs.key);
    }
    // No __pycache__ next to the script in the working tree.
    const child = spawn(aiosmtpdPython(), [SCRIPT, JSON.stringify(config)], { stdio: 'pipe', env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } });
    this.child = child;
    child.stderr.on('data', (chunk: Buffer) => { this.stderr = (this.stderr + chunk.toString()).slice(-4000); });
    const exited = new Promise<never>((_, reject) => {
      child.once('exit', (code, signal) => {
        this.exited = true;
        reject(new Error(`aiosmtpd exited (${signal ?? code}) before it listened: ${this.stderr.trim()}`));
      });
      child.once('error', reject);
    });
    exited.catch(() => undefined);
    const listening = new Promise<number>((resolve) => {
      createInterface({ input: child.stdout, crlfDelay: Infinity }).on('line', (line) => {
        const event = JSON.parse(line) as PeerEvent;
        if (event.event === 'listening') resolve(event.port);
        else this.record(event);
      });
    });
    this.port = await Promise.race([listening, exited]);
    return this;
  }

  private record(event: PeerEvent): void {
    if (event.event === 'connection') this.connections += 1;
    else if (event.event === 'auth-failure') this.authFailures += 1;
    else if (event.event === 'sync') this.syncs.shift()?.();
    else if (event.event === 'message') {
      // Parsed in arrival order, so `received` keeps the order the server kept them in.
      this.pending = this.pending.then(async () => {
        const raw = Buffer.from(event.raw, 'base64');
        this.received.push({
          envelope: { from: event.from, to: event.to },
          raw,
          parsed: await simpleParser(raw),
          mailOptions: event.mailOptions,
          secure: event.secure,
          user: event.user ?? undefined,
          connection: event.connection,
          onConnection: event.onConnection,
        });
        for (const w of this.waiters.splice(0)) w();
      });
    }
  }

  /**
   * Resolves once everything the server saw until now is in `received`, `connections` and
   * `authFailures`: its reports travel on a pipe, apart from the SMTP replies the client reads.
   */
  async sync(): Promise<void> {
    const child = this.child;
    if (!child || this.exited) throw new Error(`aiosmtpd is not running. ${this.stderr.trim()}`);
    const answered = new Promise<void>((resolve) => this.syncs.push(resolve));
    child.stdin.write('sync\n');
    await answered;
    await this.pending;
  }

  /** Resolves when `count` messages have been kept, or rejects after `timeout` ms. */
  async waitFor(count: number, timeout = 10_000): Promise<AiosmtpdMail[]> {
    const deadline = Date.now() + timeout;
    while (this.received.length < count) {
      const left = deadline - Date.now();
      if (left <= 0 || this.exited) throw new Error(`expected ${count} mails, aiosmtpd kept ${this.received.length}. ${this.stderr.trim()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => { clearTimeout(timer); resolve(); });
      });
    }
    return this.received;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child && !this.exited) {
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.stdin.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
      await gone;
      clearTimeout(timer);
    }
    if (this.certDir) rmSync(this.certDir, { recursive: true, force: true });
  }
}

export async function startAiosmtpd(options?: AiosmtpdOptions): Promise<AiosmtpdPeer> {
  return new AiosmtpdPeer(options).start();
}
