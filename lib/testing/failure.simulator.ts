import { classifyProviderError } from '../bounces/provider-error.classifier.js';
import { classifySmtpReply, enhancedStatusOf, replyCodeOf } from '../bounces/smtp-reply.classifier.js';
import type { OutgoingMail } from '../core/mail.types.js';
import type { RejectedRecipient, TransportResult } from '../core/send-result.types.js';
import type { Transport } from '../core/transport.types.js';
import { TransportError, type TransportFailure } from '../errors/mailer.error.js';
import { SmtpTransport } from '../transports/smtp/smtp.transport.js';

/** An SMTP server's refusal, as `failNext()` takes it. */
export interface SimulatedSmtpReply {
  /** The reply: `550 5.1.1 <ada@example.org>: User unknown`, `421 4.7.0 Try again later`. */
  reply: string;
  /**
   * Only these recipients get the reply and the mail goes to the others (a partial delivery, listed
   * in `result.rejected`). Default: every recipient, and the send fails.
   */
  recipients?: string | readonly string[];
  /**
   * The command the reply answers. Default: `RCPT TO` for address and mailbox statuses (x.1.x,
   * x.2.x, or 450/452/550–553 without one), `MAIL FROM` for 421, `DATA` otherwise.
   */
  command?: 'MAIL FROM' | 'RCPT TO' | 'DATA';
}

/** A provider API's error answer, as `failNext()` takes it. */
export interface SimulatedProviderError {
  /** Whose error tables classify it (`postmark`, `sendgrid`, …). Default: the transport's kind. */
  provider?: string;
  /** The HTTP status (422, 429, 503, …). */
  statusCode: number;
  /** The provider's own code (Postmark `ErrorCode` 406, SES `MessageRejected`, …). */
  providerCode?: string | number;
  /** The provider's message. */
  message?: string;
  /** Milliseconds the provider asked to wait (Retry-After). */
  retryAfter?: number;
  /** Only these recipients are refused and the mail goes to the others. Default: the send fails. */
  recipients?: string | readonly string[];
}

/**
 * What `failNext()` makes the next matching send meet: an SMTP reply as a string
 * (`'550 5.1.1 <ada@example.org>: User unknown'`) or with options, a provider's error answer, or
 * `'timeout'` / `'connection'` (the server cannot be reached).
 */
export type SimulatedFailure = string | SimulatedSmtpReply | SimulatedProviderError;

type SmtpCommand = NonNullable<SimulatedSmtpReply['command']>;

/** A simulated failure, checked and normalized. */
export type Failure =
  | { type: 'smtp'; reply: string; code: number; command?: SmtpCommand; recipients?: string[] }
  | { type: 'provider'; provider?: string; statusCode: number; providerCode?: string; message?: string; retryAfter?: number; recipients?: string[] }
  | { type: 'timeout' }
  | { type: 'connection' };

const COMMANDS: readonly SmtpCommand[] = ['MAIL FROM', 'RCPT TO', 'DATA'];

function recipientList(value: unknown, where: string): string[] | undefined {
  if (value === undefined) return undefined;
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0 || !list.every((r) => typeof r === 'string' && r.includes('@'))) {
    throw new TypeError(`${where}: recipients must be an address or a non-empty array of addresses.`);
  }
  return list.map((r: string) => r.trim().toLowerCase());
}

function smtpReply(reply: string, where: string): { reply: string; code: number } {
  const code = replyCodeOf(reply);
  if (code === undefined || code < 400) {
    throw new TypeError(`${where}: "${reply}" is not an SMTP refusal; write a 4xx or 5xx reply such as '550 5.1.1 <ada@example.org>: User unknown' or '421 4.7.0 Try again later'.`);
  }
  return { reply: reply.trim(), code };
}

