import type { Attachment, AttachmentInput, ListUnsubscribe, MailAddress, OutgoingMail } from '../core/mail.types.js';
import { InvalidMailError } from '../errors/mailer.error.js';
import { assertCalendarEvent } from './calendar/calendar.event.js';
import { assertDkimSignatures } from './dkim/dkim.options.js';
import { checkAddress } from './mail-address.rules.js';
import { checkControlFree, checkHeaderName, checkHeaderText, checkUnfoldable } from './mail-header.rules.js';

const PRIORITIES = new Set(['high', 'normal', 'low']);
const DISPOSITIONS = new Set(['attachment', 'inline']);
// RFC 6838 §4.2: type and subtype names of at most 127 characters; parameters may follow.
const MIME_TYPE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\s*(?:;|$)/;
const MESSAGE_ID = /^<[^<>\s]+@[^<>\s]+>$/;

/** A display name and its address, as an address header writes them. */
function checkMailAddress(entry: MailAddress, field: string): void {
  if (!entry || typeof entry !== 'object') throw new InvalidMailError(`${field}: expected { name, address }.`, field);
  if (entry.name !== undefined) checkHeaderText(entry.name, `${field} name`, { before: ' "', after: '"', quoted: true });
  checkControlFree(entry.address, field);
  checkAddress(entry.address, field);
}

/** A custom header: its name, and its value as free text after `Name: `. */
function checkHeader(name: string, value: unknown, field: string): void {
  checkHeaderName(name, field);
  checkHeaderText(value, `${field}.${name}`, { before: `${name}: ` });
}

/** The List-Unsubscribe targets, each written whole as `<target>` (RFC 2369). */
export function checkUnsubscribeTarget(target: unknown, field = 'listUnsubscribe'): void {
  checkUnfoldable(target, field, 'List-Unsubscribe', { before: '<', after: '>,' });
  if (/[<>]/.test(target as string)) throw new InvalidMailError(`${field}: "${target as string}" may not contain angle brackets.`, field);
}

function checkListUnsubscribe(spec: ListUnsubscribe): void {
  if (!spec || typeof spec !== 'object') throw new InvalidMailError('listUnsubscribe: expected { url, mailto, oneClick }.', 'listUnsubscribe');
  for (const key of ['url', 'mailto'] as const) {
    const value = spec[key];
    for (const target of value === undefined ? [] : Array.isArray(value) ? value : [value]) checkUnsubscribeTarget(target, `listUnsubscribe.${key}`);
  }
}

/**
 * The header fields of one attachment: the file name (Content-Type `name=` and
 * Content-Disposition), the content type, the Content-ID, the disposition and its own headers.
 * Checked on what `send()` is given, before any content is read, and again on the composed mail.
 */
export function checkAttachmentHeaders(attachment: AttachmentInput | Attachment, field: string): void {
  if (!attachment || typeof attachment !== 'object') throw new InvalidMailError(`${field} must be an object.`, field);
  const { filename, contentType, cid, contentDisposition, headers } = attachment;
  if (filename !== undefined) checkHeaderText(filename, `${field}.filename`, { before: ' name="', after: '"', quoted: true });
  if (contentType !== undefined) {
    checkControlFree(contentType, `${field}.contentType`);
    if (!MIME_TYPE.test(contentType)) {
      throw new InvalidMailError(`${field}.contentType must be a MIME type such as "application/pdf" (type and subtype of at most 127 characters, RFC 6838), got "${contentType.slice(0, 60)}".`, `${field}.contentType`);
    }
  }
  if (cid !== undefined) {
    checkUnfoldable(cid, `${field}.cid`, 'Content-ID', { before: '<', after: '>' });
    if (/[<>]/.test(cid)) throw new InvalidMailError(`${field}.cid may not contain angle brackets; give the id alone ("logo@shop").`, `${field}.cid`);
  }
  if (contentDisposition !== undefined && !DISPOSITIONS.has(contentDisposition)) {
    const shown = typeof contentDisposition === 'string' ? JSON.stringify(contentDisposition).slice(0, 60) : typeof contentDisposition;
    throw new InvalidMailError(`${field}.contentDisposition must be "attachment" or "inline", got ${shown}; nothing was sent.`, `${field}.contentDisposition`);
  }
  if (headers !== undefined) {
    if (!headers || typeof headers !== 'object') throw new InvalidMailError(`${field}.headers must be an object of strings.`, `${field}.headers`);
    for (const [name, value] of Object.entries(headers)) checkHeader(name, value, `${field}.headers`);
  }
}

