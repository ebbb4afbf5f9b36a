import { randomUUID } from 'node:crypto';
import { access, constants } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import addressparser from 'nodemailer/lib/addressparser';
import type {
  AddressInput, AddressListInput, Attachment, AttachmentInput, ListUnsubscribe, Mail, MailAddress, OutgoingMail,
} from '../core/mail.types.js';
import { InvalidMailError } from '../errors/mailer.error.js';
import { assertCalendarEvent, resolveCalendarEvent } from './calendar/calendar.event.js';
import { assertDkimSignatures, resolveMailDkim } from './dkim/dkim.options.js';

/** Values applied to every mail that does not set them. */
export interface MailDefaults {
  from?: AddressInput;
  replyTo?: AddressListInput;
  headers?: Record<string, string>;
}

/** What a mail may ask the server to read on its behalf. Both are off: user input must not reach files or internal URLs. */
export interface AttachmentPolicy {
  /** Allow `attachments[].path` pointing at a local file. Default false. */
  allowFilePaths?: boolean;
  /** Allow `attachments[].path` with an http(s) URL, fetched at send time. Default false. */
  allowUrls?: boolean;
  /** Milliseconds to fetch an attachment URL. Default 10 000. */
  urlTimeout?: number;
}

const CRLF = /[\r\n]/;
// RFC 5322 field names: printable US-ASCII except colon.
const HEADER_NAME = /^[\x21-\x39\x3b-\x7e]+$/;
// Local part and domain: no spaces, no control characters, one @ with something on both sides.
const ADDRESS = /^[^\s@\x00-\x1f\x7f<>()[\]\\,;:"]+@[^\s@\x00-\x1f\x7f<>()[\]\\,;:"]+$/u;
const QUOTED_LOCAL_ADDRESS = /^"[^"\r\n]+"@[^\s@\x00-\x1f\x7f<>()[\]\\,;:"]+$/u;

function refuseLineBreak(value: string | undefined, field: string): void {
  if (value !== undefined && CRLF.test(value)) {
    throw new InvalidMailError(`${field} contains a line break; header injection is refused and nothing was sent.`, field);
  }
}

function checkAddress(address: string, field: string): void {
  if (!ADDRESS.test(address) && !QUOTED_LOCAL_ADDRESS.test(address)) {
    throw new InvalidMailError(`${field}: "${address}" is not a valid e-mail address.`, field);
  }
  const domain = address.slice(address.lastIndexOf('@') + 1);
  if (domain.startsWith('.') || domain.endsWith('.') || domain.includes('..')) {
    throw new InvalidMailError(`${field}: "${address}" has a malformed domain.`, field);
  }
}

