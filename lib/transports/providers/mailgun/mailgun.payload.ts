import type { OutgoingMail } from '../../../core/mail.types.js';
import { perSendDkimFeature } from '../../dkim/dkim.options.js';
import { formatAddress, hasCustomEnvelope, outgoingHeaders, resolveAttachments } from '../../http/index.js';

/** One multipart field of `POST /v3/{domain}/messages`; repeated names are repeated parts. */
export type MailgunField =
  | { name: string; value: string }
  | { name: 'attachment' | 'inline'; file: { filename: string; content: Buffer; contentType: string } };

/** What in the mail Mailgun cannot carry, or undefined. */
export function mailgunUnsupportedFeature(mail: OutgoingMail): string | undefined {
  if (hasCustomEnvelope(mail)) return 'an envelope that differs from the From/To/Cc/Bcc headers';
  for (const attachment of mail.attachments) {
    if (attachment.headers && Object.keys(attachment.headers).length > 0) return 'per-attachment MIME headers';
  }
  if (mail.icalEvent) {
    return "a calendar invite (icalEvent): Mailgun's message API types attachments by file name and cannot carry the method parameter calendar clients need; send invites through Mailgun's SMTP relay (smtp://…@smtp.mailgun.org:587)";
  }
  if (mail.dkim?.length) return perSendDkimFeature('Mailgun');
  return undefined;
}

/**
 * OutgoingMail → Mailgun form fields. Headers go as `h:<Name>`, tags as repeated `o:tag`, metadata
 * as `v:<key>`. Mailgun takes an inline part's Content-ID from its filename, so a part with a cid
 * is named after the cid (the HTML's `cid:` reference then resolves); inline parts without a cid
 * keep their filename, which becomes their Content-ID.
 */
export async function buildMailgunFields(mail: OutgoingMail): Promise<MailgunField[]> {
  const fields: MailgunField[] = [{ name: 'from', value: formatAddress(mail.from) }];
  for (const a of mail.to) fields.push({ name: 'to', value: formatAddress(a) });
  for (const a of mail.cc) fields.push({ name: 'cc', value: formatAddress(a) });
  for (const a of mail.bcc) fields.push({ name: 'bcc', value: formatAddress(a) });
  fields.push({ name: 'subject', value: mail.subject });
  if (mail.text !== undefined) fields.push({ name: 'text', value: mail.text });
  if (mail.html !== undefined) fields.push({ name: 'html', value: mail.html });
  if (mail.replyTo.length) fields.push({ name: 'h:Reply-To', value: mail.replyTo.map(formatAddress).join(', ') });
  for (const [name, value] of Object.entries(outgoingHeaders(mail))) fields.push({ name: `h:${name}`, value });
  for (const a of await resolveAttachments(mail)) {
    const inline = a.disposition === 'inline' || a.cid !== undefined;
    fields.push({
      name: inline ? 'inline' : 'attachment',
      file: { filename: inline && a.cid ? a.cid : a.filename, content: a.content, contentType: a.contentType },
    });
  }
  for (const tag of mail.tags) fields.push({ name: 'o:tag', value: tag });
  for (const [key, value] of Object.entries(mail.metadata)) fields.push({ name: `v:${key}`, value });
  return fields;
}

/** The fields as a FormData body (Node's global FormData and Blob). */
export function toMailgunForm(fields: MailgunField[]): FormData {
  const form = new FormData();
  for (const field of fields) {
    if ('file' in field) {
      form.append(field.name, new Blob([field.file.content], { type: field.file.contentType }), field.file.filename);
    } else {
      form.append(field.name, field.value);
    }
  }
  return form;
}
