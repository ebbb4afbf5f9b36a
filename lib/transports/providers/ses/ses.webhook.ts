import { verify, X509Certificate } from 'node:crypto';
import {
  buildClassification, decideReason, enhancedStatusOf, replyCodeOf, SES_BOUNCE_SUBTYPE_REASONS, SES_SUPPRESSION_SUBTYPES,
} from '../../../bounces/index.js';
import type { BounceReason, Classification, DeliveryKind } from '../../../core/classification.types.js';
import {
  type DeliveryEvent,
  type DeliveryEventType,
  type WebhookVerification,
} from '../../../core/delivery-event.types.js';
import { MailerConfigurationError, WebhookPayloadError } from '../../../errors/mailer.error.js';
import { canonicalBase64, str, obj } from '../../http/webhook-body.js';

/** Seconds an SNS message's Timestamp may be away from the clock before it is refused as stale. */
export const DEFAULT_TOLERANCE_SECONDS = 300;
const FETCH_TIMEOUT_MS = 5_000;
const MAX_CERTIFICATE_BYTES = 16_384;
const CERTIFICATE_CACHE_SIZE = 32;

/** Fetches the PEM text of an SNS signing certificate. */
export type SnsCertificateFetcher = (url: URL) => Promise<string>;

export interface SesWebhookOptions {
  /**
   * AWS region of the SNS topic (`eu-west-1`). When set, signing certificates and subscription
   * URLs must come from `sns.<region>.amazonaws.com`; otherwise any `sns.<region>.amazonaws.com`.
   */
  region?: string;
  /** Accept only messages of this topic (or these topics). Recommended. */
  topicArn?: string | string[];
  /**
   * Confirm a SubscriptionConfirmation by requesting its SubscribeURL (after its signature and the
   * URL's host have been checked). Default false: the URL is only reported, for confirming by hand.
   */
  autoConfirm?: boolean;
  /**
   * Seconds a message's Timestamp may be away from now. SNS keeps the publish time on retries, so
   * a topic with a long custom delivery policy needs a larger value. Default 300.
   */
  toleranceSeconds?: number;
  /**
   * Fetches a signing certificate. Default: an HTTPS GET that follows no redirect. Certificates are
   * cached per fetcher. Replace it to pin certificates or to test without network.
   */
  fetchCertificate?: SnsCertificateFetcher;
  /** Requests a SubscribeURL. Default: an HTTPS GET that follows no redirect. */
  confirmSubscription?: (url: URL) => Promise<void>;
}

/** The SNS envelope POSTed to an HTTP(S) subscription. */
export interface SnsMessage {
  Type: 'Notification' | 'SubscriptionConfirmation' | 'UnsubscribeConfirmation' | string;
  MessageId: string;
  TopicArn: string;
  Message: string;
  Timestamp: string;
  SignatureVersion: string;
  Signature: string;
  SigningCertURL: string;
  Subject?: string;
  Token?: string;
  SubscribeURL?: string;
  UnsubscribeURL?: string;
}

const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d+$/;

/** Checks SES webhook options; an impossible region is a configuration error raised at start-up. */
export function assertSesWebhookOptions(options: SesWebhookOptions): void {
  if (options.region !== undefined && !REGION.test(options.region)) {
    throw new MailerConfigurationError(`"${options.region}" is not an AWS region name (like eu-west-1).`);
  }
}

/**
 * Is `url` an SNS endpoint: https, no credentials, default port, host `sns.<region>.amazonaws.com`
 * (`.com.cn` in China), the configured region when there is one?
 */
export function isSnsUrl(url: string | URL, region?: string): boolean {
  let u: URL;
  try {
    u = typeof url === 'string' ? new URL(url) : url;
  } catch {
    return false;
  }
  if (u.protocol !== 'https:' || u.username || u.password || (u.port !== '' && u.port !== '443')) return false;
  const m = /^sns\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(u.hostname);
  if (!m) return false;
  return region === undefined || m[1] === region;
}

/** The signing-certificate URL rule: an SNS host and a `.pem` path. */
export function isSnsCertificateUrl(url: string | URL, region?: string): boolean {
  if (!isSnsUrl(url, region)) return false;
  const u = typeof url === 'string' ? new URL(url) : url;
  return u.pathname.endsWith('.pem') && u.search === '';
}

