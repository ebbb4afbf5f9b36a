import type { OutgoingMail } from '../../../core/mail.types.js';
import { calendarContentType } from '../../calendar/calendar.event.js';
import { perSendDkimFeature } from '../../dkim/dkim.options.js';
import { formatAddress, hasCustomEnvelope, outgoingHeaders, resolveAttachments } from '../../http/index.js';

/** One message as Postmark's `/email` and `/email/batch` take it. */
export interface PostmarkMessage {
  From: string;
  To?: string;
  Cc?: string;
  Bcc?: string;
  ReplyTo?: string;
  Subject: string;
  TextBody?: string;
  HtmlBody?: string;
  Headers?: Array<{ Name: string; Value: string }>;
  Attachments?: Array<{ Name: string; Content: string; ContentType: string; ContentID?: string }>;
  Tag?: string;
  Metadata?: Record<string, string>;
  MessageStream?: string;
}

export interface PostmarkPayloadOptions {
  /** Postmark message stream; Postmark uses `outbound` when none is given. */
  messageStream?: string;
}

/** Postmark's documented maximum for each of To, Cc and Bcc. */
export const POSTMARK_MAX_RECIPIENTS_PER_FIELD = 50;

/** What in the mail Postmark cannot carry, or undefined. */
export function postmarkUnsupportedFeature(mail: OutgoingMail): string | undefined {
  if (hasCustomEnvelope(mail)) return 'an envelope that differs from the From/To/Cc/Bcc headers';
  if (mail.tags.length > 1) return `more than one tag (Postmark has a single Tag; got ${mail.tags.length})`;
  for (const [field, list] of [['To', mail.to], ['Cc', mail.cc], ['Bcc', mail.bcc]] as const) {
    if (list.length > POSTMARK_MAX_RECIPIENTS_PER_FIELD) return `more than ${POSTMARK_MAX_RECIPIENTS_PER_FIELD} ${field} recipients`;
  }
  for (const attachment of mail.attachments) {
    if (attachment.headers && Object.keys(attachment.headers).length > 0) return 'per-attachment MIME headers';
    if (attachment.contentDisposition === 'inline' && !attachment.cid) return 'an inline attachment without a cid (Postmark marks inline parts by ContentID)';
  }
  if (mail.dkim?.length) return perSendDkimFeature('Postmark');
  return undefined;
}

/**
 * OutgoingMail → Postmark message. Call `postmarkUnsupportedFeature` first. A calendar invite is
 * an attachment of type `text/calendar; charset=utf-8; method=…`, as Postmark's support article on
 * calendar invites describes.
 */
export async function buildPostmarkMessage(mail: OutgoingMail, options: PostmarkPayloadOptions = {}): Promise<PostmarkMessage> {
  const join = (list: OutgoingMail['to']): string | undefined => (list.length ? list.map(formatAddress).join(', ') : undefined);
  const message: PostmarkMessage = { From: formatAddress(mail.from), Subject: mail.subject };
  const to = join(mail.to);
  const cc = join(mail.cc);
  const bcc = join(mail.bcc);
  const replyTo = join(mail.replyTo);
  if (to) message.To = to;
  if (cc) message.Cc = cc;
  if (bcc) message.Bcc = bcc;
  if (replyTo) message.ReplyTo = replyTo;
  if (mail.text !== undefined) message.TextBody = mail.text;
  if (mail.html !== undefined) message.HtmlBody = mail.html;
  message.Headers = Object.entries(outgoingHeaders(mail)).map(([Name, Value]) => ({ Name, Value }));
  const attachments: NonNullable<PostmarkMessage['Attachments']> = (await resolveAttachments(mail)).map((a) => ({
    Name: a.filename,
    Content: a.content.toString('base64'),
    ContentType: a.contentType,
    ...(a.cid ? { ContentID: `cid:${a.cid}` } : {}),
  }));
  if (mail.icalEvent) {
    attachments.push({ Name: mail.icalEvent.filename, Content: Buffer.from(mail.icalEvent.content).toString('base64'), ContentType: calendarContentType(mail.icalEvent) });
  }
  if (attachments.length) message.Attachments = attachments;
  if (mail.tags.length === 1) message.Tag = mail.tags[0];
  if (Object.keys(mail.metadata).length) message.Metadata = { ...mail.metadata };
  if (options.messageStream) message.MessageStream = options.messageStream;
  return message;
}

/** The recipients Postmark names as inactive in a message text, lower-cased. */
export function parseInactiveRecipients(message: string | undefined): string[] {
  if (!message) return [];
  const match = /inactive addresses:\s*(.+?)\.?\s*(?:Inactive recipients|$)/is.exec(message);
  if (!match?.[1]) return [];
  return (match[1].match(/[^\s,;<>]+@[^\s,;<>]+/g) ?? []).map((a) => a.replace(/\.+$/, '').toLowerCase());
}
