import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerAddress, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';

export interface TestCertificates {
  /** PEM of the CA that signed `cert`; give it to the client as `tls.ca`. */
  ca: string;
  key: string;
  cert: string;
}

let certificates: TestCertificates | undefined;

/** A private CA and a certificate for localhost / 127.0.0.1, made once per process with openssl. */
export function testCertificates(): TestCertificates {
  if (certificates) return certificates;
  const dir = mkdtempSync(join(tmpdir(), 'mailroom-certs-'));
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=mailroom test CA',
    '-keyout', 'ca.key', '-out', 'ca.pem');
  run('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-keyout', 'server.key', '-out', 'server.csr');
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  run('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2',
    '-extfile', 'ext.cnf', '-out', 'server.pem');
  certificates = {
    ca: readFileSync(join(dir, 'ca.pem'), 'utf8'),
    key: readFileSync(join(dir, 'server.key'), 'utf8'),
    cert: readFileSync(join(dir, 'server.pem'), 'utf8'),
  };
  rmSync(dir, { recursive: true, force: true });
  return certificates;
}

/** A reply the sink gives instead of accepting: `{ code: 550, message: '5.1.1 User unknown' }`. */
export interface InjectedReply {
  code: number;
  message: string;
}

export interface ReceivedMail {
  envelope: { from: string; to: string[] };
  /** The raw bytes as received. */
  raw: Buffer;
  parsed: ParsedMail;
  secure: boolean;
  user?: string;
  /** MAIL FROM parameters as sent: `SMTPUTF8`, `BODY=8BITMIME`, `SIZE=…`. */
  mailOptions: string[];
}

export interface SmtpSinkOptions {
  /** Implicit TLS from the first byte. */
  secure?: boolean;
  /** Offer STARTTLS (default true; TLS needs the test certificates). */
  starttls?: boolean;
  /** Require AUTH with these credentials (`pass` is also accepted as an XOAUTH2 access token). */
  auth?: { user: string; pass: string };
  /** Reply to RCPT TO for some recipients; `'drop'` destroys the socket instead of answering. */
  rcpt?: (address: string, session: SMTPServerSession) => InjectedReply | 'drop' | undefined;
  /** Reply to MAIL FROM; `'drop'` destroys the socket instead of answering. */
  mailFrom?: (address: string, session: SMTPServerSession) => InjectedReply | 'drop' | undefined;
  /** Reply after DATA instead of 250. */
  data?: (mail: { to: string[] }, session: SMTPServerSession) => InjectedReply | undefined;
  /** Reply to the connection itself (e.g. 421 at greeting). */
  connect?: () => InjectedReply | undefined;
  /**
   * Destroy the socket at this point when it returns true; `count` counts the stage's events since
   * start. `rcpt`: instead of answering RCPT TO. `data`: once the message has arrived, before it is
   * kept or answered. `accepted`: the message is kept, then the connection is lost before the 250
   * goes out. `answered`: after the 250, the server closes the connection.
   */
  drop?: (stage: 'rcpt' | 'data' | 'accepted' | 'answered', count: number, session: SMTPServerSession) => boolean;
  /**
   * Runs once a message has arrived and been kept, before the 250 goes out; the answer waits for
   * the promise it returns (a test holds a send in flight this way). `count` counts messages.
   */
  beforeAnswer?: (count: number, session: SMTPServerSession) => Promise<void> | void;
  /** Parse received mail with mailparser (default true); off for throughput benches. */
  parse?: boolean;
  extra?: Partial<SMTPServerOptions>;
}

function replyError(reply: InjectedReply): Error {
  return Object.assign(new Error(reply.message), { responseCode: reply.code });
}

/** A real SMTP server on 127.0.0.1 with the behaviours tests need. */
export class SmtpSink {
  readonly received: ReceivedMail[] = [];
  readonly connections: { secure: boolean }[] = [];
  /** Connections that have ended, whichever side closed them. */
  closedConnections = 0;
  authFailures = 0;
  private server!: SMTPServer;
  private waiters: Array<() => void> = [];
  private stageCount = { rcpt: 0, data: 0 };
  port = 0;

  constructor(private readonly options: SmtpSinkOptions = {}) {}

