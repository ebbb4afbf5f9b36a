import type { DeliveryEvent } from '../../core/delivery-event.types.js';

/**
 * Receives every verified delivery event (a suppression store records hard bounces and
 * complaints). It should be idempotent: a provider delivers a webhook again when the first answer
 * was lost or was not a 2xx.
 */
export interface DeliveryEventSink {
  record(event: DeliveryEvent): Promise<void>;
}

/**
 * Optional injection token: a DeliveryEventSink, or an array of them, that the webhook endpoints
 * hand each event to. Bind it in a module the webhooks module can see (a global one, or through
 * `forRootAsync({ imports })` and the `sinks` option).
 */
export const MAILER_DELIVERY_SINKS = Symbol.for('nestjs-mailroom:delivery-sinks');

/** Prefix of the @nestjs/event-emitter event names: `mail.delivery.bounced`, … */
export const DELIVERY_EVENT_PREFIX = 'mail.delivery.';

/** The @nestjs/event-emitter event name of a delivery event type. */
export function deliveryEventName(type: DeliveryEvent['type']): string {
  return `${DELIVERY_EVENT_PREFIX}${type}`;
}

/** Injection token of the resolved MailerWebhooksModuleOptions. */
export const MAILER_WEBHOOKS_OPTIONS = Symbol.for('nestjs-mailroom:webhooks-options');
