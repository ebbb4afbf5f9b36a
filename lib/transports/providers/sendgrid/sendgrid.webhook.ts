import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { buildClassification, decideReason, enhancedStatusOf, replyCodeOf } from '../../../bounces/index.js';
import type { BounceReason, Classification, DeliveryKind } from '../../../core/classification.types.js';
import {
  type DeliveryEvent,
  type DeliveryEventType,
  type WebhookHeaders,
  type WebhookVerification,
} from '../../../core/delivery-event.types.js';
import { WebhookPayloadError } from '../../../errors/mailer.error.js';
import { canonicalBase64, readWebhookJson, str } from '../../http/webhook-body.js';
import { MailerConfigurationError } from '../../../errors/mailer.error.js';

export const SENDGRID_SIGNATURE_HEADER = 'x-twilio-email-event-webhook-signature';
export const SENDGRID_TIMESTAMP_HEADER = 'x-twilio-email-event-webhook-timestamp';

/** Seconds a signed timestamp may differ from the clock before a request is refused as stale. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

export interface SendGridWebhookOptions {
  /**
   * The "Verification Key" SendGrid shows when Signed Event Webhook is enabled: base64 of the DER
   * public key (ECDSA P-256), a PEM public key, or a KeyObject.
   */
  publicKey: string | KeyObject;
  /** Seconds the signed timestamp may be away from now. Default 300. */
  toleranceSeconds?: number;
}

/**
 * Reads SendGrid's verification key. A key that is not an EC public key is a configuration error,
 * raised when the endpoint is set up rather than on the first request.
 */
export function sendGridPublicKey(key: string | KeyObject): KeyObject {
  let out: KeyObject;
  try {
    if (typeof key !== 'string') out = key;
    else if (key.includes('-----BEGIN')) out = createPublicKey(key);
    else out = createPublicKey({ key: Buffer.from(key.replace(/\s+/g, ''), 'base64'), format: 'der', type: 'spki' });
  } catch (cause) {
    throw new MailerConfigurationError('The SendGrid webhook public key is not a readable public key (expected the base64 verification key or a PEM).', { cause });
  }
  if (out.type !== 'public' || out.asymmetricKeyType !== 'ec' || out.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new MailerConfigurationError('The SendGrid webhook public key must be an ECDSA P-256 public key.');
  }
  return out;
}

export interface SendGridSignatureInput {
  publicKey: string | KeyObject;
  /** The raw request body, byte for byte. */
  payload: Buffer | string;
  /** X-Twilio-Email-Event-Webhook-Signature: base64 of the DER ECDSA signature, in its canonical encoding. */
  signature: string | undefined;
  /** X-Twilio-Email-Event-Webhook-Timestamp: seconds since the epoch. */
  timestamp: string | undefined;
  toleranceSeconds?: number;
  /** The current time in milliseconds; defaults to Date.now(). */
  now?: number;
}

/** ECDSA P-256 / SHA-256 over `timestamp + body`, and the timestamp within the tolerance. */
export function verifySendGridSignature(input: SendGridSignatureInput): WebhookVerification {
  const { signature, timestamp } = input;
  if (!signature || !timestamp) {
    return { ok: false, reason: 'missing', message: 'The SendGrid signature or timestamp header is missing.' };
  }
  if (!/^\d{1,12}$/.test(timestamp.trim())) {
    return { ok: false, reason: 'malformed', message: 'The SendGrid timestamp header is not a number of seconds.' };
  }
  const tolerance = input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const now = input.now ?? Date.now();
  if (Math.abs(now / 1000 - Number(timestamp)) > tolerance) {
    return { ok: false, reason: 'stale', message: `The SendGrid timestamp is more than ${tolerance} s away from now.` };
  }
  const key = sendGridPublicKey(input.publicKey);
  const sig = canonicalBase64(signature);
  if (sig === undefined || !isStrictDerSignature(sig)) {
    return { ok: false, reason: 'malformed', message: 'The SendGrid signature is not a base64 DER ECDSA signature in its canonical encoding.' };
  }
  const payload = typeof input.payload === 'string' ? Buffer.from(input.payload) : input.payload;
  const signed = Buffer.concat([Buffer.from(timestamp), payload]);
  let valid = false;
  try {
    valid = verify('sha256', signed, { key, dsaEncoding: 'der' }, sig);
  } catch {
    valid = false;
  }
  return valid ? { ok: true } : { ok: false, reason: 'mismatch', message: 'The SendGrid signature does not verify.' };
}

/** The order n of the P-256 group: r and s of a signature lie in [1, n − 1]. */
const P256_ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

/**
 * Is `der` an ECDSA-Sig-Value (SEQUENCE { r INTEGER, s INTEGER }) in DER's one spelling: short-form
 * lengths (a P-256 signature is at most 72 bytes), each integer positive, minimal and below n, and
 * nothing after the sequence? A signature has then one byte form, the one SendGrid sends.
 *
 * `s` and `n − s` both verify, and SendGrid's signer emits either (real deliveries carry high-s
 * values), so refusing one of them would refuse genuine requests; that twin is harmless because
 * duplicates are recognised by the events' ids, never by the signature.
 */
