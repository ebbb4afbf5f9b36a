import type { Classification } from './classification.types.js';

/** Providers whose webhooks this package reads. */
export type DeliveryEventProvider = 'sendgrid' | 'postmark' | 'ses' | 'mailgun' | 'resend';

/**
 * What happened to one message for one recipient, in one vocabulary for every provider.
 *
 * - `sent`: the provider accepted the message and will try to deliver it.
 * - `delivered`: the receiving server accepted it.
 * - `deferred`: a temporary failure; the provider keeps trying.
 * - `bounced`: the receiving server refused it (or the provider gave up); see the classification
 *   for hard or soft.
 * - `rejected`: the provider did not try at all, usually because the address is on its
 *   suppression list.
 * - `complained`: the recipient marked it as spam (feedback loop).
 * - `failed`: the provider could not send it for a reason that is not about the recipient
 *   (quota, template rendering, account).
 * - `opened`, `clicked`: engagement tracking.
 * - `unsubscribed`, `subscribed`: the recipient left (or joined again) a list or the provider's
 *   suppression list was changed by hand.
 * - `unknown`: an event this package does not map; `providerEvent` names it.
 */
export const DELIVERY_EVENT_TYPES = [
  'sent', 'delivered', 'deferred', 'bounced', 'rejected', 'complained', 'failed',
  'opened', 'clicked', 'unsubscribed', 'subscribed', 'unknown',
] as const;

export type DeliveryEventType = (typeof DELIVERY_EVENT_TYPES)[number];

/** One normalized provider webhook event. A provider request may carry several. */
export interface DeliveryEvent {
  provider: DeliveryEventProvider;
  type: DeliveryEventType;
  /** The provider's own name for the event (`bounce`, `email.bounced`, `Bounce`, `failed`, …). */
  providerEvent: string;
  /** The address the event is about, as the provider reported it. */
  recipient: string;
  /**
   * The Message-ID header (`<id@domain>`, the form `SendResult.messageId` has) when the provider
   * reports it; equal to the sent one whenever the provider kept the header it was given.
   */
  messageId?: string;
  /** The provider's id for the message, as the transport returned it in `providerMessageId`. */
  providerMessageId?: string;
  /** The provider's id for this event, for de-duplicating retried webhook deliveries. */
  eventId?: string;
  /** When the provider says the event happened. */
  timestamp: Date;
  /** Present for delivered, deferred, bounced, rejected, complained and failed events. */
  classification?: Classification;
  /** The mail's tags as the provider echoes them. */
  tags?: string[];
  /** The mail's metadata (custom args, user variables, name/value tags) as the provider echoes it. */
  metadata?: Record<string, string>;
  /** The provider's event object this one was read from. */
  raw: unknown;
}

/** The outcome of checking a webhook request's signature or credentials. */
export type WebhookVerification =
  | { ok: true }
  | {
      ok: false;
      /**
       * `missing`: no signature, timestamp or credentials; `malformed`: present but unreadable;
       * `stale`: the signed timestamp is outside the tolerance; `mismatch`: the signature does not
       * verify (forged, altered, or signed with another key); `untrusted`: the SNS certificate URL
       * or topic is not one this endpoint accepts.
       */
      reason: 'missing' | 'malformed' | 'stale' | 'mismatch' | 'untrusted';
      message: string;
    };

/** Request headers as Node gives them (lower-case names). */
export type WebhookHeaders = Readonly<Record<string, string | string[] | undefined>>;

