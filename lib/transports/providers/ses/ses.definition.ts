import { MailerConfigurationError } from '../../../errors/mailer.error.js';
import { checkAwsRegion } from '../provider-options.js';
import { defineProvider, HTTP_OPTION_SHAPE, signedTimeRememberMs } from '../provider.definition.js';
import { SesTransport, type SesTransportOptions } from './ses.transport.js';
import {
  assertSesWebhookOptions,
  confirmSnsSubscription,
  DEFAULT_TOLERANCE_SECONDS,
  parseSesWebhook,
  readSnsMessage,
  verifySesWebhook,
  type SesWebhookOptions,
} from './ses.webhook.js';

/**
 * `ses+api://default?region=…` (the AWS default credential chain) or
 * `ses+api://ACCESS_KEY_ID:SECRET@default?region=…`, or `{ type: 'ses', region?, accessKeyId?, … }`.
 */
export const SES_DEFINITION = defineProvider<SesTransportOptions, SesWebhookOptions>({
  name: 'ses',
  title: 'Amazon SES',
  scheme: 'ses+api',
  urlOptions: ['region', 'sessionToken', 'configurationSetName'],
  fromUrl(parts) {
    const { user, pass, where } = parts;
    if (Boolean(user) !== Boolean(pass)) {
      throw new MailerConfigurationError(`${where}: give both the access key id and the secret (ses+api://<access key id>:<secret>@default?region=eu-west-1), or neither for the AWS default credential chain.`);
    }
    const options: SesTransportOptions = { ...parts.http };
    const region = checkAwsRegion(parts.take('region'), where);
    if (region) options.region = region;
    if (user) {
      options.accessKeyId = user;
      options.secretAccessKey = pass;
    }
    const sessionToken = parts.take('sessionToken');
    if (sessionToken !== undefined) {
      if (!user) throw new MailerConfigurationError(`${where}: sessionToken needs an access key id and secret in the URL.`);
      options.sessionToken = sessionToken;
    }
    const configurationSetName = parts.take('configurationSetName');
    if (configurationSetName !== undefined) options.configurationSetName = configurationSetName;
    return options;
  },
  shape: {
    ...HTTP_OPTION_SHAPE,
    region: 'string',
    accessKeyId: 'string',
    secretAccessKey: 'string',
    sessionToken: 'string',
    configurationSetName: 'string',
    dkim: 'unknown',
  },
  hints: {
    credentials: 'is not read: give accessKeyId, secretAccessKey and sessionToken, or nothing for the AWS default credential chain.',
    apiVersion: 'is not needed: the SES v2 API is used.',
  },
  check(options, where) {
    checkAwsRegion(options.region, where);
  },
  create: (options) => new SesTransport(options),
  webhook: {
    shape: {
      region: 'string',
      topicArn: ['string', 'array'],
      autoConfirm: 'boolean',
      toleranceSeconds: 'number',
      fetchCertificate: 'function',
      confirmSubscription: 'function',
    },
    prepare(options) {
      assertSesWebhookOptions(options);
      return {
        verify: (r, now) => verifySesWebhook(r.rawBody, options, now),
        // The SNS MessageId: signed, and kept by SNS on every retry of the message.
        deliveryKeys: (r) => {
          const id = readSnsMessage(r.rawBody)?.MessageId;
          return { request: id ? [id] : [], events: [] };
        },
        rememberMs: signedTimeRememberMs(options.toleranceSeconds, DEFAULT_TOLERANCE_SECONDS),
        async handshake(r) {
          const message = readSnsMessage(r.rawBody);
          if (!message || message.Type !== 'SubscriptionConfirmation') return undefined;
          return { outcome: await confirmSnsSubscription(message, options), subject: message.TopicArn };
        },
        parse: parseSesWebhook,
      };
    },
  },
});
