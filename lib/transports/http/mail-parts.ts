import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { detectMimeType } from 'nodemailer/lib/mime-funcs';
import type { Attachment, MailAddress, OutgoingMail } from '../../core/mail.types.js';
import { InvalidMailError } from '../../errors/mailer.error.js';

/** An attachment with its bytes in hand, ready for any provider's payload. */
export interface ResolvedAttachment {
  filename: string;
  content: Buffer;
  contentType: string;
  disposition: 'attachment' | 'inline';
  cid?: string;
  headers?: Record<string, string>;
}

/** RFC 5322 specials that force a display name into a quoted string. */
const SPECIALS = /["\\,;:<>@()[\].]/;

/**
 * `Name <address>` with the name quoted when it holds characters outside RFC 5322 atext (a comma
 * or a dot in a display name would otherwise split or break the address list on the provider's side).
 * Non-ASCII names are left as UTF-8: the JSON and multipart APIs encode them on the wire.
 */
export function formatAddress(address: MailAddress): string {
  const name = address.name?.trim();
  if (!name) return address.address;
  return `${SPECIALS.test(name) ? `"${name.replace(/(["\\])/g, '\\$1')}"` : name} <${address.address}>`;
}

/** The address part of a Message-ID or provider id, without angle brackets. */
export function stripAngleBrackets(id: string): string {
  return id.trim().replace(/^<(.*)>$/, '$1');
}

/**
 * True when the envelope differs from what the headers say (another sender, or recipients that are
 * not exactly To + Cc + Bcc). API providers derive the envelope from the header fields, so most
 * cannot carry such a mail.
 */
export function hasCustomEnvelope(mail: OutgoingMail): boolean {
  const lower = (s: string): string => s.toLowerCase();
  if (mail.envelope.from && lower(mail.envelope.from) !== lower(mail.from.address)) return true;
  const headerRecipients = new Set([...mail.to, ...mail.cc, ...mail.bcc].map((a) => lower(a.address)));
  const envelopeRecipients = new Set(mail.envelope.to.map(lower));
  if (headerRecipients.size !== envelopeRecipients.size) return true;
  for (const r of envelopeRecipients) if (!headerRecipients.has(r)) return true;
  return false;
}

/** The headers a mail implies beyond its own `headers`: priority and List-Unsubscribe (RFC 2369, RFC 8058). */
export function derivedHeaders(mail: OutgoingMail): Record<string, string> {
  const headers: Record<string, string> = {};
  if (mail.priority === 'high') {
    headers['X-Priority'] = '1 (Highest)';
    headers['X-MSMail-Priority'] = 'High';
    headers['Importance'] = 'High';
  } else if (mail.priority === 'low') {
    headers['X-Priority'] = '5 (Lowest)';
    headers['X-MSMail-Priority'] = 'Low';
    headers['Importance'] = 'Low';
  }
  const list = mail.listUnsubscribe;
  if (list) {
    const asArray = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
    const targets = [
      ...asArray(list.url),
      ...asArray(list.mailto).map((m) => (m.toLowerCase().startsWith('mailto:') ? m : `mailto:${m}`)),
    ];
    if (targets.length > 0) headers['List-Unsubscribe'] = targets.map((t) => `<${t}>`).join(', ');
    if (list.oneClick) headers['List-Unsubscribe-Post'] = 'List-Unsubscribe=One-Click';
  }
  return headers;
}

/**
 * Every header the provider should put on the message: the mail's own headers, the derived ones
 * and the Message-ID. A header the mail sets itself wins over a derived one.
 */
export function outgoingHeaders(mail: OutgoingMail, options: { messageId?: boolean } = {}): Record<string, string> {
  const headers: Record<string, string> = { ...derivedHeaders(mail) };
  for (const [name, value] of Object.entries(mail.headers)) {
    for (const existing of Object.keys(headers)) if (existing.toLowerCase() === name.toLowerCase()) delete headers[existing];
    headers[name] = value;
  }
  if (options.messageId !== false && !Object.keys(headers).some((h) => h.toLowerCase() === 'message-id')) {
    headers['Message-ID'] = mail.messageId;
  }
  return headers;
}

/**
 * A readable stream can be read once; a retry or a failover hands the same mail (and the same
 * stream object) to a transport again, so the bytes are kept for as long as the stream lives.
 */
const streamContent = new WeakMap<Readable, Promise<Buffer>>();

async function readStream(stream: Readable): Promise<Buffer> {
  let pending = streamContent.get(stream);
  if (!pending) {
    pending = (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array));
      return Buffer.concat(chunks);
    })();
    streamContent.set(stream, pending);
  }
  return pending;
}

async function readPath(path: string): Promise<Buffer> {
  if (/^https?:\/\//i.test(path)) {
    const response = await fetch(path);
    if (!response.ok) throw new Error(`Attachment ${path} could not be fetched: HTTP ${response.status}`);
    return Buffer.from(await response.arrayBuffer());
  }
  return readFile(path.startsWith('file://') ? new URL(path) : path);
}

/**
 * The bytes of an attachment: its `content`, or — when a mail arrives without content but with a
 * `path` the module allowed — the file or URL it names. A file, URL or stream that cannot be read
 * is an `InvalidMailError`: nothing was sent, and sending the same mail again would fail the same way.
 */
export async function attachmentBytes(attachment: Attachment): Promise<Buffer> {
  try {
    return await readContent(attachment);
  } catch (cause) {
    const label = attachment.filename ?? attachment.cid ?? 'an attachment';
    const detail = cause instanceof Error ? cause.message : String(cause);
    const error = new InvalidMailError(`The attachment ${label} could not be read: ${detail}`, 'attachments');
    (error as Error).cause = cause;
    throw error;
  }
}

async function readContent(attachment: Attachment): Promise<Buffer> {
  const { content } = attachment;
  if ((content === undefined || content === null) && attachment.path) return readPath(attachment.path);
  if (Buffer.isBuffer(content)) return content;
  if (typeof content === 'string') return Buffer.from(content, attachment.encoding ?? 'utf8');
  if (content instanceof Readable || (content && typeof (content as Readable).pipe === 'function')) return readStream(content as Readable);
  return Buffer.alloc(0);
}

/** Reads every attachment, fills in a filename and a content type when the mail left them out. */
export async function resolveAttachments(mail: OutgoingMail): Promise<ResolvedAttachment[]> {
  return Promise.all(mail.attachments.map(async (attachment, index) => {
    const extensionType = attachment.filename ? detectMimeType(attachment.filename) : undefined;
    const contentType = attachment.contentType ?? extensionType ?? 'application/octet-stream';
    const filename = attachment.filename ?? (attachment.cid ? attachment.cid : `attachment-${index + 1}`);
    const resolved: ResolvedAttachment = {
      filename,
      content: await attachmentBytes(attachment),
      contentType,
      disposition: attachment.contentDisposition,
    };
    if (attachment.cid) resolved.cid = attachment.cid;
    if (attachment.headers && Object.keys(attachment.headers).length > 0) resolved.headers = attachment.headers;
    return resolved;
  }));
}

/** Addresses of To, Cc and Bcc in that order, as the provider will accept them. */
export function allRecipients(mail: OutgoingMail): string[] {
  return [...mail.to, ...mail.cc, ...mail.bcc].map((a) => a.address);
}
