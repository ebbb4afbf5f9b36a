export { MailerModule, MAILER_MODULE_OPTIONS } from './mailer.module.js';
export { MailerService, type SendOptions, type SendBatchOptions, type BatchSendResult, type BoundMailer } from './mailer.service.js';
export {
  MailerHealthIndicator,
  importTerminus,
  TERMINUS_PACKAGE,
  DEFAULT_HEALTH_TIMEOUT,
  type MailerHealthOptions,
  type MailerHealthResult,
} from './mailer.health.js';
export type { MailerModuleOptions, MailerModuleExtras, MailerRetryOptions, MailerRateLimitOptions } from './mailer.options.js';
export { MailRetryInterceptor, MAIL_RETRY_OPTIONS, type MailRetryOptions } from './mail-retry.interceptor.js';
export { MailRetry } from './mail-retry.decorator.js';
export {
  StagingRedirectInterceptor,
  type MailInterceptor,
  type MailInterceptorContext,
  type StagingRedirectOptions,
} from './mail-interceptor.js';
export { InjectMailer, getMailerToken } from './mailer.tokens.js';
export type { IncumbentSendMailOptions, IncumbentSentMessageInfo, IncumbentAttachment } from './incumbent.compat.js';
export type { IncumbentIcalEvent } from './incumbent.compat.js';
export * from './webhooks/index.js';
export type { IncumbentTemplateOptions, IncumbentRuntimeOptions } from './incumbent-options.compat.js';
