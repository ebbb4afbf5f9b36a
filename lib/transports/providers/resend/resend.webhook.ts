import { createHmac, timingSafeEqual } from 'node:crypto';
import {
  buildClassification, decideReason, enhancedStatusOf, replyCodeOf, SES_BOUNCE_SUBTYPE_REASONS, SES_SUPPRESSION_SUBTYPES,
} from '../../../bounces/index.js';
import type { BounceReason, Classification, DeliveryKind } from '../../../core/classification.types.js';
import {
  type DeliveryEvent,
  type DeliveryEventType,
  type WebhookHeaders,
  type WebhookVerification,
} from '../../../core/delivery-event.types.js';
import { WebhookPayloadError } from '../../../errors/mailer.error.js';
import { readWebhookJson, str, obj } from '../../http/webhook-body.js';
import { MailerConfigurationError } from '../../../errors/mailer.error.js';

/** Seconds a signed timestamp may differ from the clock before a request is refused as stale. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

export interface ResendWebhookOptions {
  /** The webhook's signing secret as Resend shows it (`whsec_…`). */
  secret: string;
  /** Seconds the signed timestamp may be away from now. Default 300. */
  toleranceSeconds?: number;
}

/**
 * The HMAC key of a Svix signing secret: the base64 after `whsec_`. An empty or non-base64 secret is
 * a configuration error, raised when the endpoint is set up.
 */
export function resendSigningKey(secret: string): Buffer {
  const encoded = secret.trim().replace(/^whsec_/, '');
  if (encoded.length === 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) {
    throw new MailerConfigurationError('The Resend webhook secret must be the signing secret Resend shows (whsec_ followed by base64).');
  }
  return Buffer.from(encoded, 'base64');
}

export interface ResendSignatureInput {
  /** `whsec_…` secret, or the decoded key. */
  secret: string | Buffer;
  /** svix-id (or webhook-id). */
  id: string | undefined;
  /** svix-timestamp (or webhook-timestamp): seconds since the epoch. */
  timestamp: string | undefined;
  /** svix-signature (or webhook-signature): space-separated `v1,<base64>` entries. */
  signature: string | undefined;
  /** The raw request body, byte for byte. */
  payload: Buffer | string;
  toleranceSeconds?: number;
  /** The current time in milliseconds; defaults to Date.now(). */
  now?: number;
}

/**
 * Svix scheme: HMAC-SHA256 of `${id}.${timestamp}.${body}` with the decoded secret, base64; the
 * header may list several `v1,` signatures (during secret rotation) and one match is enough. Each
 * is compared in constant time; the timestamp must be within the tolerance either way.
 */
export function verifyResendSignature(input: ResendSignatureInput): WebhookVerification {
  const { id, timestamp, signature } = input;
  if (!id || !timestamp || !signature) {
    return { ok: false, reason: 'missing', message: 'The svix-id, svix-timestamp or svix-signature header is missing.' };
  }
  if (!/^\d{1,12}$/.test(timestamp.trim())) {
    return { ok: false, reason: 'malformed', message: 'The svix-timestamp header is not a number of seconds.' };
  }
  const tolerance = input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const now = input.now ?? Date.now();
  if (Math.abs(now / 1000 - Number(timestamp)) > tolerance) {
    return { ok: false, reason: 'stale', message: `The svix-timestamp is more than ${tolerance} s away from now.` };
  }
  const key = typeof input.secret === 'string' ? resendSigningKey(input.secret) : input.secret;
  const payload = typeof input.payload === 'string' ? Buffer.from(input.payload) : input.payload;
  // Compared as text: the exact padded base64 of the 32-byte digest (44 characters) matches, and no
  // other spelling of the same bytes (trailing characters, missing padding) does.
  const expected = Buffer.from(
    createHmac('sha256', key)
      .update(`${id}.${timestamp.trim()}.`)
      .update(payload)
      .digest('base64'),
  );
  let sawV1 = false;
  let matched = false;
  for (const entry of signature.split(' ')) {
    const comma = entry.indexOf(',');
    if (comma < 0 || entry.slice(0, comma) !== 'v1') continue;
    sawV1 = true;
    const given = Buffer.from(entry.slice(comma + 1));
    // Every entry is compared, so the time taken does not tell which one matched.
    if (given.length === expected.length && timingSafeEqual(given, expected)) matched = true;
  }
  if (!sawV1) return { ok: false, reason: 'malformed', message: 'The svix-signature header has no v1 signature.' };
  return matched ? { ok: true } : { ok: false, reason: 'mismatch', message: 'The Resend (Svix) signature does not verify.' };
}

function header(headers: WebhookHeaders, ...names: string[]): string | undefined {
  for (const name of names) {
    const v = headers[name];
    const one = Array.isArray(v) ? v[0] : v;
    if (one !== undefined) return one;
  }
  return undefined;
}

/** Verifies a Resend webhook request from its headers (svix-* or the standard webhook-* names) and raw body. */
export function verifyResendWebhook(
  headers: WebhookHeaders,
  rawBody: Buffer | string,
  options: ResendWebhookOptions | { secret: Buffer; toleranceSeconds?: number },
  now?: number,
): WebhookVerification {
  return verifyResendSignature({
    secret: options.secret,
    id: header(headers, 'svix-id', 'webhook-id'),
    timestamp: header(headers, 'svix-timestamp', 'webhook-timestamp'),
    signature: header(headers, 'svix-signature', 'webhook-signature'),
    payload: rawBody,
    toleranceSeconds: options.toleranceSeconds,
    now,
  });
}

