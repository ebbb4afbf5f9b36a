import { MailerConfigurationError } from '../../../errors/mailer.error.js';
import { checkRegion, requireString } from '../provider-options.js';
import { providerDkimHint } from '../../dkim/dkim.options.js';
import { defineProvider, HTTP_OPTION_SHAPE, signedTimeRememberMs } from '../provider.definition.js';
import { MAILGUN_API_URLS, MailgunTransport, type MailgunTransportOptions, MAILGUN_DKIM_SETUP } from './mailgun.transport.js';
import { DEFAULT_TOLERANCE_SECONDS, mailgunDeliveryKeys, parseMailgunWebhook, verifyMailgunWebhook, type MailgunWebhookOptions } from './mailgun.webhook.js';

const EXAMPLE = 'mailgun+api://<API key>:<domain>@default';

/** `mailgun+api://API_KEY:DOMAIN@default[?region=eu]` or `{ type: 'mailgun', apiKey, domain, region? }`. */
export const MAILGUN_DEFINITION = defineProvider<MailgunTransportOptions, MailgunWebhookOptions>({
  name: 'mailgun',
  title: 'Mailgun',
  scheme: 'mailgun+api',
  urlOptions: ['region'],
  fromUrl(parts) {
    const apiKey = requireString(parts.user, 'Mailgun API key', EXAMPLE, parts.where);
    const domain = requireString(parts.pass, 'Mailgun sending domain', EXAMPLE, parts.where);
    const region = checkRegion('Mailgun', parts.take('region'), MAILGUN_API_URLS, parts.where);
    return { ...parts.http, apiKey, domain, ...(region ? { region } : {}) };
  },
  shape: { ...HTTP_OPTION_SHAPE, apiKey: 'string', domain: 'string', region: 'string' },
  hints: { dkim: providerDkimHint('mailgun', MAILGUN_DKIM_SETUP) },
  check(options, where) {
    requireString(options.apiKey, 'apiKey', "{ type: 'mailgun', apiKey, domain }", where);
    requireString(options.domain, 'domain', "{ type: 'mailgun', apiKey, domain }", where);
    checkRegion('Mailgun', options.region, MAILGUN_API_URLS, where);
  },
  create: (options) => new MailgunTransport(options),
  webhook: {
    shape: { signingKey: 'string', toleranceSeconds: 'number' },
    prepare(options) {
      if (!options.signingKey) throw new MailerConfigurationError('The Mailgun webhook needs `signingKey` (the HTTP webhook signing key).');
      return {
        verify: (r, now) => verifyMailgunWebhook(r.rawBody, options, now),
        deliveryKeys: (r, events) => ({ request: mailgunDeliveryKeys(r.rawBody, events), events: [] }),
        rememberMs: signedTimeRememberMs(options.toleranceSeconds, DEFAULT_TOLERANCE_SECONDS),
        parse: parseMailgunWebhook,
      };
    },
  },
});
