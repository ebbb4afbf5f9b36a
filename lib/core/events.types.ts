import type { OutgoingMail } from './mail.types.js';
import type { SendResult } from './send-result.types.js';

/** Event names, also used as @nestjs/event-emitter event names. */
export const MAIL_EVENTS = {
  sending: 'mail.sending',
  sent: 'mail.sent',
  failed: 'mail.failed',
} as const;

/**
 * Emitted before a mail leaves. Listeners may change `mail` in place (or assign a new one) and may
 * call `cancel()`; the mail is validated again after every listener has run.
 */
export interface MailSendingEvent {
  type: typeof MAIL_EVENTS.sending;
  mail: OutgoingMail;
  transport: string;
  cancel(reason?: string): void;
  readonly cancelled: boolean;
  readonly cancelReason?: string;
}

export interface MailSentEvent {
  type: typeof MAIL_EVENTS.sent;
  mail: OutgoingMail;
  result: SendResult;
}

export interface MailFailedEvent {
  type: typeof MAIL_EVENTS.failed;
  mail: OutgoingMail;
  transport: string;
  error: Error;
}

/** Names of the suppression list's events, also used as @nestjs/event-emitter event names. */
export const SUPPRESSION_EVENTS = {
  unavailable: 'suppression.unavailable',
  available: 'suppression.available',
} as const;

/**
 * The suppression store stopped answering (published once per outage, at the first failure). Until
 * `suppression.available`, sends do not ask the store: they go out filtered only by what this
 * process learned meanwhile (`onUnavailable: 'send'`), or are refused (`'fail'`).
 */
export interface SuppressionUnavailableEvent {
  type: typeof SUPPRESSION_EVENTS.unavailable;
  /** The failure that opened the outage. */
  error: Error;
  /** What sends do until the store answers again. */
  onUnavailable: 'send' | 'fail';
  since: Date;
}

/** The store answers again; what was learned during the outage has been written to it. */
export interface SuppressionAvailableEvent {
  type: typeof SUPPRESSION_EVENTS.available;
  /** Milliseconds since `suppression.unavailable`. */
  downtime: number;
  /** Entries learned during the outage and written now. */
  written: number;
  /** Entries learned during the outage that the buffer had no room for: they are not on the list. */
  dropped: number;
}

/** What `MailerService.events$` publishes. */
export type MailEvent =
  | MailSendingEvent
  | MailSentEvent
  | MailFailedEvent
  | SuppressionUnavailableEvent
  | SuppressionAvailableEvent;
