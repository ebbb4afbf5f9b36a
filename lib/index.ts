// The public API of `nestjs-mailroom`: what an application needs to configure, inject, send, react
// to events and handle errors. Every name here is a promise kept across minor versions; the
// manifest in test/package/public-api.json lists them and a test compares. Everything else under
// lib/ is internal and may change in any release.

// Sending: the mail, its result, the events around it.
export type {
  AddressInput,
  AddressListInput,
  Attachment,
  AttachmentInput,
  CalendarEvent,
  CalendarEventInput,
  CalendarMethod,
  Envelope,
  ListUnsubscribe,
  Mail,
  MailAddress,
  MailPriority,
  OutgoingMail,
} from './core/mail.types.js';
export type { DkimConfig, DkimOptions, DkimSignature } from './core/dkim.types.js';
export type {
  RejectedRecipient,
  SendAttempt,
  SendResult,
  TransportBatchOutcome,
  TransportResult,
} from './core/send-result.types.js';
export {
  MAIL_EVENTS,
  SUPPRESSION_EVENTS,
  type MailEvent,
  type MailFailedEvent,
  type MailSendingEvent,
  type MailSentEvent,
  type SuppressionAvailableEvent,
  type SuppressionUnavailableEvent,
} from './core/events.types.js';

// What went wrong, in one vocabulary.
export {
  BOUNCE_REASONS,
  type BounceReason,
  type Classification,
  type ClassificationAction,
  type DeliveryKind,
} from './core/classification.types.js';
export {
  DELIVERY_EVENT_TYPES,
  type DeliveryEvent,
  type DeliveryEventProvider,
  type DeliveryEventType,
} from './core/delivery-event.types.js';
export { classifySmtpReply } from './bounces/smtp-reply.classifier.js';
export { classifyProviderError, type ProviderErrorInput } from './bounces/provider-error.classifier.js';
export { parseBounce, parseBounceReport } from './bounces/bounce.parser.js';
export type { BounceNotice, BounceReport, BounceResult } from './bounces/bounce.types.js';

// Errors.
export {
  InvalidMailError,
  isMailerError,
  isTransportError,
  MailCancelledError,
  MailerConfigurationError,
  MailerError,
  QueueUnavailableError,
  SuppressionUnavailableError,
  TemplateNotFoundError,
  TemplateRenderError,
  TemplateSyntaxError,
  TransportError,
  UnsupportedFeatureError,
  WebhookPayloadError,
  type MailerErrorCode,
  type TransportFailure,
} from './errors/mailer.error.js';

// The Nest module and what it provides.
export { MailerModule, MAILER_MODULE_OPTIONS } from './nest/mailer.module.js';
export type { MailerModuleOptions, MailerRateLimitOptions, MailerRetryOptions } from './nest/mailer.options.js';

// Observability: OpenTelemetry spans and metrics (optional @opentelemetry/api), the failure log line.
export { METRIC_NAMES, SPAN_NAMES } from './telemetry/telemetry.names.js';
export type { MailerTelemetryOptions, TelemetryRecipients } from './telemetry/telemetry.options.js';
export type {
  AddTransportOptions,
  MailerTransportCacheOptions,
  ResolvedTransport,
  TransportResolver,
  TransportResolverAnswer,
  TransportResolverContext,
} from './nest/transport-resolver.types.js';
export type { I18nextLike, MailerLocaleOptions, MailTranslateFunction } from './nest/mail-locale.js';
export {
  MailerService,
  type BatchSendResult,
  type BoundMailer,
  type SendBatchOptions,
  type SendOptions,
} from './nest/mailer.service.js';
export { getMailerToken, InjectMailer } from './nest/mailer.tokens.js';
export { MailerHealthIndicator, type MailerHealthOptions, type MailerHealthResult } from './nest/mailer.health.js';
export { MailRetry } from './nest/mail-retry.decorator.js';
export { MailRetryInterceptor, type MailRetryOptions } from './nest/mail-retry.interceptor.js';
export {
  StagingRedirectInterceptor,
  type MailInterceptor,
  type MailInterceptorContext,
  type StagingRedirectOptions,
} from './nest/mail-interceptor.js';
export type { IncumbentSendMailOptions, IncumbentSentMessageInfo } from './nest/incumbent.compat.js';

// Retry and rate limits.
export type { RetryBackoff, RetryEvent, RetryJitter, RetryOptions } from './retry/retry.options.js';
export { isRetryableFailure } from './retry/retry.decision.js';
export { TokenBucketRateLimiter, type RateLimiter, type RateLimitOptions } from './retry/rate-limiter.js';