/** Checks what `failNext()` was given; a mistake is a TypeError at once, not a test that passes for the wrong reason. */
export function toFailure(input: unknown, where: string): Failure {
  if (input === 'timeout' || input === 'connection') return { type: input };
  if (typeof input === 'string') return { type: 'smtp', ...smtpReply(input, where) };
  if (typeof input !== 'object' || input === null) {
    throw new TypeError(`${where}: expected an SMTP reply ('550 5.1.1 …'), 'timeout', 'connection' or a provider error ({ statusCode, providerCode, message }).`);
  }
  const given = input as Record<string, unknown>;
  if ('reply' in given) {
    for (const key of Object.keys(given)) if (!['reply', 'recipients', 'command'].includes(key)) throw new TypeError(`${where}: unknown key "${key}" of an SMTP reply (reply, recipients, command).`);
    if (typeof given.reply !== 'string') throw new TypeError(`${where}: reply must be a string.`);
    if (given.command !== undefined && !COMMANDS.includes(given.command as SmtpCommand)) throw new TypeError(`${where}: command must be one of ${COMMANDS.join(', ')}.`);
    const recipients = recipientList(given.recipients, where);
    if (recipients && given.command !== undefined && given.command !== 'RCPT TO') throw new TypeError(`${where}: a reply to some recipients answers RCPT TO.`);
    return {
      type: 'smtp',
      ...smtpReply(given.reply, where),
      ...(given.command ? { command: given.command as SmtpCommand } : {}),
      ...(recipients ? { recipients } : {}),
    };
  }
  if ('statusCode' in given) {
    const known = ['provider', 'statusCode', 'providerCode', 'message', 'retryAfter', 'recipients'];
    for (const key of Object.keys(given)) if (!known.includes(key)) throw new TypeError(`${where}: unknown key "${key}" of a provider error (${known.join(', ')}).`);
    const { provider, statusCode, providerCode, message, retryAfter } = given;
    if (!(Number.isInteger(statusCode) && (statusCode as number) >= 400 && (statusCode as number) <= 599)) throw new TypeError(`${where}: statusCode must be an HTTP error status (400–599).`);
    if (provider !== undefined && typeof provider !== 'string') throw new TypeError(`${where}: provider must be a provider name.`);
    if (providerCode !== undefined && typeof providerCode !== 'string' && typeof providerCode !== 'number') throw new TypeError(`${where}: providerCode must be a string or a number.`);
    if (message !== undefined && typeof message !== 'string') throw new TypeError(`${where}: message must be a string.`);
    if (retryAfter !== undefined && !(typeof retryAfter === 'number' && retryAfter >= 0)) throw new TypeError(`${where}: retryAfter must be a number of milliseconds.`);
    const recipients = recipientList(given.recipients, where);
    return {
      type: 'provider',
      statusCode: statusCode as number,
      ...(provider !== undefined ? { provider: provider as string } : {}),
      ...(providerCode !== undefined ? { providerCode: String(providerCode) } : {}),
      ...(message !== undefined ? { message: message as string } : {}),
      ...(retryAfter !== undefined ? { retryAfter: retryAfter as number } : {}),
      ...(recipients ? { recipients } : {}),
    };
  }
  throw new TypeError(`${where}: an object must be an SMTP reply ({ reply, recipients?, command? }) or a provider error ({ statusCode, providerCode?, message?, … }).`);
}

/** The envelope recipients a failure refuses: those it names, or all of them. */
function refusedRecipients(failure: Failure, mail: OutgoingMail): string[] {
  const named = 'recipients' in failure ? failure.recipients : undefined;
  if (!named) return [...mail.envelope.to];
  return mail.envelope.to.filter((address) => named.includes(address.toLowerCase()));
}

/** False for a failure aimed at recipients the mail does not have: it waits for a mail that does. */
export function failureApplies(failure: Failure, mail: OutgoingMail): boolean {
  return refusedRecipients(failure, mail).length > 0;
}

/** The command an SMTP reply answers when the failure does not say. */
function commandOf(failure: Extract<Failure, { type: 'smtp' }>): SmtpCommand {
  if (failure.command) return failure.command;
  if (failure.recipients) return 'RCPT TO';
  const status = enhancedStatusOf(failure.reply);
  if (status) {
    const subject = status.split('.')[1];
    if (subject === '1' || subject === '2') return 'RCPT TO';
  } else if ([450, 452, 550, 551, 552, 553].includes(failure.code)) {
    return 'RCPT TO';
  }
  return failure.code === 421 ? 'MAIL FROM' : 'DATA';
}

/** An error shaped as nodemailer raises it, for the SMTP transport to convert as it converts real ones. */
interface NodemailerLikeError extends Error {
  code: string;
  response?: string;
  responseCode?: number;
  command: string;
  recipient?: string;
  rejected?: string[];
  rejectedErrors?: NodemailerLikeError[];
}

function nodemailerError(message: string, code: string, command: string, reply?: string): NodemailerLikeError {
  const error = new Error(reply ? `${message}: ${reply}` : message) as NodemailerLikeError;
  error.code = code;
  error.command = command;
  if (reply) {
    error.response = reply;
    error.responseCode = replyCodeOf(reply);
  }
  return error;
}

function smtpRefusal(failure: Extract<Failure, { type: 'smtp' }>, refused: string[]): NodemailerLikeError {
  const command = commandOf(failure);
  if (command === 'MAIL FROM') return nodemailerError('Mail command failed', 'EENVELOPE', command, failure.reply);
  if (command === 'DATA') return nodemailerError('Message failed', 'EMESSAGE', command, failure.reply);
  const error = nodemailerError("Can't send mail - all recipients were rejected", 'EENVELOPE', command, failure.reply);
  error.rejected = refused;
  error.rejectedErrors = refused.map((recipient) => Object.assign(nodemailerError('Recipient command failed', 'EENVELOPE', command, failure.reply), { recipient }));
  return error;
}

