import type { Classification } from './classification.types.js';
import type { Envelope } from './mail.types.js';

/** A recipient the server or provider refused while the rest of the mail went out. */
export interface RejectedRecipient {
  address: string;
  /** RFC 5321 reply code (SMTP) or HTTP status (APIs) when one was given. */
  replyCode?: number;
  /** RFC 3463 enhanced status code, e.g. '5.1.1'. */
  status?: string;
  /** The server's or provider's own text. */
  response?: string;
  classification?: Classification;
}

/** What a transport reports for one delivered message. */
export interface TransportResult {
  messageId: string;
  accepted: string[];
  rejected: RejectedRecipient[];
  envelope: Envelope;
  /** The final server reply (SMTP) or provider's id (APIs). */
  response?: string;
  /** The provider's own id for the message when it differs from the Message-ID header. */
  providerMessageId?: string;
  /**
   * Name of the transport that actually delivered, when it differs from the one sent to: the child
   * of a failover or round-robin transport (`default[1]`). Absent for plain transports.
   */
  deliveredBy?: string;
  /** Set by failover and round-robin transports: every attempt in order, the successful one last. */
  attempts?: SendAttempt[];
}

/** One attempt on one transport, successful or not. */
export interface SendAttempt {
  /** Name of the transport tried (`default`, or `default[0]` inside a failover). */
  transport: string;
  /** Its kind: `smtp`, `postmark`, … */
  kind?: string;
  ok: boolean;
  /**
   * Why it failed. `failure` is the TransportError's failure (`connection`, `timeout`, `auth`,
   * `envelope`, `http`, …) when the error was one.
   */
  error?: { code: string; message: string; failure?: string; classification?: Classification };
}

/** The outcome of one mail of a batch, in input order. */
export type TransportBatchOutcome =
  | { ok: true; result: TransportResult }
  | {
      ok: false;
      error: Error;
      /** Attempts made for this mail before it failed, when a failover or round-robin transport made several. */
      attempts?: SendAttempt[];
    };

export interface SendResult extends TransportResult {
  /** Name of the transport that delivered the mail. */
  transport: string;
  /** Every attempt made, in order; the last one is the successful one. */
  attempts: SendAttempt[];
}
