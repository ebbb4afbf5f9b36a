/** Injection token of the resolved MailerPreviewModuleOptions. */
export const MAILER_PREVIEW_OPTIONS = Symbol.for('nestjs-mailroom:preview-options');

/**
 * Metadata key of `@MailPreview()`. A string rather than a symbol made per module load, so a class
 * decorated through one build of the package (ES module or CommonJS) is found by the other.
 */
export const MAIL_PREVIEW_METADATA = 'nestjs-mailroom:mail-preview';
