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
}

/** One attempt on one transport, successful or not. */
export interface SendAttempt {
  transport: string;
  ok: boolean;
  error?: { code: string; message: string; classification?: Classification };
}

export interface SendResult extends TransportResult {
  /** Name of the transport that delivered the mail. */
  transport: string;
  /** Every attempt made, in order; the last one is the successful one. */
  attempts: SendAttempt[];
}
