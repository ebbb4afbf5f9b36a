import type { OutgoingMail } from './mail.types.js';
import type { TransportBatchOutcome, TransportResult } from './send-result.types.js';
import type { TransportSendOptions } from './send-trace.types.js';

/**
 * A way out for mail. Every failure a transport reports is a `TransportError` (or a subclass),
 * so failover and retry never meet an error shape they do not understand.
 */
export interface Transport {
  /** The configured name (`default`, `bulk`, …), or the scheme for nested transports. */
  readonly name: string;
  /** `smtp`, `sendgrid`, `failover`, … */
  readonly kind: string;
  /**
   * Sends one mail. `options` carries the caller's abort signal and, while the send is traced, the
   * trace that a transport trying other transports hands on to them (see SendTrace).
   */
  send(mail: OutgoingMail, options?: TransportSendOptions): Promise<TransportResult>;
  /**
   * Optional: sends several mails, in as few requests as the provider allows, and reports one
   * outcome per mail in input order. A failed mail is an outcome, not a rejection; the call rejects
   * only when it cannot report per mail (and must then do so before sending anything).
   */
  sendBatch?(mails: OutgoingMail[]): Promise<TransportBatchOutcome[]>;
  /** Connects and authenticates (SMTP) or makes an authenticated call that sends nothing (APIs). */
  verify(): Promise<void>;
  /** Releases pooled connections. Safe to call more than once. */
  close(): Promise<void>;
}
