import { simpleParser } from 'mailparser';
import type { OutgoingMail } from '../core/mail.types.js';
import { buildMimeMessage, outgoingHeaders } from '../transports/http/index.js';
import type { CapturedAttachment } from './captured-mail.types.js';
import { decodeHeaderValue } from './header.decoder.js';

/** The message a capturing transport built from a mail, and what reading it back gave. */
export interface CapturedMessage {
  raw: Buffer;
  headers: Record<string, string>;
  text?: string;
  html?: string;
  attachments: CapturedAttachment[];
}

/**
 * Headers the transport of this kind would write: the mail's own and those it implies (priority,
 * List-Unsubscribe); over SMTP also tags and metadata, which the provider APIs carry as fields of
 * their own.
 */
function headersFor(mail: OutgoingMail, kind: string): Record<string, string> {
  const headers = outgoingHeaders(mail, { messageId: false });
  if (kind === 'smtp') {
    if (mail.tags.length) headers['X-Tags'] = mail.tags.join(', ');
    for (const [key, value] of Object.entries(mail.metadata)) headers[`X-Metadata-${key}`] = value;
  }
  return headers;
}

/**
 * Builds the RFC 5322 message with nodemailer's MailComposer (Bcc is not written) and reads it back
 * with mailparser, so that what a test sees is what would travel: encoded headers, the calendar
 * alternative, attachments with their content types.
 */
export async function captureMessage(mail: OutgoingMail, kind: string): Promise<CapturedMessage> {
  const raw = await buildMimeMessage(mail, headersFor(mail, kind));
  const parsed = await simpleParser(raw);
  const headers: Record<string, string> = {};
  for (const { key, line } of parsed.headerLines) {
    const value = decodeHeaderValue(line.slice(line.indexOf(':') + 1).trim());
    headers[key] = key in headers ? `${headers[key]}\n${value}` : value;
  }
  return {
    raw,
    headers,
    ...(parsed.text !== undefined ? { text: parsed.text } : {}),
    ...(typeof parsed.html === 'string' ? { html: parsed.html } : {}),
    attachments: parsed.attachments.map((a) => ({
      ...(a.filename !== undefined ? { filename: a.filename } : {}),
      contentType: a.contentType,
      disposition: a.contentDisposition ?? 'attachment',
      ...(a.cid ? { cid: a.cid } : {}),
      content: a.content,
      size: a.size,
    })),
  };
}
