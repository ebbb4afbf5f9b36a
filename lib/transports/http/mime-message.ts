import MailComposer from 'nodemailer/lib/mail-composer';
import type { Attachment, OutgoingMail } from '../../core/mail.types.js';
import { attachmentBytes, formatAddress } from './mail-parts.js';

/** An attachment as the message gets it: its content in hand (`encoding` says how a string is encoded). */
export type MimeAttachment = Omit<Attachment, 'content'> & { content: Buffer | string };

/**
 * The RFC 5322 message of a mail, built by nodemailer's MailComposer with file and URL access off,
 * the calendar invite as nodemailer writes it, and Bcc not written. Used where a transport or a tool
 * needs the whole message outside the SMTP transport (SES raw sends, captured mail, the preview);
 * `headers` are the caller's (which derived fields it writes), `attachments` replace the mail's own
 * when given (the preview shows kept content).
 */
export async function buildMimeMessage(mail: OutgoingMail, headers: Record<string, string>, attachments?: readonly MimeAttachment[]): Promise<Buffer> {
  const parts = attachments ?? await Promise.all(mail.attachments.map(async (a): Promise<MimeAttachment> => ({ ...a, content: await attachmentBytes(a), encoding: undefined })));
  const composer = new MailComposer({
    from: formatAddress(mail.from),
    to: mail.to.map(formatAddress),
    cc: mail.cc.map(formatAddress),
    replyTo: mail.replyTo.length ? mail.replyTo.map(formatAddress) : undefined,
    subject: mail.subject,
    text: mail.text,
    html: mail.html,
    messageId: mail.messageId,
    headers,
    attachments: parts.map((a) => ({
      filename: a.filename,
      content: a.content,
      ...(a.encoding ? { encoding: a.encoding } : {}),
      contentType: a.contentType,
      contentDisposition: a.contentDisposition,
      ...(a.cid ? { cid: a.cid } : {}),
      ...(a.headers ? { headers: a.headers } : {}),
    })),
    ...(mail.icalEvent ? { icalEvent: { method: mail.icalEvent.method, filename: mail.icalEvent.filename, content: mail.icalEvent.content } } : {}),
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  return composer.compile().build();
}