  async start(): Promise<this> {
    const o = this.options;
    const certs = o.secure || o.starttls !== false ? testCertificates() : undefined;
    this.server = new SMTPServer({
      secure: o.secure ?? false,
      key: certs?.key,
      cert: certs?.cert,
      disabledCommands: [...(o.auth ? [] : ['AUTH']), ...(o.starttls === false ? ['STARTTLS'] : [])],
      authOptional: !o.auth,
      authMethods: ['PLAIN', 'LOGIN', 'XOAUTH2'],
      logger: false,
      size: 30 * 1024 * 1024,
      onClose: () => {
        this.closedConnections += 1;
        for (const w of this.waiters.splice(0)) w();
      },
      onConnect: (session, callback) => {
        this.connections.push({ secure: session.secure });
        const reply = o.connect?.();
        callback(reply ? replyError(reply) : undefined);
      },
      onAuth: (auth, _session, callback) => {
        const secret = auth.method === 'XOAUTH2' ? auth.accessToken : auth.password;
        if (o.auth && auth.username === o.auth.user && secret === o.auth.pass) {
          callback(null, { user: auth.username });
        } else {
          this.authFailures += 1;
          callback(Object.assign(new Error('5.7.8 Authentication credentials invalid'), { responseCode: 535 }));
        }
      },
      onMailFrom: (address: SMTPServerAddress, session, callback) => {
        const reply = o.mailFrom?.(address.address, session);
        if (reply === 'drop') return this.destroy(session);
        callback(reply ? replyError(reply) : undefined);
      },
      onRcptTo: (address: SMTPServerAddress, session, callback) => {
        this.stageCount.rcpt += 1;
        if (o.drop?.('rcpt', this.stageCount.rcpt, session)) {
          this.destroy(session);
          return;
        }
        const reply = o.rcpt?.(address.address, session);
        if (reply === 'drop') return this.destroy(session);
        callback(reply ? replyError(reply) : undefined);
      },
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          this.stageCount.data += 1;
          const to = session.envelope.rcptTo.map((r) => r.address);
          const count = this.stageCount.data;
          if (o.drop?.('data', count, session)) {
            // Close the connection without answering DATA: the client must treat the mail as not sent.
            this.destroy(session);
            return;
          }
          const reply = o.data?.({ to }, session);
          if (reply) return callback(replyError(reply));
          const raw = Buffer.concat(chunks);
          const mailFrom = session.envelope.mailFrom;
          const envelope = { from: mailFrom ? mailFrom.address : '', to };
          const args = (mailFrom ? mailFrom.args : false) || {};
          const mailOptions = Object.entries(args).map(([key, value]) => (value === true ? key : `${key}=${String(value)}`));
          const answer = () => {
            if (o.drop?.('accepted', count, session)) return this.destroy(session);
            callback();
            if (o.drop?.('answered', count, session)) this.end(session);
          };
          const done = (parsed: ParsedMail) => {
            this.received.push({ envelope, raw, parsed, secure: session.secure, user: session.user as string | undefined, mailOptions });
            for (const w of this.waiters.splice(0)) w();
          };
          const answerWhenLet = () => {
            const held = o.beforeAnswer?.(count, session);
            if (held) held.then(answer, (error: Error) => callback(error));
            else answer();
          };
          if (o.parse === false) {
            done(undefined as unknown as ParsedMail);
            answerWhenLet();
          } else {
            simpleParser(raw).then((parsed) => { done(parsed); answerWhenLet(); }, (error: Error) => callback(error));
          }
        });
      },
      ...o.extra,
    });
    this.server.on('error', () => { /* client resets are part of the tests */ });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', () => resolve()));
    this.port = (this.server.server.address() as AddressInfo).port;
    return this;
  }

  private socketOf(session: SMTPServerSession): { destroy(): void; end(): void } | undefined {
    const connections = (this.server as unknown as { connections: Set<{ session: SMTPServerSession; _socket: { destroy(): void; end(): void } }> }).connections;
    for (const c of connections) if (c.session === session) return c._socket;
    return undefined;
  }

  private destroy(session: SMTPServerSession): void {
    this.socketOf(session)?.destroy();
  }

  /** Closes after what was written has gone out (the 250 just sent). */
  private end(session: SMTPServerSession): void {
    this.socketOf(session)?.end();
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  /** Resolves when `count` mails have arrived, or rejects after `timeout` ms. */
  async waitFor(count: number, timeout = 10_000): Promise<ReceivedMail[]> {
    const deadline = Date.now() + timeout;
    while (this.received.length < count) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`expected ${count} mails, received ${this.received.length}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => { clearTimeout(timer); resolve(); });
      });
    }
    return this.received;
  }

  /** Connections open now: accepted and not yet closed. */
  get openConnections(): number {
    return this.connections.length - this.closedConnections;
  }

  /** Resolves once `check()` holds — checked after every mail and closed connection — or rejects after `timeout` ms. */
  async until(check: () => boolean, what: string, timeout = 10_000): Promise<void> {
    const deadline = Date.now() + timeout;
    while (!check()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 100));
        this.waiters.push(() => { clearTimeout(timer); resolve(); });
      });
    }
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export async function startSmtpSink(options?: SmtpSinkOptions): Promise<SmtpSink> {
  return new SmtpSink(options).start();
}
