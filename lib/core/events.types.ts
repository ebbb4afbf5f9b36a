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

export type MailEvent = MailSendingEvent | MailSentEvent | MailFailedEvent;
