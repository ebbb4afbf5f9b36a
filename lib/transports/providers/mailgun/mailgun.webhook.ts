import { createHmac, timingSafeEqual } from 'node:crypto';
import { buildClassification, decideReason, enhancedStatusOf, replyCodeOf } from '../../../bounces/index.js';
import type { BounceReason, Classification, DeliveryKind } from '../../../core/classification.types.js';
import {
  type DeliveryEvent,
  type DeliveryEventType,
  type WebhookVerification,
} from '../../../core/delivery-event.types.js';
import { WebhookPayloadError } from '../../../errors/mailer.error.js';
import { readWebhookJson, str, obj } from '../../http/webhook-body.js';

/** Seconds a signed timestamp may differ from the clock before a request is refused as stale. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

export interface MailgunWebhookOptions {
  /** The HTTP webhook signing key (Mailgun → Sending → Webhooks), not the API key. */
  signingKey: string;
  /** Seconds the signed timestamp may be away from now. Default 300. */
  toleranceSeconds?: number;
}

export interface MailgunSignatureInput {
  signingKey: string;
  /** `signature.timestamp` of the body: seconds since the epoch. */
  timestamp: string | number | undefined;
  /** `signature.token`: 50 random characters, one per request. */
  token: string | undefined;
  /** `signature.signature`: lower-case hex HMAC-SHA256 of timestamp + token. */
  signature: string | undefined;
  toleranceSeconds?: number;
  /** The current time in milliseconds; defaults to Date.now(). */
  now?: number;
}

/** HMAC-SHA256(signingKey, timestamp + token), compared in constant time, and the timestamp within the tolerance. */
export function verifyMailgunSignature(input: MailgunSignatureInput): WebhookVerification {
  const timestamp = input.timestamp === undefined ? undefined : String(input.timestamp);
  const { token, signature } = input;
  if (!timestamp || !token || !signature) {
    return { ok: false, reason: 'missing', message: 'The Mailgun signature (timestamp, token, signature) is missing from the body.' };
  }
  // Lower-case hex, as Mailgun writes it: an upper-case spelling of the same bytes is refused, so a
  // signature has one form.
  if (!/^\d{1,12}$/.test(timestamp) || !/^[0-9a-f]{64}$/.test(signature)) {
    return { ok: false, reason: 'malformed', message: 'The Mailgun signature or timestamp is malformed.' };
  }
  const tolerance = input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const now = input.now ?? Date.now();
  if (Math.abs(now / 1000 - Number(timestamp)) > tolerance) {
    return { ok: false, reason: 'stale', message: `The Mailgun timestamp is more than ${tolerance} s away from now.` };
  }
  const expected = createHmac('sha256', input.signingKey).update(timestamp + token).digest();
  const given = Buffer.from(signature, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected)
    ? { ok: true }
    : { ok: false, reason: 'mismatch', message: 'The Mailgun signature does not verify.' };
}


/**
 * Verifies a Mailgun webhook request. The signature travels inside the JSON body, so the body is
 * read as JSON to find it; nothing else of it is looked at before the signature holds.
 */
export function verifyMailgunWebhook(rawBody: Buffer | string, options: MailgunWebhookOptions, now?: number): WebhookVerification {
  let json: unknown;
  try {
    json = JSON.parse(rawBody.toString());
  } catch {
    return { ok: false, reason: 'malformed', message: 'The Mailgun webhook body is not JSON, so it carries no signature.' };
  }
  const sig = typeof json === 'object' && json !== null ? (json as Record<string, unknown>).signature : undefined;
  const s = typeof sig === 'object' && sig !== null ? (sig as Record<string, unknown>) : {};
  return verifyMailgunSignature({
    signingKey: options.signingKey,
    timestamp: typeof s.timestamp === 'string' || typeof s.timestamp === 'number' ? s.timestamp : undefined,
    token: typeof s.token === 'string' ? s.token : undefined,
    signature: typeof s.signature === 'string' ? s.signature : undefined,
    toleranceSeconds: options.toleranceSeconds,
    now,
  });
}

/** Mailgun's `reason` of a failed event, used when the reply text says nothing more precise. */
const FAILURE_REASONS: Record<string, BounceReason> = {
  old: 'expired',
  espblock: 'blocked',
  greylisted: 'blocked',
};

/** Mailgun's own (non-SMTP) codes for a recipient on one of its suppression lists. */
const SUPPRESSION_CODES = new Set([605, 606, 607]);

function classifyFailure(kind: DeliveryKind, recipient: string, status: Record<string, unknown>, reason: string | undefined): Classification {
  const text = [str(status.message), str(status.description)].map((t) => t?.trim()).filter((t): t is string => !!t).join(' ') || undefined;
  const codeValue = typeof status.code === 'number' ? status.code : Number(str(status.code));
  // Codes outside 2xx-5xx are Mailgun's own (605 = previously bounced), not SMTP replies.
  const replyCode = Number.isInteger(codeValue) && codeValue >= 200 && codeValue < 600 ? codeValue : (text ? replyCodeOf(text) : undefined);
  const enhancedField = str(status['enhanced-code']);
  const enhanced = (enhancedField ? enhancedStatusOf(enhancedField) : undefined) ?? (text ? enhancedStatusOf(text) : undefined);
  let decided = decideReason({ status: enhanced, replyCode, text, command: 'RCPT' });
  const fallback = reason ? FAILURE_REASONS[reason] : undefined;
  if (fallback !== undefined && (decided === 'undefined' || decided === 'onhold')) decided = fallback;
  // "old": Mailgun stopped trying because the message's time ran out; the last connection failure it
  // met says why the tries failed, not why delivery ended.
  if (fallback === 'expired' && decided === 'networkerror') decided = fallback;
  if (decided === 'delivered') decided = fallback ?? 'undefined';
  return buildClassification(decided, replyCode, enhanced, text, recipient, kind);
}