const FAILURE_OF_CODE: Record<string, TransportFailure> = { EENVELOPE: 'envelope', EMESSAGE: 'message', ETIMEDOUT: 'timeout', ECONNECTION: 'connection' };

function smtpRejection(error: NodemailerLikeError): RejectedRecipient {
  const response = error.response ?? error.message;
  return {
    address: error.recipient ?? '',
    ...(error.responseCode !== undefined ? { replyCode: error.responseCode } : {}),
    ...(enhancedStatusOf(response) ? { status: enhancedStatusOf(response) } : {}),
    response,
    classification: classifySmtpReply(error.responseCode, response, error.recipient),
  };
}

/**
 * The SMTP transport's own conversion when the transport is one, so the error is the one production
 * would raise; otherwise the same fields, worked out the same way.
 */
function smtpFailure(original: Transport, error: NodemailerLikeError): TransportError {
  if (original instanceof SmtpTransport) return original.toTransportError(error);
  const classification = error.responseCode ? classifySmtpReply(error.responseCode, error.response ?? error.message) : undefined;
  let failure = FAILURE_OF_CODE[error.code] ?? 'unknown';
  if (classification?.action === 'slow-down') failure = 'rate-limit';
  return new TransportError(`Transport "${original.name}" (${original.kind}) failed: ${error.message}`, {
    transport: original.name,
    failure,
    responseCode: error.responseCode,
    response: error.response,
    command: error.command,
    classification,
    rejected: error.rejectedErrors?.map(smtpRejection),
    cause: error,
  });
}

function providerOf(failure: Extract<Failure, { type: 'provider' }>, original: Transport): string {
  return failure.provider ?? original.kind;
}

/** An API's error answer, with the fields and classification the HTTP transports give it. */
function providerFailure(failure: Extract<Failure, { type: 'provider' }>, original: Transport): TransportError {
  const provider = providerOf(failure, original);
  const { statusCode, providerCode, message, retryAfter } = failure;
  const kind: TransportFailure = statusCode === 401 || statusCode === 403 ? 'auth' : statusCode === 429 ? 'rate-limit' : 'http';
  const parts = [`HTTP ${statusCode}`, providerCode !== undefined ? `code ${providerCode}` : undefined].filter(Boolean).join(', ');
  return new TransportError(`${provider} send failed (${parts})${message ? `: ${message}` : ''}`, {
    transport: original.name,
    provider,
    failure: kind,
    statusCode,
    providerCode,
    response: message,
    retryAfter,
    classification: classifyProviderError({ provider, statusCode, providerCode, message }),
  });
}

/** The transport cannot be reached, or does not answer in time. */
function networkFailure(type: 'timeout' | 'connection', original: Transport): TransportError {
  if (original.kind === 'smtp') {
    const host = original instanceof SmtpTransport ? `${original.options.host}:${original.options.port}` : original.name;
    return smtpFailure(original, type === 'timeout'
      ? nodemailerError('Timeout', 'ETIMEDOUT', 'CONN')
      : nodemailerError(`connect ECONNREFUSED ${host}`, 'ECONNECTION', 'CONN'));
  }
  const error = new TransportError(`${original.kind} send ${type === 'timeout' ? 'timed out' : 'could not reach the server (ECONNREFUSED)'}`, {
    transport: original.name,
    provider: original.kind,
    failure: type,
  });
  error.classification = classifyProviderError({ provider: original.kind });
  return error;
}

/**
 * Applies a failure to one send: throws the TransportError the transport would throw, or returns
 * the result of a partial delivery (the named recipients refused, the others accepted).
 */
export function simulate(failure: Failure, original: Transport, mail: OutgoingMail): TransportResult {
  if (failure.type === 'timeout' || failure.type === 'connection') throw networkFailure(failure.type, original);
  const refused = refusedRecipients(failure, mail);
  const partial = refused.length < mail.envelope.to.length;
  if (failure.type === 'smtp') {
    const error = smtpRefusal(failure, refused);
    if (!partial) throw smtpFailure(original, error);
    return partialResult(mail, refused, error.rejectedErrors!.map(smtpRejection), '250 2.0.0 Ok: queued');
  }
  if (!partial) throw providerFailure(failure, original);
  const provider = providerOf(failure, original);
  const rejected = refused.map((address): RejectedRecipient => ({
    address,
    replyCode: failure.statusCode,
    ...(failure.message !== undefined ? { response: failure.message } : {}),
    classification: classifyProviderError({ provider, recipient: address, statusCode: failure.statusCode, providerCode: failure.providerCode, message: failure.message }),
  }));
  return partialResult(mail, refused, rejected);
}

function partialResult(mail: OutgoingMail, refused: string[], rejected: RejectedRecipient[], response?: string): TransportResult {
  return {
    messageId: mail.messageId,
    accepted: mail.envelope.to.filter((address) => !refused.includes(address)),
    rejected,
    envelope: mail.envelope,
    ...(response ? { response } : {}),
  };
}
