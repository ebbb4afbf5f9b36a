import { requestHeader } from '../../http/webhook-body.js';
import { requireString, singleCredential } from '../provider-options.js';
import { providerDkimHint } from '../../dkim/dkim.options.js';
import { defineProvider, HTTP_OPTION_SHAPE, signedTimeRememberMs } from '../provider.definition.js';
import { ResendTransport, type ResendTransportOptions, RESEND_DKIM_SETUP } from './resend.transport.js';
import {
  DEFAULT_TOLERANCE_SECONDS, parseResendWebhook, resendSigningKey, verifyResendWebhook, type ResendWebhookOptions,
} from './resend.webhook.js';

/** `resend+api://API_KEY@default` or `{ type: 'resend', apiKey }`. */
export const RESEND_DEFINITION = defineProvider<ResendTransportOptions, ResendWebhookOptions>({
  name: 'resend',
  title: 'Resend',
  scheme: 'resend+api',
  urlOptions: [],
  fromUrl(parts) {
    return { ...parts.http, apiKey: singleCredential(parts, 'resend+api', 'Resend API key') };
  },
  shape: { ...HTTP_OPTION_SHAPE, apiKey: 'string' },
  hints: { dkim: providerDkimHint('resend', RESEND_DKIM_SETUP) },
  check(options, where) {
    requireString(options.apiKey, 'apiKey', "{ type: 'resend', apiKey }", where);
  },
  create: (options) => new ResendTransport(options),
  webhook: {
    shape: { secret: 'string', toleranceSeconds: 'number' },
    prepare(options, where) {
      const secret = resendSigningKey(requireString(options.secret, 'secret', "resend: { secret: 'whsec_…' }", where));
      const tolerance = options.toleranceSeconds;
      return {
        verify: (r, now) => verifyResendWebhook(r.headers, r.rawBody, { secret, toleranceSeconds: tolerance }, now),
        // The Svix message id: signed, and kept by Svix on every retry of the message.
        deliveryKeys: (r) => {
          const id = requestHeader(r.headers, 'svix-id') ?? requestHeader(r.headers, 'webhook-id');
          return { request: id ? [id] : [], events: [] };
        },
        rememberMs: signedTimeRememberMs(tolerance, DEFAULT_TOLERANCE_SECONDS),
        parse: parseResendWebhook,
      };
    },
  },
});
