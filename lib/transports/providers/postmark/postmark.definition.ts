import { MailerConfigurationError } from '../../../errors/mailer.error.js';
import { requireString, singleCredential } from '../provider-options.js';
import { providerDkimHint } from '../../dkim/dkim.options.js';
import { defineProvider, HTTP_OPTION_SHAPE } from '../provider.definition.js';
import { PostmarkTransport, type PostmarkTransportOptions, POSTMARK_DKIM_SETUP } from './postmark.transport.js';
import {
  assertPostmarkCredentials,
  parsePostmarkWebhook,
  POSTMARK_REMEMBER_MS,
  postmarkDeliveryKey,
  verifyPostmarkWebhook,
  type PostmarkWebhookOptions,
} from './postmark.webhook.js';

/** `postmark+api://SERVER_TOKEN@default[?messageStream=…]` or `{ type: 'postmark', serverToken, messageStream? }`. */
export const POSTMARK_DEFINITION = defineProvider<PostmarkTransportOptions, PostmarkWebhookOptions>({
  name: 'postmark',
  title: 'Postmark',
  scheme: 'postmark+api',
  urlOptions: ['messageStream'],
  fromUrl(parts) {
    const serverToken = singleCredential(parts, 'postmark+api', 'Postmark server token');
    const messageStream = parts.take('messageStream');
    if (messageStream === '') throw new MailerConfigurationError(`${parts.where}: messageStream is empty.`);
    return { ...parts.http, serverToken, ...(messageStream ? { messageStream } : {}) };
  },
  shape: { ...HTTP_OPTION_SHAPE, serverToken: 'string', messageStream: 'string' },
  hints: {
    apiKey: "is not Postmark's name: the server API token is serverToken.",
    dkim: providerDkimHint('postmark', POSTMARK_DKIM_SETUP),
  },
  check(options, where) {
    requireString(options.serverToken, 'serverToken', "{ type: 'postmark', serverToken }", where);
  },
  create: (options) => new PostmarkTransport(options),
  webhook: {
    shape: { username: 'string', password: 'string' },
    prepare(options) {
      assertPostmarkCredentials(options);
      return {
        verify: (r) => verifyPostmarkWebhook(r.headers, options),
        deliveryKeys: (r) => {
          const key = postmarkDeliveryKey(r.rawBody);
          return { request: key ? [key] : [], events: [] };
        },
        rememberMs: POSTMARK_REMEMBER_MS,
        parse: parsePostmarkWebhook,
      };
    },
  },
});
