import type { Readable } from 'node:stream';
import { createTransport } from 'nodemailer';
import type { Transporter } from 'nodemailer';
import { buildClassification } from '../../bounces/reason.classifier.js';
import { classifySmtpReply } from '../../bounces/smtp-reply.classifier.js';
import type { Classification } from '../../core/classification.types.js';
import type { OutgoingMail, MailAddress } from '../../core/mail.types.js';
import type { RejectedRecipient, TransportResult } from '../../core/send-result.types.js';
import type { Transport } from '../../core/transport.types.js';
import type { DkimSignature } from '../../core/dkim.types.js';
import { TransportError, type TransportFailure } from '../../errors/mailer.error.js';
import { resolveTransportDkim, signaturesFor } from '../dkim/dkim.options.js';
import { dkimSign } from '../dkim/dkim.signer.js';
import { CONSOLE_TRANSPORT_LOGGER, type TransportContext } from '../transport-logger.js';
import { nodemailerLogger } from './smtp.logger.js';
import { PoolClosures } from './smtp.pool-closures.js';
import { resolveSmtpOptions, type ResolvedSmtpOptions, type SmtpTransportOptions } from './smtp.options.js';

/** The fields nodemailer puts on the errors it raises. */
interface NodemailerError extends Error {
  code?: string;
  responseCode?: number;
  response?: string;
  command?: string;
  recipient?: string;
  rejectedErrors?: NodemailerError[];
}

interface NodemailerInfo {
  messageId: string;
  accepted: Array<string | { address: string }>;
  rejected: Array<string | { address: string }>;
  rejectedErrors?: NodemailerError[];
  envelope: { from: string | false; to: string[] };
  response: string;
}

const FAILURE_BY_CODE: Record<string, TransportFailure> = {
  ECONNECTION: 'connection',
  ESOCKET: 'connection',
  EDNS: 'connection',
  ETIMEDOUT: 'timeout',
  ETLS: 'tls',
  EREQUIRETLS: 'tls',
  EAUTH: 'auth',
  ENOAUTH: 'auth',
  EOAUTH2: 'auth',
  EENVELOPE: 'envelope',
  EMESSAGE: 'message',
  EPROTOCOL: 'protocol',
};

// Node's certificate errors arrive as socket errors; they mean a configuration problem, not an outage.
const CERT_ERROR = /certificate|self[- ]signed|CERT_|UNABLE_TO_VERIFY|Hostname\/IP does not match|wrong version number|handshake/i;

const ENHANCED = /^\s*\d{3}[ -]([245]\.\d{1,3}\.\d{1,3})\b/;

function statusOf(response: string | undefined): string | undefined {
  return response ? ENHANCED.exec(response)?.[1] : undefined;
}

function addressOf(entry: string | { address: string }): string {
  return typeof entry === 'string' ? entry : entry.address;
}

function formatAddress(a: MailAddress): { name: string; address: string } {
  return { name: a.name ?? '', address: a.address };
}

/** The message field that hands a mail's signatures to the signing plugin. */
const DKIM_FIELD = 'mailroomDkim';

/** The message field through which the stream plugin tells `send()` how far the message went. */
const PROGRESS_FIELD = 'mailroomProgress';

/** How far one attempt got: `written` once the whole message, final dot included, was handed to the socket. */
interface SendProgress {
  written: boolean;
}

/** nodemailer's failure for a pooled message whose connection closed before any of it was sent. */
const POOL_GAVE_UP = /maximum number of retries after connection was closed/i;

/** A reply at the end of one of nodemailer's error messages: `Recipient command failed: 421 4.7.0 …`. */
const TRAILING_REPLY = /(?:^|: )([45]\d\d)([ -][\s\S]*)?$/;

/** The pool gave the message up, not a byte of it sent, because its connection closed first. */
function gaveUpUnsent(e: NodemailerError): boolean {
  return e instanceof Error && !e.responseCode && e.code === 'ECONNECTION' && POOL_GAVE_UP.test(e.message);
}

/** What the 'stream' plugin sees of nodemailer's mail object. */
interface PluginMail {
  data: Record<string, unknown>;
  message: { processFunc(fn: (input: Readable) => Readable): void };
}

/** SMTP through nodemailer: the only place in the package that creates a nodemailer transport. */
export class SmtpTransport implements Transport {
  readonly kind = 'smtp';
  readonly options: ResolvedSmtpOptions;
  private readonly transporter: Transporter;
  private readonly dkim: DkimSignature[];
  private readonly closures = new PoolClosures();
  private closed = false;

