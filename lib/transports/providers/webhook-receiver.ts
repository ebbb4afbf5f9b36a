import type { DeliveryEvent, DeliveryEventProvider, WebhookHeaders, WebhookVerification } from '../../core/delivery-event.types.js';
import { MailerConfigurationError } from '../../errors/mailer.error.js';
import { checkOptions } from '../../errors/option.checker.js';
import type { MailgunWebhookOptions } from './mailgun/mailgun.webhook.js';
import type { PostmarkWebhookOptions } from './postmark/postmark.webhook.js';
import type { ProviderDefinition, WebhookHandshake } from './provider.definition.js';
import { PROVIDER_DEFINITIONS, providerDefinition } from './providers.registry.js';
import type { ResendWebhookOptions } from './resend/resend.webhook.js';
import type { SendGridWebhookOptions } from './sendgrid/sendgrid.webhook.js';
import type { SesWebhookOptions } from './ses/ses.webhook.js';

/** The webhook options of each provider, by the provider's name. */
export interface WebhookOptionsByProvider {
  /** The Signed Event Webhook's verification key (`publicKey`). */
  sendgrid: SendGridWebhookOptions;
  /** The basic-auth credentials put in the webhook URL. */
  postmark: PostmarkWebhookOptions;
  /** SES notifications through an SNS HTTPS subscription. */
  ses: SesWebhookOptions;
  /** The HTTP webhook signing key (`signingKey`). */
  mailgun: MailgunWebhookOptions;
  /** The webhook's `whsec_…` signing secret (`secret`). */
  resend: ResendWebhookOptions;
}

/** A webhook request as the server received it: lower-case header names, the body's exact bytes. */
export interface WebhookReceiverRequest {
  headers: WebhookHeaders;
  rawBody: Buffer | string;
}

/**
 * One provider's webhook endpoint, for an application that receives webhooks without
 * `MailerWebhooksModule` (another framework, a serverless function, a queue consumer). Keys and
 * secrets are read when it is created; each request is verified before anything else is read.
 */
export interface WebhookReceiver {
  readonly provider: DeliveryEventProvider;
  /**
   * Checks the signature or credentials of a request, and its age where the provider signs a time.
   * Answer 401 when it does not hold, and read nothing of the body.
   */
  verify(request: WebhookReceiverRequest, now?: number): Promise<WebhookVerification>;
  /**
   * The normalized events of a verified request's body. A body that is not the provider's payload
   * throws `WebhookPayloadError`; answer 400 then.
   */
  parse(rawBody: Buffer | string): DeliveryEvent[];
  /**
   * An id that is the same when the provider delivers the same request again (a retry after a lost
   * answer), or undefined when the provider sends none. Keep the ids of accepted requests for the
   * provider's retry window to answer a repeat without processing it twice.
   */
  deliveryId(request: WebhookReceiverRequest): string | undefined;
  /**
   * For a verified request that is a subscription handshake rather than a delivery (an SNS
   * SubscriptionConfirmation): confirms it when the options allow (`autoConfirm`) and says what
   * happened. Undefined for an ordinary delivery, and always for providers without handshakes.
   */
  handshake(request: WebhookReceiverRequest): Promise<WebhookHandshake | undefined>;
}

function asBuffer(body: Buffer | string): Buffer {
  return typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
}

/** Builds the receiver of a provider from its definition; `where` starts every error message. */
export function prepareWebhookReceiver(definition: ProviderDefinition, options: unknown, where: string): WebhookReceiver {
  const webhook = definition.webhook;
  if (!webhook) throw new MailerConfigurationError(`${where}: ${definition.title} has no webhooks here.`);
  checkOptions(options, webhook.shape, where);
  const prepared = webhook.prepare(options, where);
  const request = (r: WebhookReceiverRequest) => ({ headers: r.headers ?? {}, rawBody: asBuffer(r.rawBody) });
  return {
    provider: definition.name,
    verify: async (r, now = Date.now()) => prepared.verify(request(r), now),
    parse: (rawBody) => prepared.parse(asBuffer(rawBody)),
    deliveryId: (r) => prepared.deliveryId(request(r)),
    handshake: async (r) => (prepared.handshake ? prepared.handshake(request(r)) : undefined),
  };
}

/**
 * The webhook receiver of one provider:
 * `createWebhookReceiver('sendgrid', { publicKey })`. A missing or malformed key, or an unknown
 * option, is a `MailerConfigurationError` here rather than at the first request.
 */
export function createWebhookReceiver<P extends keyof WebhookOptionsByProvider>(provider: P, options: WebhookOptionsByProvider[P]): WebhookReceiver {
  const definition = providerDefinition(provider);
  if (!definition?.webhook) {
    const known = PROVIDER_DEFINITIONS.filter((d) => d.webhook).map((d) => d.name);
    throw new MailerConfigurationError(`No webhooks for provider ${JSON.stringify(provider)}; known: ${known.join(', ')}.`);
  }
  return prepareWebhookReceiver(definition, options, `webhook receiver (${provider})`);
}
