export { MailerModule, MAILER_MODULE_OPTIONS } from './mailer.module.js';
export { MailerService, type SendOptions, type BoundMailer } from './mailer.service.js';
export type { MailerModuleOptions, MailerModuleExtras } from './mailer.options.js';
export { InjectMailer, getMailerToken } from './mailer.tokens.js';
export type { IncumbentSendMailOptions, IncumbentSentMessageInfo, IncumbentAttachment } from './incumbent.compat.js';
