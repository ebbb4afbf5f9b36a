// `nestjs-mailroom/preview`: the mail preview and development inbox, a separate entry point so
// production code never loads it. Every name here is public API; see the main entry point's note.

export { MailerPreviewModule } from './preview.module.js';
export type { MailerPreviewModuleExtras, MailerPreviewModuleOptions } from './preview.options.js';
export { MailPreview, type MailPreviewResult, type MailPreviewReturn } from './mail-preview.decorator.js';
