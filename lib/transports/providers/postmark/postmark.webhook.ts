import { createHash, timingSafeEqual } from 'node:crypto';
import { buildClassification, decideReason, enhancedStatusOf, replyCodeOf } from '../../../bounces/index.js';
import type { BounceReason, Classification, DeliveryKind } from '../../../core/classification.types.js';
import {
  type DeliveryEvent,
  type DeliveryEventType,
  type WebhookHeaders,
  type WebhookVerification,
} from '../../../core/delivery-event.types.js';
import { WebhookPayloadError } from '../../../errors/mailer.error.js';
import { obj, readWebhookJson, str } from '../../http/webhook-body.js';
import { MailerConfigurationError } from '../../../errors/mailer.error.js';

/**
 * Postmark does not sign webhooks. The webhook URL is given credentials
 * (`https://user:pass@example.com/webhooks/mail/postmark`) and Postmark sends them as HTTP basic
 * auth; the endpoint accepts only requests that carry exactly these.
 */
export interface PostmarkWebhookOptions {
  username: string;
  password: string;
}

/** Checks the credentials are usable; an empty user name or password is a configuration error. */
export function assertPostmarkCredentials(options: PostmarkWebhookOptions): void {
  if (!options.username || !options.password) {
    throw new MailerConfigurationError('The Postmark webhook needs a username and a password (Postmark sends them as basic auth).');
  }
  if (options.username.includes(':')) {
    throw new MailerConfigurationError('The Postmark webhook username cannot contain ":" (basic auth separates user and password with it).');
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

export interface PostmarkAuthInput extends PostmarkWebhookOptions {
  /** The Authorization request header. */
  authorization: string | undefined;
}

/**
 * HTTP basic auth against the configured credentials. Both sides are hashed to equal length and
 * compared in constant time, so neither the password nor its length leaks through timing.
 */
export function verifyPostmarkAuth(input: PostmarkAuthInput): WebhookVerification {
  const header = input.authorization?.trim();
  if (!header) return { ok: false, reason: 'missing', message: 'The Postmark webhook request has no Authorization header.' };
  const match = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(header);
  if (!match) return { ok: false, reason: 'malformed', message: 'The Authorization header is not HTTP basic auth.' };
  const given = Buffer.from(match[1]!, 'base64').toString('utf8');
  const expected = `${input.username}:${input.password}`;
  return timingSafeEqual(digest(given), digest(expected))
    ? { ok: true }
    : { ok: false, reason: 'mismatch', message: 'The Postmark webhook credentials do not match.' };
}

/** Verifies a Postmark webhook request from its headers. */
export function verifyPostmarkWebhook(headers: WebhookHeaders, options: PostmarkWebhookOptions): WebhookVerification {
  const v = headers.authorization;
  return verifyPostmarkAuth({ ...options, authorization: Array.isArray(v) ? v[0] : v });
}

type BounceVerdict = readonly [type: DeliveryEventType, kind: DeliveryKind | undefined, reason: BounceReason | undefined, decisive: boolean];

/**
 * Postmark bounce `Type` → event type, classification kind and reason. A decisive reason stands on
 * its own; otherwise the reply in `Details` decides and the reason here is the fallback.
 */
const BOUNCE_TYPES: Record<string, BounceVerdict> = {
  HardBounce: ['bounced', 'bounced', 'userunknown', false],
  SoftBounce: ['bounced', 'bounced', 'onhold', false],
  Transient: ['deferred', 'deferred', 'undefined', false],
  Unknown: ['bounced', 'bounced', 'undefined', false],
  DnsError: ['bounced', 'bounced', 'networkerror', true],
  AddressChange: ['bounced', 'bounced', 'hasmoved', true],
  SpamNotification: ['bounced', 'bounced', 'spamdetected', true],
  VirusNotification: ['bounced', 'bounced', 'virusdetected', true],
  Blocked: ['bounced', 'bounced', 'blocked', true],
  DMARCPolicy: ['bounced', 'bounced', 'authfailure', true],
  BadEmailAddress: ['bounced', 'bounced', 'userunknown', true],
  ManuallyDeactivated: ['rejected', 'rejected', 'suppressed', true],
  SpamComplaint: ['complained', 'complained', 'feedback', true],
  SMTPApiError: ['failed', 'failed', 'systemerror', false],
  TemplateRenderingFailed: ['failed', 'failed', 'contenterror', true],
  AutoResponder: ['unknown', 'delivered', 'vacation', true],
  Unsubscribe: ['unsubscribed', undefined, undefined, true],
  Subscribe: ['subscribed', undefined, undefined, true],
  ChallengeVerification: ['unknown', undefined, undefined, true],
  OpenRelayTest: ['unknown', undefined, undefined, true],
  Unconfirmed: ['unknown', undefined, undefined, true],
  InboundError: ['unknown', undefined, undefined, true],
};

/** TypeCode → Type, for payloads that carry only the number. */
const TYPE_CODES: Record<number, string> = {
  1: 'HardBounce', 2: 'Transient', 16: 'Unsubscribe', 32: 'Subscribe', 64: 'AutoResponder', 128: 'AddressChange',
  256: 'DnsError', 512: 'SpamNotification', 1024: 'OpenRelayTest', 2048: 'Unknown', 4096: 'SoftBounce',
  8192: 'VirusNotification', 16384: 'ChallengeVerification', 100000: 'BadEmailAddress', 100001: 'SpamComplaint',
  100002: 'ManuallyDeactivated', 100003: 'Unconfirmed', 100006: 'Blocked', 100007: 'SMTPApiError',
  100008: 'InboundError', 100009: 'DMARCPolicy', 100010: 'TemplateRenderingFailed',
};

/** `smtp;550 5.1.1 …` → `550 5.1.1 …`. */
function replyText(details: string | undefined): string | undefined {
  const t = details?.replace(/^\s*smtp\s*;\s*/i, '').trim();
  return t || undefined;
}

function classifyBounce(verdict: BounceVerdict, recipient: string, details: string | undefined): Classification | undefined {
  const [, kind, reason, decisive] = verdict;
  if (kind === undefined || reason === undefined) return undefined;
  const text = replyText(details);
  const replyCode = text ? replyCodeOf(text) : undefined;
  const status = text ? enhancedStatusOf(text) : undefined;
  let decided = reason;
  if (!decisive) {
    const fromText = decideReason({ status, replyCode, text, command: 'RCPT' });
    if (fromText !== 'undefined' && fromText !== 'onhold' && fromText !== 'delivered') decided = fromText;
    else if (fromText === 'onhold' && reason === 'undefined') decided = 'onhold';
  }
  const smtp = /^\s*smtp\s*;/i.test(details ?? '');
  const c = buildClassification(decided, smtp ? replyCode : undefined, smtp ? status : undefined, text, recipient, kind);
  if (kind === 'rejected' && decided === 'suppressed') c.action = 'suppress';
  if (kind === 'failed') c.bounce = 'none';
  return c;
}


/**
 * A bounce's `ID` as text when it is exact: a string, or a number JSON can hold without rounding.
 * A larger number has lost its last digits in JSON.parse and could equal another bounce's.
 */
function postmarkId(value: unknown): string | undefined {
  if (typeof value === 'string' && value) return value;
  return typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : undefined;
}

/**
 * How long a Postmark delivery's key is kept. Postmark signs no time, so a copy never goes stale;
 * an hour covers the retries Postmark makes in the first minutes (1, 5, then every 10) after an
 * answer that did not reach it.
 */
export const POSTMARK_REMEMBER_MS = 3_600_000;

/** The field that dates each record type. */
const TIME_FIELDS: Readonly<Record<string, string>> = {
  Delivery: 'DeliveredAt',
  Bounce: 'BouncedAt',
  SpamComplaint: 'BouncedAt',
  Open: 'ReceivedAt',
  Click: 'ReceivedAt',
  SubscriptionChange: 'ChangedAt',
};

/**
 * The duplicate key of a Postmark request, which carries one record and no delivery id: a bounce
 * or complaint by its record type and bounce `ID`; any other record by its type, `MessageID`,
 * recipient and the time Postmark gives it (plus the link of a click and the new state of a
 * subscription change), hashed. Undefined when those fields are missing: the request is then
 * processed every time it comes.
 */
export function postmarkDeliveryKey(body: unknown): string | undefined {
  let o: Record<string, unknown>;
  try {
    o = obj(readWebhookJson(body, 'Postmark'));
  } catch {
    return undefined;
  }
  const recordType = str(o.RecordType);
  if (!recordType) return undefined;
  const id = postmarkId(o.ID);
  if (id) return `${recordType}:${id}`;
  const parts = [recordType, str(o.MessageID), str(o.Email) ?? str(o.Recipient), str(o[TIME_FIELDS[recordType] ?? ''])];
  if (parts.some((p) => !p)) return undefined;
  if (recordType === 'Bounce' || recordType === 'SpamComplaint') parts.push(str(o.Type) ?? str(o.TypeCode) ?? '');
  if (recordType === 'Click') parts.push(str(o.OriginalLink) ?? '');
  if (recordType === 'SubscriptionChange') parts.push(String(o.SuppressSending));
  return `${recordType}:sha256:${createHash('sha256').update(JSON.stringify(parts)).digest('hex')}`;
}

function dateOf(value: string | undefined): Date {
  const d = value ? new Date(value) : new Date(Number.NaN);
  // A missing or unreadable time reads as the time of receipt.
  return Number.isNaN(d.getTime()) ? new Date() : d;
}

/**
 * Postmark webhook body (one JSON object per request, raw or already parsed) → one DeliveryEvent.
 * RecordType Delivery, Bounce (by bounce `Type`), SpamComplaint, Open, Click and SubscriptionChange
 * are read; `Tag` becomes `tags` and `Metadata` `metadata`. Throws WebhookPayloadError for a body
 * of another shape.
 */
export function parsePostmarkWebhook(body: unknown): DeliveryEvent[] {
  const json = readWebhookJson(body, 'Postmark');
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new WebhookPayloadError('The Postmark webhook body is not a JSON object.');
  }
  const o = json as Record<string, unknown>;
  const recordType = str(o.RecordType);
  const recipient = str(o.Email) ?? str(o.Recipient);
  if (!recordType || !recipient) throw new WebhookPayloadError('The Postmark webhook body has no "RecordType" or recipient.');

  let type: DeliveryEventType = 'unknown';
  let providerEvent = recordType;
  let classification: Classification | undefined;
  let when: string | undefined;
  switch (recordType) {
    case 'Delivery': {
      type = 'delivered';
      const text = replyText(str(o.Details));
      classification = buildClassification('delivered', text ? replyCodeOf(text) : undefined, text ? enhancedStatusOf(text) : undefined, text, recipient, 'delivered');
      when = str(o.DeliveredAt);
      break;
    }
    case 'Bounce':
    case 'SpamComplaint': {
      const name = str(o.Type) ?? (typeof o.TypeCode === 'number' ? TYPE_CODES[o.TypeCode] : undefined) ?? 'Unknown';
      const verdict: BounceVerdict = recordType === 'SpamComplaint' ? BOUNCE_TYPES.SpamComplaint! : BOUNCE_TYPES[name] ?? BOUNCE_TYPES.Unknown!;
      type = verdict[0];
      providerEvent = `${recordType}:${name}`;
      classification = classifyBounce(verdict, recipient, str(o.Details));
      when = str(o.BouncedAt);
      break;
    }
    case 'Open':
      type = 'opened';
      when = str(o.ReceivedAt);
      break;
    case 'Click':
      type = 'clicked';
      when = str(o.ReceivedAt);
      break;
    case 'SubscriptionChange':
      type = o.SuppressSending === false ? 'subscribed' : 'unsubscribed';
      when = str(o.ChangedAt);
      break;
    default:
      break;
  }

  const event: DeliveryEvent = { provider: 'postmark', type, providerEvent, recipient, timestamp: dateOf(when), raw: json };
  const messageId = str(o.MessageID);
  if (messageId) event.providerMessageId = messageId;
  const id = postmarkId(o.ID);
  if (id) event.eventId = id;
  if (classification) event.classification = classification;
  const tag = str(o.Tag);
  if (tag) event.tags = [tag];
  if (typeof o.Metadata === 'object' && o.Metadata !== null) {
    const metadata: Record<string, string> = {};
    for (const [k, v] of Object.entries(o.Metadata as Record<string, unknown>)) {
      if (typeof v === 'string') metadata[k] = v;
      else if (v !== null && v !== undefined) metadata[k] = String(v);
    }
    if (Object.keys(metadata).length) event.metadata = metadata;
  }
  return [event];
}