const EVENT_TYPES: Record<string, DeliveryEventType> = {
  'email.sent': 'sent',
  'email.delivered': 'delivered',
  'email.delivery_delayed': 'deferred',
  'email.bounced': 'bounced',
  'email.complained': 'complained',
  'email.failed': 'failed',
  'email.suppressed': 'rejected',
  'email.opened': 'opened',
  'email.clicked': 'clicked',
};


/** The value a plain tag carries, since Resend tags are name/value pairs (see RESEND_TAG_VALUE). */
const TAG_VALUE = 'true';

function fromText(kind: DeliveryKind, recipient: string, text: string | undefined, fallback: BounceReason): Classification {
  const diagnostic = text?.trim() || undefined;
  const replyCode = diagnostic ? replyCodeOf(diagnostic) : undefined;
  const status = diagnostic ? enhancedStatusOf(diagnostic) : undefined;
  let reason = decideReason({ status, replyCode, text: diagnostic, command: 'RCPT' });
  if (reason === 'undefined' || reason === 'delivered') reason = fallback;
  return buildClassification(reason, replyCode, status, diagnostic, recipient, kind);
}

function suppressed(recipient: string, text: string | undefined): Classification {
  const c = buildClassification('suppressed', undefined, undefined, text?.trim(), recipient, 'rejected');
  c.action = 'suppress';
  return c;
}

function classificationOf(name: string, data: Record<string, unknown>, recipient: string): { type?: DeliveryEventType; classification?: Classification } {
  switch (name) {
    case 'email.delivered':
      return { classification: buildClassification('delivered', undefined, undefined, undefined, recipient, 'delivered') };
    case 'email.delivery_delayed':
      return { classification: buildClassification('undefined', undefined, undefined, undefined, recipient, 'deferred') };
    case 'email.bounced': {
      const bounce = obj(data.bounce);
      const subType = str(bounce.subType) ?? '';
      const message = str(bounce.message);
      if (SES_SUPPRESSION_SUBTYPES.has(subType)) return { type: 'rejected', classification: suppressed(recipient, message) };
      const bySubtype = SES_BOUNCE_SUBTYPE_REASONS[subType];
      if (bySubtype) return { classification: buildClassification(bySubtype, undefined, undefined, message?.trim(), recipient, 'bounced') };
      const fallback: BounceReason = str(bounce.type) === 'Undetermined' ? 'undefined' : 'onhold';
      return { classification: fromText('bounced', recipient, message, fallback) };
    }
    case 'email.suppressed':
      return { classification: suppressed(recipient, str(obj(data.suppressed).message)) };
    case 'email.complained':
      return { classification: buildClassification('feedback', undefined, undefined, undefined, recipient, 'complained') };
    case 'email.failed': {
      const reason = str(obj(data.failed).reason);
      const text = reason?.replace(/_/g, ' ');
      const c = /quota|rate limit/i.test(text ?? '')
        ? buildClassification('ratelimited', undefined, undefined, reason, recipient, 'failed')
        : fromText('failed', recipient, text, 'systemerror');
      c.bounce = 'none';
      if (reason !== undefined) c.diagnostic = reason;
      return { classification: c };
    }
    default:
      return {};
  }
}


function splitTags(tags: unknown): { tags: string[]; metadata: Record<string, string> } {
  const out = { tags: [] as string[], metadata: {} as Record<string, string> };
  const pairs: Array<[string, unknown]> = Array.isArray(tags)
    ? tags.map((t) => [str(obj(t).name) ?? '', obj(t).value] as [string, unknown])
    : Object.entries(obj(tags));
  for (const [name, value] of pairs) {
    if (!name) continue;
    if (value === TAG_VALUE) out.tags.push(name);
    else if (typeof value === 'string') out.metadata[name] = value;
  }
  return out;
}

/**
 * Resend webhook body (raw or already parsed) → one DeliveryEvent per recipient in `data.to`.
 * Events that are not about an e-mail (contact.*, domain.*) give none. Resend's name/value tags
 * split back into `tags` (value "true") and `metadata`. Throws WebhookPayloadError for a body of
 * another shape.
 */
export function parseResendWebhook(body: unknown): DeliveryEvent[] {
  const json = readWebhookJson(body, 'Resend');
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new WebhookPayloadError('The Resend webhook body is not a JSON object.');
  }
  const o = json as Record<string, unknown>;
  const name = str(o.type);
  if (!name) throw new WebhookPayloadError('The Resend webhook body has no "type".');
  if (!name.startsWith('email.')) return [];
  const data = obj(o.data);
  const to = Array.isArray(data.to) ? data.to.filter((t): t is string => typeof t === 'string') : typeof data.to === 'string' ? [data.to] : [];
  if (to.length === 0) throw new WebhookPayloadError(`The Resend ${name} event has no recipients in data.to.`);
  const when = new Date(str(o.created_at) ?? str(data.created_at) ?? Date.now());
  const { tags, metadata } = splitTags(data.tags);
  return to.map((recipient) => {
    const { type, classification } = classificationOf(name, data, recipient);
    const event: DeliveryEvent = {
      provider: 'resend',
      type: type ?? EVENT_TYPES[name] ?? 'unknown',
      providerEvent: name,
      recipient,
      timestamp: Number.isNaN(when.getTime()) ? new Date() : when,
      raw: json,
    };
    const header = str(data.message_id)?.trim();
    if (header) event.messageId = header.startsWith('<') ? header : `<${header}>`;
    const emailId = str(data.email_id);
    if (emailId) event.providerMessageId = emailId;
    if (classification) event.classification = classification;
    if (tags.length) event.tags = [...tags];
    if (Object.keys(metadata).length) event.metadata = { ...metadata };
    return event;
  });
}
