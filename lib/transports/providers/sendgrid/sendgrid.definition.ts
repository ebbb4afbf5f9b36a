import { checkRegion, requireString, singleCredential } from '../provider-options.js';
import { providerDkimHint } from '../../dkim/dkim.options.js';
import { defineProvider, HTTP_OPTION_SHAPE, signedTimeRememberMs } from '../provider.definition.js';
import { SENDGRID_API_URLS, SendGridTransport, type SendGridTransportOptions, SENDGRID_DKIM_SETUP } from './sendgrid.transport.js';
import {
  DEFAULT_TOLERANCE_SECONDS,
  parseSendGridWebhook,
  sendGridEventKey,
  sendGridPublicKey,
  verifySendGridWebhook,
  type SendGridWebhookOptions,
} from './sendgrid.webhook.js';

/** `sendgrid+api://API_KEY@default[?region=eu]` or `{ type: 'sendgrid', apiKey, region? }`. */
export const SENDGRID_DEFINITION = defineProvider<SendGridTransportOptions, SendGridWebhookOptions>({
  name: 'sendgrid',
  title: 'SendGrid',
  scheme: 'sendgrid+api',
  urlOptions: ['region'],
  fromUrl(parts) {
    const apiKey = singleCredential(parts, 'sendgrid+api', 'SendGrid API key');
    const region = checkRegion('SendGrid', parts.take('region'), SENDGRID_API_URLS, parts.where);
    return { ...parts.http, apiKey, ...(region ? { region } : {}) };
  },
  shape: { ...HTTP_OPTION_SHAPE, apiKey: 'string', region: 'string' },
  hints: { dkim: providerDkimHint('sendgrid', SENDGRID_DKIM_SETUP) },
  check(options, where) {
    requireString(options.apiKey, 'apiKey', "{ type: 'sendgrid', apiKey }", where);
    checkRegion('SendGrid', options.region, SENDGRID_API_URLS, where);
  },
  create: (options) => new SendGridTransport(options),
  webhook: {
    shape: { publicKey: ['string', 'object'], toleranceSeconds: 'number' },
    prepare(options) {
      const publicKey = sendGridPublicKey(options.publicKey);
      const tolerance = options.toleranceSeconds;
      return {
        verify: (r, now) => verifySendGridWebhook(r.headers, r.rawBody, { publicKey, toleranceSeconds: tolerance }, now),
        // SendGrid names no request, only events (sg_event_id), and may batch a retried event with
        // others: every event is checked on its own. The signature is never a key: its encoding
        // can change while it still verifies.
        deliveryKeys: (_r, events) => ({ request: [], events: events.map(sendGridEventKey) }),
        rememberMs: signedTimeRememberMs(tolerance, DEFAULT_TOLERANCE_SECONDS),
        parse: parseSendGridWebhook,
      };
    },
  },
});