  constructor(readonly name: string, options: SmtpTransportOptions, context: TransportContext = {}) {
    this.options = resolveSmtpOptions(options, `transport "${name}"`);
    this.dkim = resolveTransportDkim(options.dkim, `transport "${name}"`);
    this.transporter = createTransport(this.toNodemailer(this.options, context) as never) as Transporter;
    // Signing runs on the finished message stream of each attempt, so a retry signs what it sends.
    // nodemailer's own dkim option shares header lists between keys; signatures here may differ.
    this.transporter.use('stream', ((mail: PluginMail, done: (error?: Error | null) => void) => {
      const signatures = mail.data[DKIM_FIELD] as DkimSignature[] | undefined;
      if (signatures?.length) mail.message.processFunc((input) => dkimSign(input, signatures));
      // Last, so the stream watched is the one the connection reads: until it ends, the final dot
      // has not gone out and the server cannot have accepted the message.
      const progress = mail.data[PROGRESS_FIELD] as SendProgress | undefined;
      if (progress) {
        mail.message.processFunc((input) => {
          input.once('end', () => { progress.written = true; });
          return input;
        });
      }
      done();
    }) as never);
  }

  private toNodemailer(o: ResolvedSmtpOptions, context: TransportContext): Record<string, unknown> {
    const auth = o.auth
      ? o.auth.method === 'XOAUTH2' || o.auth.accessToken || o.auth.oauth2
        ? { type: 'OAuth2', user: o.auth.user, accessToken: o.auth.accessToken, ...o.auth.oauth2 }
        : { user: o.auth.user, pass: o.auth.pass }
      : undefined;
    const logging = o.logger !== false || o.debug;
    const own = !logging ? false : typeof o.logger === 'object' ? o.logger : nodemailerLogger(context.logger ?? CONSOLE_TRANSPORT_LOGGER, this.name);
    // The pool reports a connection closed under a message only in its log (see PoolClosures).
    const logger = o.pool ? this.closures.logger(own) : own;
    return {
      host: o.host,
      port: o.port,
      secure: o.tlsMode === 'implicit',
      // Credentials for another machine never cross an unencrypted connection: without STARTTLS
      // the session ends before AUTH.
      requireTLS: o.tlsMode === 'starttls' || o.tlsRequiredForAuth,
      ignoreTLS: o.tlsMode === 'none',
      auth,
      authMethod: o.auth?.method === 'XOAUTH2' ? undefined : o.auth?.method,
      tls: o.tls,
      name: o.name,
      connectionTimeout: o.connectionTimeout,
      greetingTimeout: o.greetingTimeout,
      socketTimeout: o.socketTimeout,
      ...(o.dnsTimeout !== undefined ? { dnsTimeout: o.dnsTimeout } : {}),
      ...(o.localAddress !== undefined ? { localAddress: o.localAddress } : {}),
      ...(o.proxy !== undefined ? { proxy: o.proxy } : {}),
      logger,
      debug: o.debug,
      allowInternalNetworkInterfaces: true,
      // Paths and URLs are resolved, or refused, before a mail reaches the transport.
      disableFileAccess: true,
      disableUrlAccess: true,
      // maxRequeues 0: the pool never puts a message back on its queue by itself. It would, unseen,
      // after a 421 to the envelope of a connection's later message, swallowing the server's "slow
      // down". send() decides instead: see there.
      ...(o.pool ? { pool: true, maxConnections: o.pool.maxConnections, maxMessages: o.pool.maxMessages, maxRequeues: 0 } : {}),
    };
  }

  async send(mail: OutgoingMail): Promise<TransportResult> {
    const headers: Record<string, string> = { ...mail.headers };
    if (mail.tags.length) headers['X-Tags'] = mail.tags.join(', ');
    for (const [key, value] of Object.entries(mail.metadata)) headers[`X-Metadata-${key}`] = value;
    const message = {
      messageId: mail.messageId,
      from: formatAddress(mail.from),
      to: mail.to.map(formatAddress),
      cc: mail.cc.map(formatAddress),
      bcc: mail.bcc.map(formatAddress),
      replyTo: mail.replyTo.map(formatAddress),
      subject: mail.subject,
      text: mail.text,
      html: mail.html,
      attachments: mail.attachments.map((a) => ({
        filename: a.filename,
        content: a.content,
        encoding: a.encoding,
        contentType: a.contentType,
        cid: a.cid,
        contentDisposition: a.contentDisposition,
        headers: a.headers,
      })),
      headers,
      priority: mail.priority,
      envelope: mail.envelope,
      textEncoding: this.options.textEncoding,
      // nodemailer writes the text/calendar alternative with its method and attaches the file.
      ...(mail.icalEvent ? { icalEvent: { method: mail.icalEvent.method, filename: mail.icalEvent.filename, content: mail.icalEvent.content } } : {}),
      [DKIM_FIELD]: signaturesFor(this.dkim, mail.dkim),
      disableFileAccess: true,
      disableUrlAccess: true,
    };
    let info: NodemailerInfo;
    for (let reconnected = false; ; reconnected = true) {
      const progress: SendProgress = { written: false };
      try {
        info = await this.transporter.sendMail({ ...message, [PROGRESS_FIELD]: progress } as never) as NodemailerInfo;
        break;
      } catch (error) {
        const closure = this.closures.take(mail.messageId);
        // A pooled connection the server had closed without a word (an idle timeout) is found
        // closed only when the next message is handed to it; none of that message went out, so
        // it is handed once to a new connection. A close with a reply (421) is the server's
        // answer and is reported.
        if (!reconnected && this.closedSilentlyBeforeSending(error, closure)) continue;
        throw this.toTransportError(error, { closure, written: progress.written });
      }
    }
    const rejected: RejectedRecipient[] = (info.rejectedErrors ?? []).map((e) => this.rejectedFrom(e));
    for (const entry of info.rejected ?? []) {
      const address = addressOf(entry);
      if (!rejected.some((r) => r.address === address)) rejected.push({ address });
    }
    return {
      messageId: mail.messageId,
      accepted: (info.accepted ?? []).map(addressOf),
      rejected,
      envelope: mail.envelope,
      response: info.response,
    };
  }

