import type { DeliveryEvent, DeliveryEventProvider, WebhookHeaders, WebhookVerification } from '../../core/delivery-event.types.js';
import { MailerConfigurationError } from '../../errors/mailer.error.js';
import { checkOptions } from '../../errors/option.checker.js';
import type { MailgunWebhookOptions } from './mailgun/mailgun.webhook.js';
import type { PostmarkWebhookOptions } from './postmark/postmark.webhook.js';
import type { ProviderDefinition, WebhookDeliveryKeys, WebhookHandshake } from './provider.definition.js';
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
   * The provider's id of a verified request's delivery (the first of `deliveryKeys(request).request`):
   * the same when the provider delivers it again, signed afresh, and not changed by anything a
   * sender could alter without breaking the signature. Undefined when the provider names no
   * request — SendGrid names its events instead; see `deliveryKeys`.
   */
  deliveryId(request: WebhookReceiverRequest): string | undefined;
  /**
   * Everything that names a verified request for duplicate detection: keys of the request (any one
   * accepted before makes it a repeat: answer 200 and process nothing) and, for SendGrid's batches,
   * one key per event of `parse()` (an event whose key was accepted before is left out). Keep the
   * keys of what was processed for `rememberMs`, per provider. Reads the body: a body that is not
   * the provider's payload throws `WebhookPayloadError`.
   */
  deliveryKeys(request: WebhookReceiverRequest): WebhookDeliveryKeys;
  /** How long the keys of an accepted delivery are worth keeping to recognise its repeats, in milliseconds. */
  readonly rememberMs: number;
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

/** A receiver as the webhook module uses it: the keys come from events it has already parsed. */
export interface PreparedWebhookReceiver extends WebhookReceiver {
  keysOf(request: WebhookReceiverRequest, events: readonly DeliveryEvent[]): WebhookDeliveryKeys;
}

/** Builds the receiver of a provider from its definition; `where` starts every error message. */
export function prepareWebhookReceiver(definition: ProviderDefinition, options: unknown, where: string): PreparedWebhookReceiver {
  const webhook = definition.webhook;
  if (!webhook) throw new MailerConfigurationError(`${where}: ${definition.title} has no webhooks here.`);
  checkOptions(options, webhook.shape, where);
  const prepared = webhook.prepare(options, where);
  const request = (r: WebhookReceiverRequest) => ({ headers: r.headers ?? {}, rawBody: asBuffer(r.rawBody) });
  return {
    provider: definition.name,
    verify: async (r, now = Date.now()) => prepared.verify(request(r), now),
    parse: (rawBody) => prepared.parse(asBuffer(rawBody)),
    deliveryId: (r) => {
      const req = request(r);
      let events: DeliveryEvent[];
      try {
        events = prepared.parse(req.rawBody);
      } catch {
        events = [];
      }
      return prepared.deliveryKeys(req, events).request[0];
    },
    deliveryKeys: (r) => {
      const req = request(r);
      return prepared.deliveryKeys(req, prepared.parse(req.rawBody));
    },
    keysOf: (r, events) => prepared.deliveryKeys(request(r), events),
    rememberMs: prepared.rememberMs,
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
