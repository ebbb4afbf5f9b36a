import type { MailAddress, OutgoingMail } from '../../../core/mail.types.js';
import { calendarContentType } from '../../calendar/calendar.event.js';
import { perSendDkimFeature } from '../../dkim/dkim.options.js';
import { hasCustomEnvelope, outgoingHeaders, resolveAttachments } from '../../http/index.js';

export interface SendGridAddress {
  email: string;
  name?: string;
}

export interface SendGridPersonalization {
  to: SendGridAddress[];
  cc?: SendGridAddress[];
  bcc?: SendGridAddress[];
  /** Per-recipient-group headers; the Message-ID goes here so mails can share one request. */
  headers?: Record<string, string>;
}

export interface SendGridAttachment {
  content: string;
  filename: string;
  type: string;
  disposition: 'attachment' | 'inline';
  content_id?: string;
}

/** The body of `POST /v3/mail/send`. */
export interface SendGridMailBody {
  personalizations: SendGridPersonalization[];
  from: SendGridAddress;
  reply_to?: SendGridAddress;
  reply_to_list?: SendGridAddress[];
  subject: string;
  /** text/plain, then text/html, then a calendar invite's `text/calendar; method=…`. */
  content?: Array<{ type: string; value: string }>;
  attachments?: SendGridAttachment[];
  categories?: string[];
  headers?: Record<string, string>;
  custom_args?: Record<string, string>;
}

/** SendGrid's documented limits. */
export const SENDGRID_LIMITS = {
  categories: 10,
  categoryLength: 255,
  customArgsBytes: 10_000,
  recipientsPerRequest: 1000,
  personalizationsPerRequest: 1000,
} as const;

/** Headers SendGrid refuses in `headers` (they come from the mail's own fields or from SendGrid). */
const RESERVED_HEADERS = new Set([
  'x-sg-id', 'x-sg-eid', 'received', 'dkim-signature', 'content-type', 'content-transfer-encoding',
  'to', 'from', 'subject', 'reply-to', 'cc', 'bcc',
]);

const toAddress = (a: MailAddress): SendGridAddress => (a.name ? { email: a.address, name: a.name } : { email: a.address });

/** What in the mail SendGrid cannot carry, or undefined. */
export function sendGridUnsupportedFeature(mail: OutgoingMail): string | undefined {
  if (hasCustomEnvelope(mail)) return 'an envelope that differs from the From/To/Cc/Bcc headers';
  if (mail.to.length === 0) return 'a mail without To recipients (SendGrid requires at least one)';
  const seen = new Set<string>();
  for (const a of [...mail.to, ...mail.cc, ...mail.bcc]) {
    const key = a.address.toLowerCase();
    if (seen.has(key)) return `the same address (${a.address}) more than once across To/Cc/Bcc`;
    seen.add(key);
  }
  if (seen.size > SENDGRID_LIMITS.recipientsPerRequest) return `more than ${SENDGRID_LIMITS.recipientsPerRequest} recipients`;
  if (mail.tags.length > SENDGRID_LIMITS.categories) return `more than ${SENDGRID_LIMITS.categories} tags (SendGrid categories)`;
  if (mail.tags.some((t) => t.length > SENDGRID_LIMITS.categoryLength)) return `a tag longer than ${SENDGRID_LIMITS.categoryLength} characters`;
  if (Buffer.byteLength(JSON.stringify(mail.metadata)) > SENDGRID_LIMITS.customArgsBytes) return `metadata over ${SENDGRID_LIMITS.customArgsBytes} bytes (SendGrid custom_args)`;
  for (const name of Object.keys(mail.headers)) {
    if (RESERVED_HEADERS.has(name.toLowerCase())) return `the header ${name} (SendGrid sets it from the mail's fields)`;
  }
  for (const attachment of mail.attachments) {
    if (attachment.headers && Object.keys(attachment.headers).length > 0) return 'per-attachment MIME headers';
  }
  if (mail.dkim?.length) return perSendDkimFeature('SendGrid');
  return undefined;
}

/**
 * OutgoingMail → SendGrid mail body with one personalization. Call `sendGridUnsupportedFeature`
 * first. A calendar invite goes the way SendGrid's maintainers describe it: a
 * `text/calendar; method=…` content after the text and HTML (SendGrid sets the charset itself),
 * plus the file attached as `application/ics` — the shape nodemailer gives it over SMTP.
 */
export async function buildSendGridBody(mail: OutgoingMail): Promise<SendGridMailBody> {
  const headers = outgoingHeaders(mail);
  const messageIdHeader = Object.keys(headers).find((h) => h.toLowerCase() === 'message-id') as string;
  const personalization: SendGridPersonalization = { to: mail.to.map(toAddress) };
  if (mail.cc.length) personalization.cc = mail.cc.map(toAddress);
  if (mail.bcc.length) personalization.bcc = mail.bcc.map(toAddress);
  personalization.headers = { [messageIdHeader]: headers[messageIdHeader] as string };
  delete headers[messageIdHeader];

  const body: SendGridMailBody = { personalizations: [personalization], from: toAddress(mail.from), subject: mail.subject };
  if (mail.replyTo.length === 1) body.reply_to = toAddress(mail.replyTo[0] as MailAddress);
  else if (mail.replyTo.length > 1) body.reply_to_list = mail.replyTo.map(toAddress);
  const content: NonNullable<SendGridMailBody['content']> = [];
  // SendGrid wants text/plain before text/html.
  if (mail.text !== undefined && mail.text !== '') content.push({ type: 'text/plain', value: mail.text });
  if (mail.html !== undefined && mail.html !== '') content.push({ type: 'text/html', value: mail.html });
  if (mail.icalEvent) content.push({ type: calendarContentType(mail.icalEvent, { charset: false }), value: mail.icalEvent.content });
  if (content.length) body.content = content;
  const attachments: SendGridAttachment[] = (await resolveAttachments(mail)).map((a) => ({
    content: a.content.toString('base64'),
    filename: a.filename,
    type: a.contentType,
    disposition: a.disposition,
    ...(a.cid ? { content_id: a.cid } : {}),
  }));
  if (mail.icalEvent) {
    attachments.push({ content: Buffer.from(mail.icalEvent.content).toString('base64'), filename: mail.icalEvent.filename, type: 'application/ics', disposition: 'attachment' });
  }
  if (attachments.length) body.attachments = attachments;
  if (mail.tags.length) body.categories = [...mail.tags];
  if (Object.keys(headers).length) body.headers = headers;
  if (Object.keys(mail.metadata).length) body.custom_args = { ...mail.metadata };
  return body;
}
