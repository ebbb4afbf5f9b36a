import type { OutgoingMail } from '../core/mail.types.js';

/**
 * Where an OutgoingMail keeps the template context it was rendered with, when the mailer is asked
 * to (only `nestjs-mailroom/testing` asks). A symbol key is no field of the mail's type, no
 * transport reads it, and it survives the `{ ...mail }` copies interceptors and listeners make.
 */
const TEMPLATE_CONTEXT = Symbol.for('nestjs-mailroom:template-context');

type WithContext = OutgoingMail & { [TEMPLATE_CONTEXT]?: Record<string, unknown> };

export function keepTemplateContext(mail: OutgoingMail, context: Record<string, unknown>): void {
  (mail as WithContext)[TEMPLATE_CONTEXT] = context;
}

/** The context the mail's template was rendered with, when it was kept. */
export function templateContextOf(mail: OutgoingMail): Record<string, unknown> | undefined {
  return (mail as WithContext)[TEMPLATE_CONTEXT];
}