/**
 * Every field of an outgoing mail that ends up in a header, checked in one walk: no line break or
 * other control character anywhere, addresses valid and within RFC 5321's limits, header names
 * that are header names, free text that can be folded into lines of at most 998 octets (RFC 5322),
 * values that cannot be folded short enough, and the closed sets (priority, disposition, calendar
 * method) closed. Throws InvalidMailError naming the field.
 *
 * The fields: subject; from, to, cc, bcc, replyTo (names and addresses); the envelope; headers
 * (List-Unsubscribe among them once composed); the Message-ID; tags (`X-Tags` over SMTP) and
 * metadata (`X-Metadata-<key>`); priority (X-Priority, Importance); listUnsubscribe; each
 * attachment's filename, contentType, cid, contentDisposition and headers; the calendar invite's
 * method and filename; the DKIM signatures' domain and selector.
 */
export function assertHeaderFields(mail: OutgoingMail): void {
  if (!mail || typeof mail !== 'object') throw new InvalidMailError('expected a mail object.');
  checkHeaderText(mail.subject, 'subject', { before: 'Subject: ' });
  checkUnfoldable(mail.messageId, 'messageId', 'Message-ID');
  if (!MESSAGE_ID.test(mail.messageId)) {
    throw new InvalidMailError(`messageId must look like <id@domain>, got "${mail.messageId.slice(0, 60)}".`, 'messageId');
  }
  checkMailAddress(mail.from, 'from');
  for (const field of ['to', 'cc', 'bcc', 'replyTo'] as const) {
    const list = mail[field];
    if (!Array.isArray(list)) throw new InvalidMailError(`${field} must be a list of addresses.`, field);
    for (const entry of list) checkMailAddress(entry, field);
  }
  if (!mail.envelope || typeof mail.envelope !== 'object' || !Array.isArray(mail.envelope.to)) {
    throw new InvalidMailError('envelope must be { from, to: [] }.', 'envelope');
  }
  for (const [address, field] of [[mail.envelope.from, 'envelope.from'], ...mail.envelope.to.map((a) => [a, 'envelope.to'])] as Array<[string, string]>) {
    checkControlFree(address, field);
    checkAddress(address, field);
  }
  if (!mail.headers || typeof mail.headers !== 'object') throw new InvalidMailError('headers must be an object of strings.', 'headers');
  for (const [name, value] of Object.entries(mail.headers)) checkHeader(name, value, 'headers');
  if (!Array.isArray(mail.tags)) throw new InvalidMailError('tags must be a list of strings.', 'tags');
  for (const tag of mail.tags) checkControlFree(tag, 'tags');
  if (mail.tags.length) checkHeaderText(mail.tags.join(', '), 'tags', { before: 'X-Tags: ' });
  if (!mail.metadata || typeof mail.metadata !== 'object') throw new InvalidMailError('metadata must be an object of strings.', 'metadata');
  for (const [key, value] of Object.entries(mail.metadata)) {
    checkHeaderName(`X-Metadata-${key}`, 'metadata');
    checkHeaderText(String(value), `metadata.${key}`, { before: `X-Metadata-${key}: ` });
  }
  if (mail.priority !== undefined && !PRIORITIES.has(mail.priority)) {
    throw new InvalidMailError(`priority must be high, normal or low, got ${JSON.stringify(mail.priority)}.`, 'priority');
  }
  if (mail.listUnsubscribe !== undefined) checkListUnsubscribe(mail.listUnsubscribe);
  if (!Array.isArray(mail.attachments)) throw new InvalidMailError('attachments must be a list.', 'attachments');
  mail.attachments.forEach((attachment, index) => checkAttachmentHeaders(attachment, `attachments[${index}]`));
  assertCalendarEvent(mail.icalEvent);
  assertDkimSignatures(mail.dkim);
  for (const signature of mail.dkim ?? []) {
    checkControlFree(signature.domainName, 'dkim.domainName');
    checkControlFree(signature.keySelector, 'dkim.keySelector');
  }
}

/**
 * The last check before a transport, run after the interceptors and `mail.sending` listeners
 * (which may have changed anything): every header field (see assertHeaderFields), recipients
 * left, and some content.
 */
export function assertSafeMail(mail: OutgoingMail): void {
  assertHeaderFields(mail);
  if (!mail.envelope.to.length) throw new InvalidMailError('the mail has no recipients left.', 'to');
  if (mail.text === undefined && mail.html === undefined && !mail.attachments.length && !mail.icalEvent) {
    throw new InvalidMailError('the mail has no content: give text, html, a template, attachments or an icalEvent.', 'text');
  }
}