// Transports: configuration, the built-in classes, and the interface for one of your own.
export type { Transport } from './core/transport.types.js';
export type { SendTrace, TransportIdentity, TransportSendOptions } from './core/send-trace.types.js';
export type { CompositeTransportConfig, TransportConfig } from './transports/transport.config.js';
export type { AttachmentPolicy, MailDefaults } from './transports/mail.compose.js';
export { SmtpTransport } from './transports/smtp/smtp.transport.js';
export type { SmtpAuthOptions, SmtpLogger, SmtpPoolOptions, SmtpTlsMode, SmtpTransportOptions } from './transports/smtp/smtp.options.js';
export { MemoryTransport } from './transports/memory.transport.js';
export { FailoverTransport, type FailoverTransportOptions } from './transports/failover.transport.js';
export { RoundRobinTransport, type RoundRobinTransportOptions } from './transports/roundrobin.transport.js';
export { SendGridTransport, type SendGridTransportOptions } from './transports/providers/sendgrid/sendgrid.transport.js';
export { PostmarkTransport, type PostmarkTransportOptions } from './transports/providers/postmark/postmark.transport.js';
export { SesTransport, type SesTransportOptions } from './transports/providers/ses/ses.transport.js';
export { MailgunTransport, type MailgunTransportOptions } from './transports/providers/mailgun/mailgun.transport.js';
export { ResendTransport, type ResendTransportOptions } from './transports/providers/resend/resend.transport.js';

// Templates.
export type { RenderedMail, RenderOptions, TemplateRenderer } from './templates/template-renderer.types.js';
export type { HandlebarsTemplateOptions } from './templates/handlebars-renderer.options.js';
export type { MjmlTemplateOptions } from './templates/mjml.compile.js';
export type { CssInlineOptions } from './templates/css-inliner.js';
export { HandlebarsRenderer, type TemplateInlineMode } from './templates/handlebars.renderer.js';

// The suppression list.
export type {
  SuppressedRecipient,
  SuppressionEntry,
  SuppressionFilterResult,
  SuppressionInput,
  SuppressionListOptions,
  SuppressionPage,
  SuppressionReason,
  SuppressionSource,
  SuppressionStore,
} from './suppression/suppression.types.js';
export type { SuppressionPolicyOptions } from './suppression/suppression.policy.js';
export type { SuppressionCircuitOptions, SuppressionUnavailableMode } from './suppression/suppression.circuit.js';
export { MemorySuppressionStore, type MemorySuppressionStoreOptions } from './suppression/memory-suppression.store.js';
export { RedisSuppressionStore, type RedisSuppressionStoreOptions } from './suppression/redis-suppression.store.js';

// Provider webhooks, as a Nest module. Verifiers and parsers for use outside Nest:
// `nestjs-mailroom/webhooks`.
export { MailerWebhooksModule } from './nest/webhooks/webhooks.module.js';
export { MailerWebhooksService, type WebhookOutcome, type WebhookRequest } from './nest/webhooks/webhooks.service.js';
export type { MailerWebhookProviders, MailerWebhooksDedupeOptions, MailerWebhooksModuleOptions } from './nest/webhooks/webhooks.options.js';
export { deliveryEventName, MAILER_DELIVERY_SINKS, type DeliveryEventSink } from './nest/webhooks/webhooks.tokens.js';
export type { SendGridWebhookOptions } from './transports/providers/sendgrid/sendgrid.webhook.js';
export type { PostmarkWebhookOptions } from './transports/providers/postmark/postmark.webhook.js';
export type { SesWebhookOptions } from './transports/providers/ses/ses.webhook.js';
export type { MailgunWebhookOptions } from './transports/providers/mailgun/mailgun.webhook.js';
export type { ResendWebhookOptions } from './transports/providers/resend/resend.webhook.js';

// The queue (optional peers bullmq and ioredis, loaded when the module starts).
export { MailerQueueModule } from './queue/mailer-queue.module.js';
export { MAILER_QUEUE_OPTIONS } from './queue/mailer-queue.tokens.js';
export { MailerQueue, type EnqueueOptions, type EnqueueResult, type MailQueueEntry } from './queue/mailer-queue.service.js';
export type { MailerQueueMode, MailerQueueModuleOptions } from './queue/mailer-queue.options.js';
export {
  MAIL_QUEUE_EVENTS,
  type MailQueuedEvent,
  type MailQueueEvent,
  type MailQueueFailedEvent,
  type MailQueueSentEvent,
} from './queue/mailer-queue.events.js';
