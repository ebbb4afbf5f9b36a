import type { DeliveryEvent, DeliveryEventProvider, WebhookHeaders, WebhookVerification } from '../../core/delivery-event.types.js';
import type { Transport } from '../../core/transport.types.js';
import type { OptionHints, OptionShape } from '../../errors/option.checker.js';
import type { HttpTransportOptions } from '../http/http.types.js';

/** What the URL parser has read from `<provider>+api://KEY[:SECRET]@HOST?…` before the provider reads the rest. */
export interface ProviderUrlParts {
  /** The URL-decoded part before `:` or `@`; empty when absent. */
  user: string;
  /** The URL-decoded part between `:` and `@`; empty when absent. */
  pass: string;
  /** Returns a query option and marks it as read; options left unread are refused afterwards. */
  take(key: string): string | undefined;
  /** The options every HTTP transport reads (name, baseUrl, timeout, batchConcurrency). */
  http: HttpTransportOptions;
  /** Prefix for error messages: `transport "default" (postmark+api://default)`. */
  where: string;
}

/** A webhook request: headers with lower-case names and the body exactly as received. */
export interface ProviderWebhookRequest {
  headers: WebhookHeaders;
  rawBody: Buffer;
}

/** What a subscription handshake (an SNS SubscriptionConfirmation) came to. */
export type WebhookSubscriptionOutcome =
  | { confirmed: true }
  | { confirmed: false; reason: string; subscribeUrl?: string };

export interface WebhookHandshake {
  outcome: WebhookSubscriptionOutcome;
  /** What was subscribed to (the topic), for the log line. */
  subject: string;
}

/**
 * What names a verified delivery for duplicate detection. Every key is made of what the provider
 * means to be unique (an event id, a message id, a signed request id) and is covered by the
 * verification, so a sender cannot make a repeat look new by changing bytes that do not count
 * (a signature's encoding, a header's spelling), and the provider's own retry, signed afresh, has
 * the same keys.
 */
export interface WebhookDeliveryKeys {
  /**
   * Keys of the request as a whole (its delivery id first): when any one of them was accepted
   * before, the request is a repeat and nothing of it is processed again.
   */
  request: string[];
  /**
   * One key per event, in the order `parse()` returns them, for a provider whose requests carry
   * batches it may deliver again packed differently (SendGrid); an event whose key was accepted
   * before is left out. Empty when the request keys cover every event.
   */
  events: string[];
}

/** One provider's webhook endpoint, ready to take requests; built once, at start-up. */
export interface PreparedProviderWebhook {
  /** Signature or credentials first; nothing else is looked at before this holds. */
  verify(request: ProviderWebhookRequest, now: number): WebhookVerification | Promise<WebhookVerification>;
  /** The keys of a verified request whose body parsed into `events`. */
  deliveryKeys(request: ProviderWebhookRequest, events: readonly DeliveryEvent[]): WebhookDeliveryKeys;
  /**
   * How long an accepted delivery's keys must be kept for its repeats to be recognised: as long as
   * a copy of the request still verifies (twice the timestamp tolerance, since a time ahead of the
   * clock is accepted too, plus a minute), or an hour where nothing is signed with a time.
   */
  rememberMs: number;
  /**
   * A handshake the request asks for after it verified (SNS subscription confirmation), or
   * undefined when it is an ordinary delivery.
   */
  handshake?(request: ProviderWebhookRequest): Promise<WebhookHandshake | undefined>;
  parse(rawBody: Buffer): DeliveryEvent[];
}

export interface ProviderWebhookDefinition<W> {
  /** The keys of the webhook options and their types. */
  shape: OptionShape<W>;
  /** Reads keys and secrets; a bad one is a MailerConfigurationError, raised at start-up. */
  prepare(options: W, where: string): PreparedProviderWebhook;
}

/**
 * Everything the package knows about one HTTP provider. URL parsing, options checking and the
 * webhook endpoint walk the list of these (`PROVIDER_DEFINITIONS`) instead of naming providers, so
 * a new provider is its own folder plus one line in that list.
 */
export interface ProviderDefinition<O extends HttpTransportOptions = HttpTransportOptions, W = unknown> {
  /** `type` of the options object, `name` in events and the webhook path segment. */
  name: DeliveryEventProvider;
  /** The provider's name as people write it, for messages (`SendGrid`). */
  title: string;
  /** URL scheme without `://` (`sendgrid+api`). */
  scheme: string;
  /** Query options the provider reads from its URL besides timeout, batchConcurrency and tls. */
  urlOptions: readonly string[];
  /** Turns the URL parts into transport options; a missing key or a bad value is refused here. */
  fromUrl(parts: ProviderUrlParts): O;
  /** The keys of the options object (besides `type`) and their types. */
  shape: OptionShape<O>;
  /** Names people bring from elsewhere, refused with what to write instead. */
  hints?: OptionHints;
  /** Checks what the shape cannot (a key that must be there, a region that must exist). */
  check(options: O, where: string): void;
  create(options: O): Transport;
  webhook?: ProviderWebhookDefinition<W>;
}

/** Options every HTTP transport takes, with their types. */
export const HTTP_OPTION_SHAPE = {
  name: 'string',
  baseUrl: 'string',
  timeout: 'number',
  batchConcurrency: 'number',
} as const satisfies OptionShape<HttpTransportOptions>;

/** `rememberMs` of a provider that signs a time and accepts it within `toleranceSeconds` either way. */
export function signedTimeRememberMs(toleranceSeconds: number | undefined, defaultToleranceSeconds: number): number {
  return (2 * (toleranceSeconds ?? defaultToleranceSeconds) + 60) * 1000;
}

/**
 * Gives the definition its own option and webhook types while it is written, and the list's
 * common type once it is in the list.
 */
export function defineProvider<O extends HttpTransportOptions, W>(definition: ProviderDefinition<O, W>): ProviderDefinition<O, W> {
  return definition;
}
