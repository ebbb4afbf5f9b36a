import type { Classification } from '../core/classification.types.js';
import type { RejectedRecipient, SendAttempt } from '../core/send-result.types.js';
import { redact } from './redact.js';

export type MailerErrorCode =
  | 'MAILER_CONFIGURATION'
  | 'MAILER_INVALID_MAIL'
  | 'MAILER_TEMPLATE_NOT_FOUND'
  | 'MAILER_TEMPLATE_SYNTAX'
  | 'MAILER_TEMPLATE_RENDER'
  | 'MAILER_CANCELLED'
  | 'MAILER_TRANSPORT'
  | 'MAILER_UNSUPPORTED_FEATURE'
  | 'MAILER_WEBHOOK_PAYLOAD'
  | 'MAILER_SUPPRESSION_UNAVAILABLE'
  | 'MAILER_QUEUE_UNAVAILABLE';

/** Marks an error as this package's, whichever of its builds (ES module or CommonJS) made it. */
const BRAND = Symbol.for('nestjs-mailroom.error');

/** Base of every error this package throws; `code` is stable across versions. */
export abstract class MailerError extends Error {
  abstract readonly code: MailerErrorCode;

  constructor(message: string, options?: { cause?: unknown }) {
    super(redact(message), options);
    this.name = new.target.name;
    Object.defineProperty(this, BRAND, { value: true });
  }