async function httpsGet(url: URL): Promise<Response> {
  const res = await fetch(url, { redirect: 'error', signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  if (!res.ok) throw new Error(`GET ${url.origin}${url.pathname} answered ${res.status}`);
  return res;
}

const defaultFetchCertificate: SnsCertificateFetcher = async (url) => {
  const text = await (await httpsGet(url)).text();
  if (text.length > MAX_CERTIFICATE_BYTES) throw new Error('The SNS signing certificate is too large.');
  return text;
};

const defaultConfirmSubscription = async (url: URL): Promise<void> => {
  await (await httpsGet(url)).arrayBuffer();
};

/** Certificates by URL, one small cache per fetcher, so a replaced fetcher never sees another's. */
const caches = new WeakMap<SnsCertificateFetcher, Map<string, Promise<X509Certificate>>>();

function certificate(url: URL, fetcher: SnsCertificateFetcher): Promise<X509Certificate> {
  let cache = caches.get(fetcher);
  if (!cache) caches.set(fetcher, (cache = new Map()));
  const key = url.href;
  let pending = cache.get(key);
  if (!pending) {
    pending = fetcher(url).then((pem) => new X509Certificate(pem));
    // A failed fetch is not remembered; the next message tries again.
    pending.catch(() => cache.delete(key));
    if (cache.size >= CERTIFICATE_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
    cache.set(key, pending);
  }
  return pending;
}

const NOTIFICATION_FIELDS = ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'] as const;
const SUBSCRIPTION_FIELDS = ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'] as const;

/** The string SNS signs: `Name\nvalue\n` for each field of the message type, in this order. */
export function snsStringToSign(message: SnsMessage): string | undefined {
  const fields = message.Type === 'Notification'
    ? NOTIFICATION_FIELDS
    : message.Type === 'SubscriptionConfirmation' || message.Type === 'UnsubscribeConfirmation'
      ? SUBSCRIPTION_FIELDS
      : undefined;
  if (!fields) return undefined;
  let out = '';
  for (const name of fields) {
    const value = (message as unknown as Record<string, unknown>)[name];
    if (name === 'Subject' && typeof value !== 'string') continue;
    if (typeof value !== 'string') return undefined;
    out += `${name}\n${value}\n`;
  }
  return out;
}

const REQUIRED = ['Type', 'MessageId', 'TopicArn', 'Message', 'Timestamp', 'SignatureVersion', 'Signature', 'SigningCertURL'] as const;

/** Reads the SNS envelope from a request body; undefined when it is not one. */
export function readSnsMessage(body: unknown): SnsMessage | undefined {
  let json: unknown = body;
  if (typeof body === 'string' || Buffer.isBuffer(body)) {
    try {
      json = JSON.parse(body.toString());
    } catch {
      return undefined;
    }
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return undefined;
  const o = json as Record<string, unknown>;
  for (const name of REQUIRED) if (typeof o[name] !== 'string') return undefined;
  return o as unknown as SnsMessage;
}

function topicAllowed(topic: string, allowed: string | string[] | undefined): boolean {
  if (allowed === undefined) return true;
  return (Array.isArray(allowed) ? allowed : [allowed]).includes(topic);
}

/**
 * Verifies an SNS message: its topic (when configured), its Timestamp within the tolerance, its
 * SigningCertURL an SNS host (checked before anything is fetched), the certificate valid now, and
 * the RSA signature over the canonical string — SHA1 for SignatureVersion 1, SHA256 for 2.
 */
export async function verifySnsSignature(
  message: SnsMessage,
  options: SesWebhookOptions = {},
  now: number = Date.now(),
): Promise<WebhookVerification> {
  if (!message.Signature || !message.SigningCertURL) {
    return { ok: false, reason: 'missing', message: 'The SNS message has no Signature or SigningCertURL.' };
  }
  const signature = canonicalBase64(message.Signature);
  if (signature === undefined) return { ok: false, reason: 'malformed', message: 'The SNS Signature is not base64 in its canonical encoding.' };
  const algorithm = message.SignatureVersion === '1' ? 'sha1' : message.SignatureVersion === '2' ? 'sha256' : undefined;
  if (!algorithm) return { ok: false, reason: 'malformed', message: `Unknown SNS SignatureVersion "${message.SignatureVersion}".` };
  const toSign = snsStringToSign(message);
  if (toSign === undefined) return { ok: false, reason: 'malformed', message: `The SNS message type "${message.Type}" is not one this endpoint reads.` };
  if (!topicAllowed(message.TopicArn, options.topicArn)) {
    return { ok: false, reason: 'untrusted', message: `The SNS topic ${message.TopicArn} is not one this endpoint accepts.` };
  }
  const sent = Date.parse(message.Timestamp);
  if (Number.isNaN(sent)) return { ok: false, reason: 'malformed', message: 'The SNS Timestamp is not a date.' };
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (Math.abs(now - sent) / 1000 > tolerance) {
    return { ok: false, reason: 'stale', message: `The SNS Timestamp is more than ${tolerance} s away from now.` };
  }
  if (!isSnsCertificateUrl(message.SigningCertURL, options.region)) {
    return { ok: false, reason: 'untrusted', message: 'The SNS SigningCertURL is not an https .pem URL on an SNS host.' };
  }
  let cert: X509Certificate;
  try {
    cert = await certificate(new URL(message.SigningCertURL), options.fetchCertificate ?? defaultFetchCertificate);
  } catch (error) {
    return { ok: false, reason: 'untrusted', message: `The SNS signing certificate could not be read: ${(error as Error).message}` };
  }
  if (now < Date.parse(cert.validFrom) || now > Date.parse(cert.validTo)) {
    return { ok: false, reason: 'untrusted', message: 'The SNS signing certificate is not valid now.' };
  }
  let valid = false;
  try {
    valid = verify(algorithm, Buffer.from(toSign, 'utf8'), cert.publicKey, signature);
  } catch {
    valid = false;
  }
  return valid ? { ok: true } : { ok: false, reason: 'mismatch', message: 'The SNS signature does not verify.' };
}

/** Verifies an SES-through-SNS request from its raw body. */
export async function verifySesWebhook(rawBody: Buffer | string, options: SesWebhookOptions = {}, now?: number): Promise<WebhookVerification> {
  const message = readSnsMessage(rawBody);
  if (!message) return { ok: false, reason: 'malformed', message: 'The body is not an SNS message (JSON with Type, Signature, SigningCertURL, …).' };
  return verifySnsSignature(message, options, now);
}

export type SnsSubscriptionOutcome =
  | { confirmed: true }
  | { confirmed: false; reason: string; subscribeUrl?: string };

/**
 * Handles a verified SubscriptionConfirmation: requests its SubscribeURL when `autoConfirm` is on
 * and the URL is an SNS host (of the configured region); otherwise says why not, with the URL for
 * confirming by hand.
 */
export async function confirmSnsSubscription(message: SnsMessage, options: SesWebhookOptions = {}): Promise<SnsSubscriptionOutcome> {
  const url = message.SubscribeURL;
  if (message.Type !== 'SubscriptionConfirmation' || !url) return { confirmed: false, reason: 'not a subscription confirmation' };
  if (!isSnsUrl(url, options.region)) return { confirmed: false, reason: 'the SubscribeURL is not an SNS host', subscribeUrl: url };
  if (!topicAllowed(message.TopicArn, options.topicArn)) return { confirmed: false, reason: 'the topic is not accepted', subscribeUrl: url };
  if (options.autoConfirm !== true) return { confirmed: false, reason: 'autoConfirm is off', subscribeUrl: url };
  await (options.confirmSubscription ?? defaultConfirmSubscription)(new URL(url));
  return { confirmed: true };
}

function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}


/** DeliveryDelay `delayType` → reason, when the diagnostic says nothing more precise. */
const DELAY_REASONS: Record<string, BounceReason> = {
  MailboxFull: 'mailboxfull',
  SpamDetected: 'spamdetected',
  RecipientServerError: 'systemerror',
  IPFailure: 'blocked',
  TransientCommunicationFailure: 'networkerror',
  BYOIPHostNameLookupUnavailable: 'networkerror',
  InternalFailure: 'systemerror',
  SendingDeferral: 'ratelimited',
};

/** `smtp; 550 5.1.1 …` → `550 5.1.1 …`. */
function diagnosticText(code: string | undefined): string | undefined {
  const t = code?.replace(/^\s*smtp\s*;\s*/i, '').trim();
  return t || undefined;
}

function classifyReply(kind: DeliveryKind, recipient: string, statusField: string | undefined, diagnosticCode: string | undefined, fallback: BounceReason, decisive?: BounceReason): Classification {
  const text = diagnosticText(diagnosticCode);
  const smtp = /^\s*smtp\s*;/i.test(diagnosticCode ?? '') || (text !== undefined && replyCodeOf(text) !== undefined);
  const replyCode = smtp && text ? replyCodeOf(text) : undefined;
  const status = (statusField ? enhancedStatusOf(statusField) : undefined) ?? (text ? enhancedStatusOf(text) : undefined);
  let reason = decisive;
  if (reason === undefined) {
    const decided = decideReason({ status, replyCode, text, command: 'RCPT' });
    reason = decided === 'undefined' || decided === 'delivered' ? fallback : decided;
  }
  return buildClassification(reason, replyCode, status, text, recipient, kind);
}

function suppressed(recipient: string, text: string | undefined): Classification {
  const c = buildClassification('suppressed', undefined, undefined, text?.trim() || undefined, recipient, 'rejected');
  c.action = 'suppress';
  return c;
}

interface Draft {
  type: DeliveryEventType;
  recipient: string;
  when?: string;
  classification?: Classification;
}

function bounceDrafts(bounce: Record<string, unknown>): Draft[] {
  const bounceType = str(bounce.bounceType) ?? 'Undetermined';
  const subType = str(bounce.bounceSubType) ?? 'Undetermined';
  const when = str(bounce.timestamp);
  return list(bounce.bouncedRecipients).map((entry) => {
    const r = obj(entry);
    const recipient = str(r.emailAddress) ?? '';
    if (SES_SUPPRESSION_SUBTYPES.has(subType)) {
      return { type: 'rejected', recipient, when, classification: suppressed(recipient, str(r.diagnosticCode)) };
    }
    const fallback: BounceReason = bounceType === 'Undetermined' ? 'undefined' : 'onhold';
    const classification = classifyReply('bounced', recipient, str(r.status), str(r.diagnosticCode), fallback, SES_BOUNCE_SUBTYPE_REASONS[subType]);
    return { type: 'bounced', recipient, when, classification };
  });
}

function draftsOf(kind: string, n: Record<string, unknown>, destinations: string[]): Draft[] {
  switch (kind) {
    case 'Bounce':
      return bounceDrafts(obj(n.bounce));
    case 'Complaint': {
      const complaint = obj(n.complaint);
      const when = str(complaint.timestamp);
      const onList = str(complaint.complaintSubType) === 'OnAccountSuppressionList';
      const feedback = str(complaint.complaintFeedbackType);
      return list(complaint.complainedRecipients).map((entry) => {
        const recipient = str(obj(entry).emailAddress) ?? '';
        if (onList) return { type: 'rejected' as const, recipient, when, classification: suppressed(recipient, 'on the account suppression list for complaints') };
        return { type: 'complained' as const, recipient, when, classification: buildClassification('feedback', undefined, undefined, feedback, recipient, 'complained') };
      });
    }
    case 'Delivery': {
      const delivery = obj(n.delivery);
      const reply = str(delivery.smtpResponse)?.trim() || undefined;
      return list(delivery.recipients).filter((r): r is string => typeof r === 'string').map((recipient) => ({
        type: 'delivered' as const,
        recipient,
        when: str(delivery.timestamp),
        classification: buildClassification('delivered', reply ? replyCodeOf(reply) : undefined, reply ? enhancedStatusOf(reply) : undefined, reply, recipient, 'delivered'),
      }));
    }
    case 'DeliveryDelay': {
      const delay = obj(n.deliveryDelay);
      const fallback = DELAY_REASONS[str(delay.delayType) ?? ''] ?? 'undefined';
      return list(delay.delayedRecipients).map((entry) => {
        const r = obj(entry);
        const recipient = str(r.emailAddress) ?? '';
        return { type: 'deferred' as const, recipient, when: str(delay.timestamp), classification: classifyReply('deferred', recipient, str(r.status), str(r.diagnosticCode), fallback) };
      });
    }
    case 'Send':
      return destinations.map((recipient) => ({ type: 'sent' as const, recipient }));
    case 'Reject': {
      const reason = str(obj(n.reject).reason);
      return destinations.map((recipient) => {
        const c = buildClassification(/virus/i.test(reason ?? '') ? 'virusdetected' : 'contenterror', undefined, undefined, reason, recipient, 'failed');
        c.bounce = 'none';
        return { type: 'failed' as const, recipient, classification: c };
      });
    }
    case 'Rendering Failure':
    case 'RenderingFailure': {
      const failure = obj(n.failure);
      return destinations.map((recipient) => {
        const c = buildClassification('contenterror', undefined, undefined, str(failure.errorMessage), recipient, 'failed');
        c.bounce = 'none';
        c.action = 'fix-config';
        return { type: 'failed' as const, recipient, classification: c };
      });
    }
    // SES does not say which recipient opened or clicked: every destination gets the event.
    case 'Open':
      return destinations.map((recipient) => ({ type: 'opened' as const, recipient, when: str(obj(n.open).timestamp) }));
    case 'Click':
      return destinations.map((recipient) => ({ type: 'clicked' as const, recipient, when: str(obj(n.click).timestamp) }));
    case 'Subscription': {
      const sub = obj(n.subscription);
      const all = obj(sub.newTopicPreferences).unsubscribeAll === true;
      return destinations.map((recipient) => ({ type: all ? 'unsubscribed' as const : 'unknown' as const, recipient, when: str(sub.timestamp) }));
    }
    default:
      return destinations.map((recipient) => ({ type: 'unknown' as const, recipient }));
  }
}

/** The value a plain tag carries, since SES tags are name/value pairs (see SES_TAG_VALUE). */
const TAG_VALUE = 'true';

function dateOf(...values: Array<string | undefined>): Date {
  for (const v of values) {
    if (!v) continue;
    const d = new Date(v);
    if (!Number.isNaN(d.getTime())) return d;
  }
  return new Date();
}

/**
 * An SES notification (the JSON inside an SNS Notification's `Message`) → DeliveryEvents, one per
 * recipient it names. Reads identity notifications (`notificationType`: Bounce, Complaint,
 * Delivery) and configuration-set event publishing (`eventType`: also Send, Reject, DeliveryDelay,
 * Open, Click, RenderingFailure, Subscription).
 */
export function parseSesNotification(notification: unknown, snsMessageId?: string, snsTimestamp?: string): DeliveryEvent[] {
  if (typeof notification !== 'object' || notification === null || Array.isArray(notification)) {
    throw new WebhookPayloadError('The SES notification is not a JSON object.');
  }
  const n = notification as Record<string, unknown>;
  const kind = str(n.notificationType) ?? str(n.eventType);
  if (!kind) throw new WebhookPayloadError('The SES notification has no notificationType or eventType.');
  if (kind === 'AmazonSnsSubscriptionSucceeded') return [];
  const mail = obj(n.mail);
  const destinations = list(mail.destination).filter((d): d is string => typeof d === 'string');
  const headerId = list(mail.headers)
    .map(obj)
    .find((h) => str(h.name)?.toLowerCase() === 'message-id');
  const messageId = str(headerId?.value)?.trim();
  const providerMessageId = str(mail.messageId);
  const feedbackId = str(obj(n.bounce).feedbackId) ?? str(obj(n.complaint).feedbackId);
  const tags: string[] = [];
  const metadata: Record<string, string> = {};
  for (const [name, values] of Object.entries(obj(mail.tags))) {
    if (name.startsWith('ses:') || name.startsWith('aws:')) continue;
    const value = str(list(values)[0]);
    if (value === undefined) continue;
    if (value === TAG_VALUE) tags.push(name);
    else metadata[name] = value;
  }
  return draftsOf(kind, n, destinations).map((d) => {
    const event: DeliveryEvent = {
      provider: 'ses',
      type: d.type,
      providerEvent: kind,
      recipient: d.recipient,
      timestamp: dateOf(d.when, str(mail.timestamp), snsTimestamp),
      raw: notification,
    };
    if (messageId) event.messageId = messageId.startsWith('<') ? messageId : `<${messageId}>`;
    if (providerMessageId) event.providerMessageId = providerMessageId;
    const eventId = feedbackId ?? snsMessageId;
    if (eventId) event.eventId = eventId;
    if (d.classification) event.classification = d.classification;
    if (tags.length) event.tags = [...tags];
    if (Object.keys(metadata).length) event.metadata = { ...metadata };
    return event;
  });
}

/**
 * SES through SNS: the request body (the SNS envelope, raw or parsed) → DeliveryEvents. Only a
 * Notification carries events; a subscription or unsubscribe confirmation gives none. Throws
 * WebhookPayloadError for a body of another shape. Verify first with verifySesWebhook.
 */
export function parseSesWebhook(body: unknown): DeliveryEvent[] {
  const message = readSnsMessage(body);
  if (!message) throw new WebhookPayloadError('The body is not an SNS message.');
  if (message.Type !== 'Notification') return [];
  let notification: unknown;
  try {
    notification = JSON.parse(message.Message);
  } catch (cause) {
    throw new WebhookPayloadError('The SNS Message is not an SES notification (not JSON).', { cause });
  }
  return parseSesNotification(notification, message.MessageId, message.Timestamp);
}