export function isStrictDerSignature(der: Buffer): boolean {
  if (der.length < 8 || der[0] !== 0x30 || der[1]! >= 0x80 || der[1] !== der.length - 2) return false;
  let at = 2;
  for (let i = 0; i < 2; i++) {
    const length = der[at + 1];
    if (der[at] !== 0x02 || length === undefined || length === 0 || length > 33 || at + 2 + length > der.length) return false;
    const int = der.subarray(at + 2, at + 2 + length);
    if (int[0]! & 0x80) return false; // negative
    if (int[0] === 0 && (length === 1 || !(int[1]! & 0x80))) return false; // a leading zero that is not needed
    const value = BigInt(`0x${int.toString('hex')}`);
    if (value === 0n || value >= P256_ORDER) return false;
    at += 2 + length;
  }
  return at === der.length;
}

function header(headers: WebhookHeaders, name: string): string | undefined {
  const v = headers[name] ?? headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** Verifies a SendGrid Event Webhook request from its headers and raw body. */
export function verifySendGridWebhook(
  headers: WebhookHeaders,
  rawBody: Buffer | string,
  options: SendGridWebhookOptions,
  now?: number,
): WebhookVerification {
  return verifySendGridSignature({
    publicKey: options.publicKey,
    payload: rawBody,
    signature: header(headers, SENDGRID_SIGNATURE_HEADER),
    timestamp: header(headers, SENDGRID_TIMESTAMP_HEADER),
    toleranceSeconds: options.toleranceSeconds,
    now,
  });
}

const EVENT_TYPES: Record<string, DeliveryEventType> = {
  processed: 'sent',
  delivered: 'delivered',
  deferred: 'deferred',
  bounce: 'bounced',
  blocked: 'bounced',
  dropped: 'rejected',
  spamreport: 'complained',
  open: 'opened',
  click: 'clicked',
  unsubscribe: 'unsubscribed',
  group_unsubscribe: 'unsubscribed',
  group_resubscribe: 'subscribed',
};

/** The fields SendGrid itself sets; every other top-level string is one of the mail's custom_args. */
const OWN_FIELDS = new Set([
  'email', 'timestamp', 'smtp-id', 'event', 'category', 'sg_event_id', 'sg_message_id', 'sg_template_id',
  'sg_template_name', 'sg_content_type', 'sg_machine_open', 'sg_user_id', 'reason', 'status', 'response', 'attempt',
  'type', 'bounce_classification', 'useragent', 'ip', 'url', 'url_offset', 'asm_group_id', 'tls', 'cert_err',
  'marketing_campaign_id', 'marketing_campaign_name', 'marketing_campaign_version', 'marketing_campaign_split_id',
  'post_type', 'pool', 'send_at', 'domain', 'from', 'unique_args', 'newsletter', 'singlesend_id', 'singlesend_name',
  'template_id', 'template_version_id', 'mc_stats', 'phase_id', 'ab_variation_id', 'ab_phase_id',
]);

/** SendGrid's bounce_classification, used when the reply text says nothing more precise. */
const BOUNCE_CLASSIFICATION: Record<string, BounceReason> = {
  'invalid address': 'userunknown',
  'mailbox unavailable': 'suspend',
  reputation: 'badreputation',
  content: 'contenterror',
  'frequency or volume too high': 'ratelimited',
  'technical failure': 'systemerror',
};

const SUPPRESSED_DROP = /bounced address|unsubscribed address|spam reporting address|suppress/i;

function classify(kind: DeliveryKind, recipient: string, text: string | undefined, status: string | undefined, fallback?: BounceReason): Classification {
  const diagnostic = text?.trim() || undefined;
  const replyCode = diagnostic !== undefined ? replyCodeOf(diagnostic) : undefined;
  const enhanced = (status ? enhancedStatusOf(status) : undefined) ?? (diagnostic ? enhancedStatusOf(diagnostic) : undefined);
  let reason = decideReason({ status: enhanced, replyCode, text: diagnostic, command: 'RCPT' });
  if (fallback !== undefined && (reason === 'undefined' || reason === 'onhold')) reason = fallback;
  if (kind !== 'delivered' && reason === 'delivered') reason = fallback ?? 'undefined';
  const out = buildClassification(reason, replyCode, enhanced, diagnostic, recipient, kind);
  if (kind === 'failed') out.bounce = 'none';
  return out;
}

function classificationOf(type: DeliveryEventType, e: Record<string, unknown>, recipient: string): Classification | undefined {
  const reasonText = str(e.reason);
  const status = str(e.status);
  switch (type) {
    case 'delivered':
      return buildClassification('delivered', replyCodeOf(str(e.response) ?? ''), undefined, str(e.response)?.trim(), recipient, 'delivered');
    case 'deferred':
      return classify('deferred', recipient, str(e.response) ?? reasonText, status);
    case 'bounced': {
      const byClass = BOUNCE_CLASSIFICATION[(str(e.bounce_classification) ?? '').toLowerCase()];
      const blocked = e.type === 'blocked' || e.event === 'blocked';
      return classify('bounced', recipient, reasonText, status, byClass ?? (blocked ? 'blocked' : undefined));
    }
    case 'rejected': {
      if (reasonText !== undefined && SUPPRESSED_DROP.test(reasonText)) {
        const c = buildClassification('suppressed', undefined, undefined, reasonText, recipient, 'rejected');
        c.action = 'suppress';
        return c;
      }
      if (reasonText !== undefined && /^invalid\b/i.test(reasonText.trim()) && !/smtpapi/i.test(reasonText)) {
        return buildClassification('userunknown', undefined, undefined, reasonText, recipient, 'rejected');
      }
      if (reasonText !== undefined && /spam content/i.test(reasonText)) {
        return buildClassification('spamdetected', undefined, undefined, reasonText, recipient, 'rejected');
      }
      if (reasonText !== undefined && /quota/i.test(reasonText)) return classify('failed', recipient, reasonText, undefined, 'ratelimited');
      return classify('rejected', recipient, reasonText, undefined, 'rejected');
    }
    case 'complained':
      return buildClassification('feedback', undefined, undefined, undefined, recipient, 'complained');
    default:
      return undefined;
  }
}

function bracketed(id: string | undefined): string | undefined {
  const t = id?.trim();
  if (!t) return undefined;
  return t.startsWith('<') ? t : `<${t}>`;
}

/** sg_message_id is the X-Message-Id the send returned plus a `.filter…` suffix. */
function providerIdOf(sgMessageId: string | undefined): string | undefined {
  if (!sgMessageId) return undefined;
  const filter = sgMessageId.indexOf('.filter');
  if (filter > 0) return sgMessageId.slice(0, filter);
  const dot = sgMessageId.indexOf('.');
  return dot > 0 ? sgMessageId.slice(0, dot) : sgMessageId;
}


function toEvent(e: unknown, index: number): DeliveryEvent {
  if (typeof e !== 'object' || e === null || Array.isArray(e)) {
    throw new WebhookPayloadError(`SendGrid event ${index} is not an object.`);
  }
  const o = e as Record<string, unknown>;
  const name = str(o.event);
  const recipient = str(o.email);
  if (!name || !recipient) throw new WebhookPayloadError(`SendGrid event ${index} has no "event" or "email".`);
  const type = EVENT_TYPES[name] ?? 'unknown';
  const seconds = typeof o.timestamp === 'number' ? o.timestamp : Number(o.timestamp);
  const event: DeliveryEvent = {
    provider: 'sendgrid',
    type,
    providerEvent: name,
    recipient,
    // A missing time reads as the time of receipt.
    timestamp: Number.isFinite(seconds) && o.timestamp !== undefined ? new Date(seconds * 1000) : new Date(),
    raw: e,
  };
  const messageId = bracketed(str(o['smtp-id']));
  if (messageId) event.messageId = messageId;
  const providerMessageId = providerIdOf(str(o.sg_message_id));
  if (providerMessageId) event.providerMessageId = providerMessageId;
  const eventId = str(o.sg_event_id);
  if (eventId) event.eventId = eventId;
  const classification = classificationOf(type, o, recipient);
  if (classification) event.classification = classification;
  const category = o.category;
  const tags = typeof category === 'string' ? [category] : Array.isArray(category) ? category.filter((c): c is string => typeof c === 'string') : [];
  if (tags.length) event.tags = tags;
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(o)) {
    if (!OWN_FIELDS.has(k) && typeof v === 'string') metadata[k] = v;
  }
  if (Object.keys(metadata).length) event.metadata = metadata;
  return event;
}

/**
 * SendGrid Event Webhook body (a JSON array of events, raw or already parsed) → DeliveryEvents.
 * Custom args come back flattened among SendGrid's own fields and become `metadata`; categories
 * become `tags`. Throws WebhookPayloadError for a body of another shape.
 */
export function parseSendGridWebhook(body: unknown): DeliveryEvent[] {
  const json = readWebhookJson(body, 'SendGrid');
  const list = Array.isArray(json) ? json : typeof json === 'object' && json !== null ? [json] : undefined;
  if (!list) throw new WebhookPayloadError('The SendGrid webhook body is not an array of events.');
  return list.map(toEvent);
}

/**
 * The duplicate key of a SendGrid event: its `sg_event_id`, which SendGrid gives every event and
 * keeps when it delivers the event again, in the same batch or another. An event without one (not
 * something SendGrid sends) is keyed by a hash of its JSON, which the signature covers.
 */
export function sendGridEventKey(event: DeliveryEvent): string {
  return event.eventId ?? `sha256:${createHash('sha256').update(JSON.stringify(event.raw)).digest('hex')}`;
}