  /**
   * `instanceof` also holds for an error made by the other build of this package, when an
   * application loads both the ES module and the CommonJS copy (say, its code one and a library
   * the other): the classes differ, so the check goes by the class names along the error's
   * prototype chain.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    if (typeof value !== 'object' || value === null || !(BRAND in value)) return false;
    for (let proto = Object.getPrototypeOf(value) as object | null; proto; proto = Object.getPrototypeOf(proto) as object | null) {
      if ((proto as { constructor?: { name?: string } }).constructor?.name === this.name) return true;
    }
    return false;
  }
}

/** Configuration that cannot work. Thrown at start-up, never retried. */
export class MailerConfigurationError extends MailerError {
  readonly code = 'MAILER_CONFIGURATION' as const;
}

/** The mail itself is wrong (bad address, CR/LF in a header, disallowed attachment, …). Nothing was sent. */
export class InvalidMailError extends MailerError {
  readonly code = 'MAILER_INVALID_MAIL' as const;
  constructor(message: string, readonly field?: string) {
    super(message);
  }
}

export class TemplateNotFoundError extends MailerError {
  readonly code = 'MAILER_TEMPLATE_NOT_FOUND' as const;
  constructor(readonly template: string, known: readonly string[] = []) {
    super(`Template "${template}" does not exist${known.length ? ` (known: ${known.slice(0, 20).join(', ')}${known.length > 20 ? ', …' : ''})` : ''}.`);
  }
}

/** A template, partial or layout that does not compile. Raised at start-up. */
export class TemplateSyntaxError extends MailerError {
  readonly code = 'MAILER_TEMPLATE_SYNTAX' as const;
  constructor(readonly file: string, detail: string, options?: { cause?: unknown }) {
    super(`Template ${file} does not compile: ${detail}`, options);
  }
}

/** Rendering failed: a missing variable in strict mode, or a helper that threw. Nothing was sent. */
export class TemplateRenderError extends MailerError {
  readonly code = 'MAILER_TEMPLATE_RENDER' as const;
  constructor(readonly template: string, detail: string, options?: { cause?: unknown }) {
    super(`Template "${template}" could not be rendered: ${detail}`, options);
  }
}

/** A `mail.sending` listener or a mail interceptor cancelled the mail. */
export class MailCancelledError extends MailerError {
  readonly code = 'MAILER_CANCELLED' as const;
  constructor(readonly reason?: string) {
    super(`The mail was cancelled${reason ? `: ${reason}` : ''}.`);
  }
}

/** The transport cannot carry a feature the mail uses; raised before anything is sent. */
export class UnsupportedFeatureError extends MailerError {
  readonly code = 'MAILER_UNSUPPORTED_FEATURE' as const;
  constructor(readonly transport: string, readonly feature: string) {
    super(`The ${transport} transport cannot carry ${feature}; nothing was sent.`);
  }
}

/** A webhook request whose signature checked out but whose body is not the provider's payload. */
export class WebhookPayloadError extends MailerError {
  readonly code = 'MAILER_WEBHOOK_PAYLOAD' as const;
}

/**
 * The suppression list could not be read or written: its store (Redis, say) did not answer. Raised
 * by a store's methods, and by `send()` when `suppression.onUnavailable` is `'fail'`: the mail was
 * not sent, and nothing is wrong with its recipients, so it may be sent again once the store
 * answers (a queue worker keeps the job for another attempt).
 */
export class SuppressionUnavailableError extends MailerError {
  readonly code = 'MAILER_SUPPRESSION_UNAVAILABLE' as const;
}

/**
 * Redis could not take the job within the queue's `enqueueTimeout`. `outcome` says what became of
 * the mail: `not-added` when nothing reached Redis, `unknown` when Redis stopped answering while the
 * job was being written (it may be on the queue; enqueue with a `jobId` to make trying again safe).
 * In a batch the outcome is that of every mail in it: the jobs are written in one transaction.
 */
export class QueueUnavailableError extends MailerError {
  readonly code = 'MAILER_QUEUE_UNAVAILABLE' as const;
  constructor(message: string, readonly outcome: 'not-added' | 'unknown', options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** What went wrong on the way out. */
export type TransportFailure =
  | 'connection' // refused, reset, DNS, dropped mid-session
  | 'timeout'
  | 'tls' // handshake failed, certificate not trusted, STARTTLS required but not offered
  | 'auth' // credentials rejected
  | 'envelope' // sender or every recipient refused
  | 'message' // the message itself refused after DATA
  | 'rate-limit'
  | 'protocol' // unexpected reply
  | 'http' // an HTTP API answered with an error
  | 'unknown';

export interface TransportErrorDetails {
  transport: string;
  failure: TransportFailure;
  /** Provider name for HTTP APIs (`postmark`, …). */
  provider?: string;
  /** RFC 5321 reply code. */
  responseCode?: number;
  /** HTTP status for API transports. */
  statusCode?: number;
  /** The provider's own error code (`ErrorCode`, `name`, …). */
  providerCode?: string;
  /** The server's reply or the provider's message, as received. */
  response?: string;
  /** SMTP command that failed (`CONN`, `AUTH PLAIN`, `RCPT TO`, `DATA`, …). */
  command?: string;
  /** Milliseconds the server asked us to wait, from Retry-After or a rate-limit header. */
  retryAfter?: number;
  classification?: Classification;
  /** Recipients refused one by one, when every recipient was refused. */
  rejected?: RejectedRecipient[];
  /** Every attempt a failover or round-robin transport made before giving up, in order. */
  attempts?: SendAttempt[];
  /** The whole message was sent and the connection was lost before the answer: see TransportError. */
  possiblyDelivered?: boolean;
  cause?: unknown;
}

/**
 * Every failure of every transport arrives as this one type, so failover and retry decide on
 * normalized fields rather than on whatever a library happened to throw.
 */
export class TransportError extends MailerError {
  readonly code = 'MAILER_TRANSPORT' as const;
  readonly transport: string;
  readonly failure: TransportFailure;
  readonly provider?: string;
  readonly responseCode?: number;
  readonly statusCode?: number;
  readonly providerCode?: string;
  readonly response?: string;
  readonly command?: string;
  readonly retryAfter?: number;
  classification?: Classification;
  readonly rejected?: RejectedRecipient[];
  /**
   * Set when a failover or round-robin transport tried more than one way: each attempt in order,
   * this failure last. The cause of an "every transport failed" error is the last failure.
   */
  attempts?: SendAttempt[];
  /**
   * `true` when the whole message had been sent and the connection was lost before the server
   * answered (SMTP): the server may have accepted it, and sending it again (as the retry policy
   * does by default) may deliver a second copy with the same Message-ID. Absent when nothing was
   * sent, or the server answered.
   */
  readonly possiblyDelivered?: boolean;

  constructor(message: string, details: TransportErrorDetails) {
    super(message, { cause: details.cause });
    this.transport = details.transport;
    this.failure = details.failure;
    this.provider = details.provider;
    this.responseCode = details.responseCode;
    this.statusCode = details.statusCode;
    this.providerCode = details.providerCode;
    this.response = details.response === undefined ? undefined : redact(details.response);
    this.command = details.command;
    this.retryAfter = details.retryAfter;
    this.classification = details.classification;
    this.rejected = details.rejected;
    this.attempts = details.attempts;
    if (details.possiblyDelivered) this.possiblyDelivered = true;
  }
}

/** True for every error this package throws (from either of its builds). */
export function isMailerError(error: unknown): error is MailerError {
  return error instanceof MailerError;
}

/** True for a failure of a transport: the error `send()` rejects with when the mail did not go out. */
export function isTransportError(error: unknown): error is TransportError {
  return error instanceof TransportError;
}