  /** The pool gave the message up, unsent, because its connection closed with no reply from the server. */
  private closedSilentlyBeforeSending(error: unknown, closure: string | undefined): boolean {
    return gaveUpUnsent(error as NodemailerError) && !(closure && TRAILING_REPLY.test(closure));
  }

  private rejectedFrom(e: NodemailerError): RejectedRecipient {
    const address = e.recipient ?? '';
    const response = e.response;
    return {
      address,
      replyCode: e.responseCode,
      status: statusOf(response),
      response,
      classification: classifySmtpReply(e.responseCode, response ?? e.message, address),
    };
  }

  /**
   * Every nodemailer failure becomes one TransportError with a classification. `attempt` says what
   * `send()` knows of the attempt: the reply that closed a pooled connection before the message
   * went out (see PoolClosures), and whether the whole message had been written.
   */
  toTransportError(error: unknown, attempt: { closure?: string; written?: boolean } = {}): TransportError {
    let e = (error instanceof Error ? error : new Error(String(error))) as NodemailerError;
    let closedBeforeSending = false;
    if (gaveUpUnsent(e)) {
      // maxRequeues is 0, so the pool's own words are "maximum number of retries"; say what
      // happened instead, with the server's reply when there was one.
      closedBeforeSending = true;
      const reply = attempt.closure ? TRAILING_REPLY.exec(attempt.closure) : null;
      const detail = attempt.closure ? ` (${attempt.closure})` : '';
      e = Object.assign(new Error(`the server closed the pooled connection before the message was sent${detail}; none of it was transmitted`), {
        code: 'ECONNECTION',
        ...(reply ? { responseCode: Number(reply[1]), response: `${reply[1]}${reply[2] ?? ''}`.trim() } : {}),
      }) as NodemailerError;
    }
    let failure: TransportFailure = (e.code && FAILURE_BY_CODE[e.code]) || 'unknown';
    if (failure === 'connection' && CERT_ERROR.test(e.message)) failure = 'tls';
    const classification = e.responseCode
      ? classifySmtpReply(e.responseCode, e.response ?? e.message)
      : undefined;
    if (classification?.action === 'slow-down' && failure !== 'auth') failure = 'rate-limit';
    let message = `SMTP transport "${this.name}" (${this.options.host}:${this.options.port}) failed: ${e.message}`;
    let guarded: Classification | undefined;
    if (failure === 'tls' && this.options.tlsRequiredForAuth) {
      message += ' — credentials are configured and the connection is not encrypted (the server did not complete STARTTLS), so they were not sent, nor was anything else.'
        + ' Use a server or port with TLS (465, or STARTTLS on 587), or set tlsMode: \'none\' to send the credentials in clear on purpose.';
      guarded = buildClassification('failedstarttls', e.responseCode, statusOf(e.response), e.response?.trim(), undefined, 'failed');
      guarded.action = 'fix-config';
      guarded.retryable = false;
    } else if (failure === 'tls' && /STARTTLS|TLS/.test(e.message) && this.options.tlsMode === 'starttls') {
      message += ' — STARTTLS is required on this port; nothing was sent in clear text.';
    }
    // The whole message went out and no reply came back: the server may have accepted it.
    const possiblyDelivered = !closedBeforeSending && attempt.written === true && !e.responseCode;
    if (possiblyDelivered) {
      message += ' — the connection was lost after the whole message was sent and before the server answered: it may have been accepted, and sending it again may deliver a second copy (same Message-ID).';
    }
    return new TransportError(message, {
      transport: this.name,
      failure,
      responseCode: e.responseCode,
      response: e.response,
      command: e.command,
      classification: guarded ?? classification,
      rejected: e.rejectedErrors?.map((r) => this.rejectedFrom(r)),
      ...(possiblyDelivered ? { possiblyDelivered } : {}),
      cause: error,
    });
  }

  async verify(): Promise<void> {
    try {
      await this.transporter.verify();
    } catch (error) {
      throw this.toTransportError(error);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.transporter.close();
  }
}
