import { SetMetadata } from '@nestjs/common';
import type { AddressListInput, AttachmentInput } from '../core/mail.types.js';
import { MailerConfigurationError } from '../errors/mailer.error.js';
import { MAIL_PREVIEW_METADATA } from './preview.tokens.js';

/**
 * What a preview method returns when a context alone is not enough. A returned object is read
 * this way when it has a `context` object and no keys but these; anything else is the context.
 */
export interface MailPreviewResult {
  context: Record<string, unknown>;
  /** A subject instead of the template's subject, as a mail's own `subject` would. */
  subject?: string;
  /** A layout instead of the default one, or false for none. */
  layout?: string | false;
  /**
   * The locale to render in (`fr-CA`), as a mail's `locale`: one preview method per language
   * shows each localized version. Default: the MailerModule's `locale.default`.
   */
  locale?: string;
  /** Recipients shown in the preview. Default `recipient@example.com`. */
  to?: AddressListInput;
  /**
   * Attachments, e.g. the logo a layout shows with `cid:`. The MailerModule's attachment policy
   * applies: a `path` is refused unless the application allows paths.
   */
  attachments?: AttachmentInput[];
}

/** The preview methods' return type: a context, a MailPreviewResult, or a promise of either. */
export type MailPreviewReturn = Record<string, unknown> | MailPreviewResult | Promise<Record<string, unknown> | MailPreviewResult>;

/**
 * Marks a provider whose methods are sample contexts for one template; each method (its name is the
 * preview's name) returns a context or a MailPreviewResult, or a promise of one. The class must be a
 * provider of some module so that the preview module finds it, and may inject what it needs:
 *
 * ```ts
 * @MailPreview('orders/receipt')
 * @Injectable()
 * export class ReceiptPreviews {
 *   paid() { return { order: sampleOrder() }; }
 *   refunded() { return { context: { order: sampleOrder({ refunded: true }) }, subject: 'Refund' }; }
 * }
 * ```
 */
export function MailPreview(template: string): ClassDecorator {
  if (typeof template !== 'string' || template.trim() === '') {
    throw new MailerConfigurationError('@MailPreview() needs the name of a template, e.g. @MailPreview(\'orders/receipt\').');
  }
  return SetMetadata(MAIL_PREVIEW_METADATA, template.trim());
}
