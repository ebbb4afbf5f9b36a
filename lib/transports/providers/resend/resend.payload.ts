import { createHash } from 'node:crypto';
import type { OutgoingMail } from '../../../core/mail.types.js';
import { calendarContentType } from '../../calendar/calendar.event.js';
import { perSendDkimFeature } from '../../dkim/dkim.options.js';
import { formatAddress, hasCustomEnvelope, outgoingHeaders, resolveAttachments, stripAngleBrackets } from '../../http/index.js';

export interface ResendAttachment {
  content: string;
  filename: string;
  content_type: string;
  content_id?: string;
}

/** The body of `POST /emails` (and one element of `POST /emails/batch`). */
export interface ResendEmail {
  from: string;
  to: string[];
  cc?: string[];
  bcc?: string[];
  reply_to?: string[];
  subject: string;
  text?: string;
  html?: string;
  headers?: Record<string, string>;
  attachments?: ResendAttachment[];
  tags?: Array<{ name: string; value: string }>;
}

export const RESEND_MAX_TO = 50;
/** Resend allows ASCII letters, digits, `_` and `-` in tag names and values, up to 256 characters. */
const TAG_TEXT = /^[A-Za-z0-9_-]{1,256}$/;
/** The value a plain mail tag gets, since Resend tags are name/value pairs. */
export const RESEND_TAG_VALUE = 'true';

/** What in the mail Resend cannot carry, or undefined. Attachments are checked by the caller for batches. */
export function resendUnsupportedFeature(mail: OutgoingMail): string | undefined {
  if (hasCustomEnvelope(mail)) return 'an envelope that differs from the From/To/Cc/Bcc headers';
  if (mail.to.length === 0) return 'a mail without To recipients (Resend requires at least one)';
  if (mail.to.length > RESEND_MAX_TO) return `more than ${RESEND_MAX_TO} To recipients`;
  for (const tag of mail.tags) {
    if (!TAG_TEXT.test(tag)) return `the tag "${tag}" (Resend tags allow only ASCII letters, digits, _ and -, up to 256 characters)`;
    if (tag in mail.metadata) return `the tag "${tag}" next to a metadata key of the same name (both become Resend tags)`;
  }
  for (const [key, value] of Object.entries(mail.metadata)) {
    if (!TAG_TEXT.test(key) || !TAG_TEXT.test(value)) return `the metadata entry "${key}" (Resend tags allow only ASCII letters, digits, _ and -, up to 256 characters)`;
  }
  for (const attachment of mail.attachments) {
    if (attachment.headers && Object.keys(attachment.headers).length > 0) return 'per-attachment MIME headers';
    if (attachment.contentDisposition === 'inline' && !attachment.cid) return 'an inline attachment without a cid (Resend marks inline parts by content_id)';
  }
  if (mail.dkim?.length) return perSendDkimFeature('Resend');
  return undefined;
}

/**
 * OutgoingMail → Resend email. Tags become `{name: tag, value: "true"}` and metadata entries
 * `{name: key, value}`: Resend has one list of name/value tags and returns it on every webhook.
 * A calendar invite is an attachment whose `content_type` carries the method
 * (`text/calendar; charset=utf-8; method=…`); like every attachment it keeps the mail out of
 * Resend's batch endpoint.
 */
export async function buildResendEmail(mail: OutgoingMail): Promise<ResendEmail> {
  const email: ResendEmail = { from: formatAddress(mail.from), to: mail.to.map(formatAddress), subject: mail.subject };
  if (mail.cc.length) email.cc = mail.cc.map(formatAddress);
  if (mail.bcc.length) email.bcc = mail.bcc.map(formatAddress);
  if (mail.replyTo.length) email.reply_to = mail.replyTo.map(formatAddress);
  if (mail.text !== undefined) email.text = mail.text;
  if (mail.html !== undefined) email.html = mail.html;
  email.headers = outgoingHeaders(mail);
  const attachments: ResendAttachment[] = (await resolveAttachments(mail)).map((a) => ({
    content: a.content.toString('base64'),
    filename: a.filename,
    content_type: a.contentType,
    ...(a.cid ? { content_id: a.cid } : {}),
  }));
  if (mail.icalEvent) {
    attachments.push({ content: Buffer.from(mail.icalEvent.content).toString('base64'), filename: mail.icalEvent.filename, content_type: calendarContentType(mail.icalEvent) });
  }
  if (attachments.length) email.attachments = attachments;
  const tags = [
    ...mail.tags.map((name) => ({ name, value: RESEND_TAG_VALUE })),
    ...Object.entries(mail.metadata).map(([name, value]) => ({ name, value })),
  ];
  if (tags.length) email.tags = tags;
  return email;
}

/**
 * The Idempotency-Key for a mail: its Message-ID without brackets (stable across retries and
 * failover), or its SHA-256 when longer than Resend's 256 characters.
 */
export function resendIdempotencyKey(messageId: string): string {
  const bare = stripAngleBrackets(messageId);
  return bare.length <= 256 && /^[\x21-\x7e]+$/.test(bare) ? bare : createHash('sha256').update(messageId).digest('hex');
}

/** The Idempotency-Key for a batch request: a hash of its mails' Message-IDs in order. */
export function resendBatchIdempotencyKey(messageIds: string[]): string {
  return `batch-${createHash('sha256').update(messageIds.join('\n')).digest('hex')}`;
}