function suppressedClassification(recipient: string, text: string | undefined): Classification {
  const c = buildClassification('suppressed', undefined, undefined, text, recipient, 'rejected');
  c.action = 'suppress';
  return c;
}

function typeAndClassification(data: Record<string, unknown>, recipient: string): [DeliveryEventType, Classification | undefined] {
  const name = str(data.event) ?? '';
  const status = obj(data['delivery-status']);
  switch (name) {
    case 'accepted':
      return ['sent', undefined];
    case 'delivered': {
      const text = str(status.message)?.trim() || undefined;
      const code = typeof status.code === 'number' ? status.code : undefined;
      return ['delivered', buildClassification('delivered', code, undefined, text, recipient, 'delivered')];
    }
    case 'failed': {
      const reason = str(data.reason);
      const code = typeof status.code === 'number' ? status.code : Number(str(status.code));
      if ((reason !== undefined && reason.startsWith('suppress-')) || SUPPRESSION_CODES.has(code)) {
        const text = str(status.description)?.trim() || str(status.message)?.trim() || undefined;
        return ['rejected', suppressedClassification(recipient, text)];
      }
      if (data.severity === 'temporary') return ['deferred', classifyFailure('deferred', recipient, status, reason)];
      return ['bounced', classifyFailure('bounced', recipient, status, reason)];
    }
    case 'rejected': {
      const reject = obj(data.reject);
      const text = [str(reject.reason), str(reject.description)].filter(Boolean).join(': ') || undefined;
      return ['rejected', buildClassification('rejected', undefined, undefined, text, recipient, 'rejected')];
    }
    case 'complained':
      return ['complained', buildClassification('feedback', undefined, undefined, undefined, recipient, 'complained')];
    case 'opened':
      return ['opened', undefined];
    case 'clicked':
      return ['clicked', undefined];
    case 'unsubscribed':
      return ['unsubscribed', undefined];
    default:
      return ['unknown', undefined];
  }
}

/**
 * Mailgun webhook body (`{ signature, "event-data" }`, raw or already parsed) → one DeliveryEvent.
 * A `failed` event is deferred when its severity is temporary (Mailgun keeps trying), bounced when
 * permanent, and rejected when Mailgun did not try because of a suppression list. `user-variables`
 * become `metadata`. Throws WebhookPayloadError for a body of another shape.
 */
export function parseMailgunWebhook(body: unknown): DeliveryEvent[] {
  const json = obj(readWebhookJson(body, 'Mailgun'));
  const data = json['event-data'];
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new WebhookPayloadError('The Mailgun webhook body has no "event-data" object.');
  }
  const d = data as Record<string, unknown>;
  const name = str(d.event);
  const recipient = str(d.recipient);
  if (!name || !recipient) throw new WebhookPayloadError('The Mailgun event has no "event" or "recipient".');
  const [type, classification] = typeAndClassification(d, recipient);
  const seconds = typeof d.timestamp === 'number' ? d.timestamp : Number(str(d.timestamp));
  const event: DeliveryEvent = {
    provider: 'mailgun',
    type,
    providerEvent: name,
    recipient,
    // A missing time reads as the time of receipt.
    timestamp: Number.isFinite(seconds) && d.timestamp !== undefined ? new Date(Math.round(seconds * 1000)) : new Date(),
    raw: data,
  };
  const headerId = str(obj(obj(d.message).headers)['message-id'])?.trim();
  if (headerId) {
    const bare = headerId.replace(/^<|>$/g, '');
    event.messageId = `<${bare}>`;
    event.providerMessageId = bare;
  }
  const eventId = str(d.id);
  if (eventId) event.eventId = eventId;
  if (classification) event.classification = classification;
  if (Array.isArray(d.tags)) {
    const tags = d.tags.filter((t): t is string => typeof t === 'string');
    if (tags.length) event.tags = tags;
  }
  const vars = obj(d['user-variables']);
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(vars)) {
    if (v === null || v === undefined) continue;
    metadata[k] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  if (Object.keys(metadata).length) event.metadata = metadata;
  return [event];
}

/**
 * The duplicate keys of a Mailgun request: the event's `id` (kept when Mailgun delivers the event
 * again, signed afresh) and the signature's token. The signature covers only its timestamp and
 * token, not `event-data`, so the token is what stops a captured signature from carrying another
 * event: a token accepted once makes any later request with it a repeat.
 */
export function mailgunDeliveryKeys(rawBody: Buffer | string, events: readonly DeliveryEvent[]): string[] {
  const keys: string[] = [];
  const id = events[0]?.eventId;
  if (id) keys.push(id);
  let token: unknown;
  try {
    token = obj(obj(JSON.parse(rawBody.toString())).signature).token;
  } catch {
    token = undefined;
  }
  if (typeof token === 'string' && token) keys.push(`token:${token}`);
  return keys;
}
