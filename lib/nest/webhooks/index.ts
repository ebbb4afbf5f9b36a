export {
  MailerWebhooksModule,
  MAILER_WEBHOOKS_OPTIONS_TYPE,
  MAILER_WEBHOOKS_ASYNC_OPTIONS_TYPE,
} from './webhooks.module.js';
export { MailerWebhooksService, type WebhookOutcome, type WebhookRequest } from './webhooks.service.js';
export {
  createMailerWebhooksController,
  normalizeWebhooksPath,
  RAW_BODY_MISSING,
  type WebhookAcceptedResponse,
} from './webhooks.controller.js';
export {
  DEFAULT_WEBHOOKS_PATH,
  DEFAULT_WEBHOOK_BODY_LIMIT,
  type MailerWebhookProviders,
  type MailerWebhooksModuleExtras,
  type MailerWebhooksModuleOptions,
} from './webhooks.options.js';
export {
  DELIVERY_EVENT_PREFIX,
  deliveryEventName,
  MAILER_DELIVERY_SINKS,
  MAILER_WEBHOOKS_OPTIONS,
  type DeliveryEventSink,
} from './webhooks.tokens.js';