// The common shapes, `a@b.example` and `Name <a@b.example>`, skip the full RFC 5322 parser.
const SIMPLE_ADDRESS = /^\s*([^\s@<>"(),;:\\]+@[^\s@<>"(),;:\\]+)\s*$/u;
const SIMPLE_NAMED = /^\s*([^<>"(),;:\\@]*?)\s*<([^\s@<>"(),;:\\]+@[^\s@<>"(),;:\\]+)>\s*$/u;

function parseAddressString(item: string, field: string, out: MailAddress[]): void {
  const simple = SIMPLE_ADDRESS.exec(item);
  if (simple) {
    checkAddress(simple[1]!, field);
    out.push({ address: simple[1]! });
    return;
  }
  const named = SIMPLE_NAMED.exec(item);
  if (named) {
    checkAddress(named[2]!, field);
    out.push(named[1] ? { name: named[1], address: named[2]! } : { address: named[2]! });
    return;
  }
  const bracketed = item.includes('<');
  for (const parsed of addressparser(item, { flatten: true })) {
    // Without angle brackets a "name" is stray text around an address: refuse rather than guess.
    if (!parsed.address || (parsed.name && !bracketed)) {
      throw new InvalidMailError(`${field}: "${item}" is not a valid e-mail address.`, field);
    }
    checkAddress(parsed.address, field);
    out.push(parsed.name ? { name: parsed.name, address: parsed.address } : { address: parsed.address });
  }
}

function parseAddresses(input: AddressListInput | undefined, field: string): MailAddress[] {
  if (input === undefined || input === null || input === '') return [];
  const list = Array.isArray(input) ? input : [input];
  const out: MailAddress[] = [];
  for (const item of list) {
    if (typeof item === 'string') {
      refuseLineBreak(item, field);
      parseAddressString(item, field, out);
    } else if (item && typeof item === 'object' && typeof item.address === 'string') {
      refuseLineBreak(item.address, field);
      refuseLineBreak(item.name, `${field} name`);
      checkAddress(item.address.trim(), field);
      out.push(item.name ? { name: item.name, address: item.address.trim() } : { address: item.address.trim() });
    } else {
      throw new InvalidMailError(`${field}: expected an address string or { name, address }, got ${JSON.stringify(item)}.`, field);
    }
  }
  return out;
}

function listUnsubscribeHeaders(value: string | ListUnsubscribe): Record<string, string> {
  const spec: ListUnsubscribe = typeof value === 'string' ? { url: value } : value;
  const targets: string[] = [];
  const urls = spec.url === undefined ? [] : Array.isArray(spec.url) ? spec.url : [spec.url];
  const mailtos = spec.mailto === undefined ? [] : Array.isArray(spec.mailto) ? spec.mailto : [spec.mailto];
  for (const m of mailtos) targets.push(m.startsWith('mailto:') ? m : `mailto:${m}`);
  for (const u of urls) targets.push(u);
  if (!targets.length) throw new InvalidMailError('listUnsubscribe needs a url or a mailto target.', 'listUnsubscribe');
  for (const t of targets) {
    refuseLineBreak(t, 'listUnsubscribe');
    if (/[<>\s]/.test(t)) throw new InvalidMailError(`listUnsubscribe: "${t}" may not contain spaces or angle brackets.`, 'listUnsubscribe');
  }
  const headers: Record<string, string> = { 'List-Unsubscribe': targets.map((t) => `<${t}>`).join(', ') };
  if (spec.oneClick) {
    if (!urls.some((u) => u.startsWith('https://'))) {
      throw new InvalidMailError('listUnsubscribe.oneClick needs an https url (RFC 8058).', 'listUnsubscribe');
    }
    headers['List-Unsubscribe-Post'] = 'List-Unsubscribe=One-Click';
  }
  return headers;
}

async function readStream(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk as Buffer);
  return Buffer.concat(chunks);
}

function basename(path: string): string {
  const clean = path.split(/[?#]/)[0] ?? path;
  return decodeURIComponent(clean.slice(Math.max(clean.lastIndexOf('/'), clean.lastIndexOf('\\')) + 1));
}

/**
 * The bytes behind an attachment-style `path`: a local file when `allowFilePaths` is on, an
 * http(s) URL when `allowUrls` is on. Everything else is an InvalidMailError naming the option.
 */
async function readAllowedPath(path: string, field: string, policy: AttachmentPolicy): Promise<Buffer> {
  if (/^https?:\/\//i.test(path)) {
    if (!policy.allowUrls) {
      throw new InvalidMailError(`${field}: URLs are not fetched unless the module allows it, so nothing was sent. Allow them with the module option attachments: { allowUrls: true } (MailerModule.forRoot / forRootAsync), or give the content instead.`, field);
    }
    const response = await fetch(path, { signal: AbortSignal.timeout(policy.urlTimeout ?? 10_000) }).catch((error: unknown) => {
      throw new InvalidMailError(`${field}: could not fetch ${path}: ${(error as Error).message}.`, field);
    });
    if (!response.ok) throw new InvalidMailError(`${field}: fetching ${path} answered HTTP ${response.status}.`, field);
    return Buffer.from(await response.arrayBuffer());
  }
  if (/^[a-z][a-z0-9+.-]*:/i.test(path) && !/^[a-z]:[\\/]/i.test(path) && !path.startsWith('file:')) {
    throw new InvalidMailError(`${field}: unsupported attachment path scheme in "${path}".`, field);
  }
  if (!policy.allowFilePaths) {
    throw new InvalidMailError(`${field}: file paths are not read unless the module allows it, so nothing was sent. Allow them with the module option attachments: { allowFilePaths: true } (MailerModule.forRoot / forRootAsync), or give the content instead.`, field);
  }
  const file = path.startsWith('file:') ? new URL(path) : path;
  try {
    await access(file, constants.R_OK);
  } catch {
    throw new InvalidMailError(`${field}: the file ${String(path)} cannot be read.`, field);
  }
  return readStream(createReadStream(file));
}

async function resolveAttachment(input: AttachmentInput, index: number, policy: AttachmentPolicy): Promise<Attachment> {
  const field = `attachments[${index}]`;
  if (!input || typeof input !== 'object') throw new InvalidMailError(`${field} must be an object.`, field);
  refuseLineBreak(input.filename, `${field}.filename`);
  refuseLineBreak(input.contentType, `${field}.contentType`);
  refuseLineBreak(input.cid, `${field}.cid`);
  for (const [k, v] of Object.entries(input.headers ?? {})) {
    if (!HEADER_NAME.test(k)) throw new InvalidMailError(`${field}.headers: "${k}" is not a valid header name.`, field);
    refuseLineBreak(String(v), `${field}.headers.${k}`);
  }
  let content = input.content;
  let filename = input.filename;
  if (content === undefined) {
    if (!input.path) throw new InvalidMailError(`${field} has neither content nor path.`, field);
    content = await readAllowedPath(input.path, field, policy);
    filename ??= basename(input.path);
  } else if (content instanceof Readable) {
    // Read once so that a retry or a failover can send the same bytes again.
    content = await readStream(content);
  } else if (typeof content !== 'string' && !Buffer.isBuffer(content)) {
    throw new InvalidMailError(`${field}.content must be a Buffer, a string or a readable stream.`, field);
  }
  return {
    filename,
    content,
    encoding: typeof content === 'string' ? input.encoding : undefined,
    contentType: input.contentType,
    cid: input.cid,
    contentDisposition: input.contentDisposition ?? (input.cid ? 'inline' : 'attachment'),
    headers: input.headers,
  };
}

function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1) || 'localhost';
}

/**
 * Applies defaults, parses addresses, resolves attachments and the calendar event, and reads and
 * checks the mail's own DKIM keys. Call `assertSafeMail()` on the result (after any listener has had
 * its say) before handing it to a transport: together they refuse every bad header value with
 * InvalidMailError before anything is sent.
 */
export async function composeMail(
  mail: Mail,
  rendered: { subject?: string; html?: string; text?: string },
  defaults: MailDefaults,
  policy: AttachmentPolicy,
): Promise<OutgoingMail> {
  if (!mail || typeof mail !== 'object') throw new InvalidMailError('send() expects a mail object.');
  const [from] = parseAddresses(mail.from ?? defaults.from, 'from');
  if (!from) throw new InvalidMailError('from is missing: set it on the mail or in the module defaults.', 'from');
  const to = parseAddresses(mail.to, 'to');
  const cc = parseAddresses(mail.cc, 'cc');
  const bcc = parseAddresses(mail.bcc, 'bcc');
  if (!to.length && !cc.length && !bcc.length) throw new InvalidMailError('the mail has no recipients (to, cc or bcc).', 'to');
  const replyTo = parseAddresses(mail.replyTo ?? defaults.replyTo, 'replyTo');

  const subject = mail.subject ?? rendered.subject ?? '';
  const headers: Record<string, string> = { ...defaults.headers, ...mail.headers };
  if (mail.listUnsubscribe !== undefined) Object.assign(headers, listUnsubscribeHeaders(mail.listUnsubscribe));

  const attachments = await Promise.all((mail.attachments ?? []).map((a, i) => resolveAttachment(a, i, policy)));
  const messageId = mail.messageId ?? `<${randomUUID()}@${domainOf(from.address)}>`;
  const envelope = {
    from: mail.envelope?.from ?? from.address,
    to: mail.envelope?.to ?? [...to, ...cc, ...bcc].map((a) => a.address),
  };
  const out: OutgoingMail = {
    messageId,
    from,
    to,
    cc,
    bcc,
    replyTo,
    subject,
    text: mail.text ?? rendered.text,
    html: mail.html ?? rendered.html,
    attachments,
    headers,
    tags: mail.tags ? [...mail.tags] : [],
    metadata: { ...mail.metadata },
    priority: mail.priority,
    envelope,
    template: mail.template,
  };
  if (mail.icalEvent !== undefined) out.icalEvent = await resolveCalendarEvent(mail.icalEvent, (path) => readAllowedPath(path, 'icalEvent', policy));
  if (mail.dkim !== undefined) out.dkim = await resolveMailDkim(mail.dkim);
  return out;
}

const PRIORITIES = new Set(['high', 'normal', 'low']);

/**
 * Checks an outgoing mail again (listeners may have changed it): every header value free of CR/LF,
 * the calendar event and the DKIM signatures still well-formed.
 */
export function assertSafeMail(mail: OutgoingMail): void {
  refuseLineBreak(mail.subject, 'subject');
  refuseLineBreak(mail.messageId, 'messageId');
  if (!/^<[^<>\s]+@[^<>\s]+>$/.test(mail.messageId)) {
    throw new InvalidMailError(`messageId must look like <id@domain>, got "${mail.messageId}".`, 'messageId');
  }
  const groups: Array<[string, MailAddress[]]> = [['from', [mail.from]], ['to', mail.to], ['cc', mail.cc], ['bcc', mail.bcc], ['replyTo', mail.replyTo]];
  for (const [field, list] of groups) {
    for (const a of list) {
      refuseLineBreak(a.address, field);
      refuseLineBreak(a.name, `${field} name`);
      checkAddress(a.address, field);
    }
  }
  if (!mail.envelope.to.length) throw new InvalidMailError('the mail has no recipients left.', 'to');
  for (const a of [mail.envelope.from, ...mail.envelope.to]) {
    refuseLineBreak(a, 'envelope');
    checkAddress(a, 'envelope');
  }
  for (const [k, v] of Object.entries(mail.headers)) {
    if (!HEADER_NAME.test(k)) throw new InvalidMailError(`headers: "${k}" is not a valid header name.`, 'headers');
    if (typeof v !== 'string') throw new InvalidMailError(`headers.${k} must be a string.`, 'headers');
    refuseLineBreak(v, `headers.${k}`);
  }
  for (const t of mail.tags) refuseLineBreak(t, 'tags');
  for (const [k, v] of Object.entries(mail.metadata)) {
    if (!HEADER_NAME.test(k)) throw new InvalidMailError(`metadata: "${k}" is not a valid key.`, 'metadata');
    refuseLineBreak(String(v), `metadata.${k}`);
  }
  if (mail.priority !== undefined && !PRIORITIES.has(mail.priority)) {
    throw new InvalidMailError(`priority must be high, normal or low, got ${JSON.stringify(mail.priority)}.`, 'priority');
  }
  assertCalendarEvent(mail.icalEvent);
  assertDkimSignatures(mail.dkim);
  if (mail.text === undefined && mail.html === undefined && !mail.attachments.length && !mail.icalEvent) {
    throw new InvalidMailError('the mail has no content: give text, html, a template, attachments or an icalEvent.', 'text');
  }
}
