import { MAILGUN_DEFINITION } from './mailgun/mailgun.definition.js';
import { POSTMARK_DEFINITION } from './postmark/postmark.definition.js';
import type { ProviderDefinition } from './provider.definition.js';
import { RESEND_DEFINITION } from './resend/resend.definition.js';
import { SENDGRID_DEFINITION } from './sendgrid/sendgrid.definition.js';
import { SES_DEFINITION } from './ses/ses.definition.js';

/**
 * Every HTTP provider the package knows, in the order messages list them. A new provider is its
 * own folder with a definition, plus one line here.
 */
export const PROVIDER_DEFINITIONS: readonly ProviderDefinition[] = [
  SENDGRID_DEFINITION,
  POSTMARK_DEFINITION,
  SES_DEFINITION,
  MAILGUN_DEFINITION,
  RESEND_DEFINITION,
];

/** The definition of a provider by its name (`type` of an options object, webhook path segment). */
export function providerDefinition(name: string): ProviderDefinition | undefined {
  return PROVIDER_DEFINITIONS.find((d) => d.name === name);
}
