// `nestjs-mailroom/webhooks`: provider webhooks verified and normalized without Nest, for an
// application that receives them on its own server. Inside Nest, `MailerWebhooksModule` (main entry
// point) does the same and more. Every name here is public API; see the main entry point's note.

export {
  createWebhookReceiver,
  type WebhookOptionsByProvider,
  type WebhookReceiver,
  type WebhookReceiverRequest,
} from './transports/providers/webhook-receiver.js';
export type { WebhookDeliveryKeys, WebhookHandshake, WebhookSubscriptionOutcome } from './transports/providers/provider.definition.js';
export {
  DELIVERY_EVENT_TYPES,
  type DeliveryEvent,
  type DeliveryEventProvider,
  type DeliveryEventType,
  type WebhookHeaders,
  type WebhookVerification,
} from './core/delivery-event.types.js';
export type { Classification } from './core/classification.types.js';
export { WebhookPayloadError } from './errors/mailer.error.js';
export type { SendGridWebhookOptions } from './transports/providers/sendgrid/sendgrid.webhook.js';
export type { PostmarkWebhookOptions } from './transports/providers/postmark/postmark.webhook.js';
export type { SesWebhookOptions, SnsCertificateFetcher } from './transports/providers/ses/ses.webhook.js';
export type { MailgunWebhookOptions } from './transports/providers/mailgun/mailgun.webhook.js';
export type { ResendWebhookOptions } from './transports/providers/resend/resend.webhook.js';
