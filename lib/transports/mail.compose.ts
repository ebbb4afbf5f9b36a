import { randomUUID } from 'node:crypto';
import { access, constants } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import addressparser from 'nodemailer/lib/addressparser';
import type {
  AddressInput, AddressListInput, Attachment, AttachmentInput, ListUnsubscribe, Mail, MailAddress, OutgoingMail,
} from '../core/mail.types.js';
import { InvalidMailError } from '../errors/mailer.error.js';
import { resolveCalendarEvent } from './calendar/calendar.event.js';
import { resolveMailDkim } from './dkim/dkim.options.js';
import { checkAddress } from './mail-address.rules.js';
import { checkControlFree } from './mail-header.rules.js';
import { assertHeaderFields, checkAttachmentHeaders, checkUnsubscribeTarget } from './mail.check.js';

// Callers check the composed mail again with it once listeners have had their say.
export { assertSafeMail } from './mail.check.js';

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

// The common shapes, `a@b.example` and `Name <a@b.example>`, skip the full RFC 5322 parser, and so
// does a quoted local part (`"a..b"@example.com`), whose quotes that parser would drop.
const SIMPLE_ADDRESS = /^\s*((?:[^\s@<>"(),;:\\]+|"(?:[^"\\]|\\.)*")@[^\s@<>"(),;:\\]+)\s*$/u;
const SIMPLE_NAMED = /^\s*([^<>"(),;:\\@]*?)\s*<((?:[^\s@<>"(),;:\\]+|"(?:[^"\\]|\\.)*")@[^\s@<>"(),;:\\]+)>\s*$/u;

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
      // Before parsing: the parser would read a line break as a separator and keep what follows.
      checkControlFree(item, field);
      parseAddressString(item, field, out);
    } else if (item && typeof item === 'object' && typeof item.address === 'string') {
      // Before trimming, which would hide a trailing line break.
      checkControlFree(item.address, field);
      if (item.name !== undefined) checkControlFree(item.name, `${field} name`);
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
  for (const m of mailtos) {
    checkUnsubscribeTarget(m, 'listUnsubscribe.mailto');
    targets.push(m.startsWith('mailto:') ? m : `mailto:${m}`);
  }
  for (const u of urls) {
    checkUnsubscribeTarget(u, 'listUnsubscribe.url');
    targets.push(u);
  }
  if (!targets.length) throw new InvalidMailError('listUnsubscribe needs a url or a mailto target.', 'listUnsubscribe');
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

/** A record of strings as given, or nothing; anything else (a string would spread into its characters) is refused. */
function objectOf(value: unknown, field: string): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw new InvalidMailError(`${field} must be an object of strings.`, field);
  return value as Record<string, string>;
}

function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1) || 'localhost';
}

/**
 * Applies defaults, parses addresses, resolves attachments and the calendar event, reads and
 * checks the mail's own DKIM keys, and checks every header field of the result (assertHeaderFields).
 * Call `assertSafeMail()` on the result (after any listener has had its say) before handing it to a
 * transport: it runs the same field checks again, so a bad header value is an InvalidMailError
 * before anything is sent, whoever put it there.
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
  const headers: Record<string, string> = { ...objectOf(defaults.headers, 'defaults.headers'), ...objectOf(mail.headers, 'headers') };
  if (mail.listUnsubscribe !== undefined) Object.assign(headers, listUnsubscribeHeaders(mail.listUnsubscribe));
  if (mail.tags !== undefined && !Array.isArray(mail.tags)) throw new InvalidMailError('tags must be a list of strings.', 'tags');
  if (mail.attachments !== undefined && !Array.isArray(mail.attachments)) throw new InvalidMailError('attachments must be a list.', 'attachments');

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
    attachments: [],
    headers,
    tags: mail.tags ? [...mail.tags] : [],
    metadata: { ...objectOf(mail.metadata, 'metadata') },
    priority: mail.priority,
    envelope,
    template: mail.template,
  };
  // Every header field known so far, and every attachment's, before a file, URL or stream is read:
  // a mail refused for a header is refused without that work.
  assertHeaderFields(out);
  const inputs = mail.attachments ?? [];
  inputs.forEach((a, i) => checkAttachmentHeaders(a, `attachments[${i}]`));
  out.attachments = await Promise.all(inputs.map((a, i) => resolveAttachment(a, i, policy)));
  if (mail.icalEvent !== undefined) out.icalEvent = await resolveCalendarEvent(mail.icalEvent, (path) => readAllowedPath(path, 'icalEvent', policy));
  if (mail.dkim !== undefined) out.dkim = await resolveMailDkim(mail.dkim);
  assertHeaderFields(out);
  return out;
}
