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
export type { MailerModuleOptions, MailerModuleExtras } from './mailer.options.js';
export { InjectMailer, getMailerToken } from './mailer.tokens.js';
export type { IncumbentSendMailOptions, IncumbentSentMessageInfo, IncumbentAttachment } from './incumbent.compat.js';
export * from './webhooks/index.js';
