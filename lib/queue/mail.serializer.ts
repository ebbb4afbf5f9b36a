import { KeyObject } from 'node:crypto';
import { Readable } from 'node:stream';
import type { DkimOptions } from '../core/dkim.types.js';
import type { AttachmentInput, CalendarEventInput, Mail } from '../core/mail.types.js';
import { InvalidMailError } from '../errors/mailer.error.js';

/**
 * A mail as it travels through Redis: plain JSON. Attachment and calendar contents given as a
 * Buffer or a stream are base64 strings (`encoding: 'base64'`); a DKIM key given as a Buffer is its
 * PEM text; Dates anywhere (in a template context, say) are ISO 8601 strings. `deserializeMail`
 * gives back a Mail that sends the same bytes.
 */
export type SerializedMail = Omit<Mail, 'attachments' | 'icalEvent' | 'dkim'> & {
  attachments?: SerializedAttachment[];
  icalEvent?: SerializedCalendarEvent;
  dkim?: SerializedDkimOptions[];
};

export type SerializedAttachment = Omit<AttachmentInput, 'content'> & { content?: string };

export type SerializedCalendarEvent = Omit<CalendarEventInput, 'content'> & { content?: string };

/** A DKIM signature on the queue: the key as PEM text, or better its `privateKeyPath`. */
export type SerializedDkimOptions = Omit<DkimOptions, 'privateKey'> & { privateKey?: string };

/** What a job carries. `v` lets a newer worker read what an older producer wrote. */
export interface MailJobData {
  v: 1;
  mail: SerializedMail;
  /** Transport name for `MailerService.send`; the worker's default when absent. */
  transport?: string;
  /** The tenant for the worker's `transportResolver` (`MailerService.send(mail, { tenant })`). */
  tenant?: string;
  /**
   * The trace context of the enqueuing request (W3C `traceparent` / `tracestate`, as the registered
   * propagator writes them), so that the worker's spans continue its trace. Absent without tracing.
   */
  trace?: Record<string, string>;
}

function refuse(path: string, what: string): never {
  throw new InvalidMailError(`${path}: ${what} cannot be put on the queue (only JSON values, Dates, Buffers and streams in attachments travel).`, path);
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * A JSON copy of `value` that loses nothing: a Date becomes its ISO string; anything JSON would
 * drop or change silently (a function, a symbol, a bigint, NaN, a Map, a class instance without
 * `toJSON`, a cycle) is refused with the path that holds it.
 */
function toJson(value: unknown, path: string, seen: Set<object>): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) refuse(path, `the number ${String(value)}`);
      return value;
    case 'undefined':
      return undefined;
    case 'function':
      return refuse(path, 'a function');
    case 'symbol':
      return refuse(path, 'a symbol');
    case 'bigint':
      return refuse(path, 'a bigint');
  }
  if (value === null) return null;
  const object = value as object;
  if (object instanceof Date) {
    if (Number.isNaN(object.getTime())) refuse(path, 'an invalid Date');
    return object.toISOString();
  }
  if (seen.has(object)) refuse(path, 'a circular reference');
  seen.add(object);
  try {
    if (Array.isArray(object)) return object.map((item, i) => toJson(item, `${path}[${i}]`, seen) ?? null);
    if (Buffer.isBuffer(object) || ArrayBuffer.isView(object)) refuse(path, 'binary data outside an attachment');
    if (object instanceof Readable) refuse(path, 'a stream outside an attachment');
    const toJSON = (object as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') return toJson(toJSON.call(object), path, seen);
    if (!isPlainObject(object)) refuse(path, `an instance of ${object.constructor?.name ?? 'an unknown class'}`);
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(object)) {
      const copy = toJson(item, `${path}.${key}`, seen);
      if (copy !== undefined) out[key] = copy;
    }
    return out;
  } finally {
    seen.delete(object);
  }
}

function isReadable(value: unknown): value is Readable {
  return value instanceof Readable
    || (typeof value === 'object' && value !== null && typeof (value as Readable).pipe === 'function' && typeof (value as Readable).on === 'function');
}

async function readFully(stream: Readable, path: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of stream as AsyncIterable<Buffer | string>) {
      chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk));
    }
  } catch (cause) {
    throw Object.assign(new InvalidMailError(`${path}: the attachment stream failed while it was read for the queue: ${(cause as Error).message}`, path), { cause });
  }
  return Buffer.concat(chunks);
}

async function serializeAttachment(input: AttachmentInput, path: string): Promise<SerializedAttachment> {
  if (!input || typeof input !== 'object') refuse(path, 'an attachment that is not an object');
  const { content, ...rest } = input;
  const out = toJson(rest, path, new Set()) as SerializedAttachment;
  if (content === undefined) return out;
  if (typeof content === 'string') return { ...out, content };
  if (Buffer.isBuffer(content) || content instanceof Uint8Array) {
    return { ...out, content: Buffer.from(content.buffer, content.byteOffset, content.byteLength).toString('base64'), encoding: 'base64' };
  }
  if (isReadable(content)) {
    const bytes = await readFully(content, `${path}.content`);
    return { ...out, content: bytes.toString('base64'), encoding: 'base64' };
  }
  return refuse(`${path}.content`, 'an attachment content that is neither a string, a Buffer nor a stream');
}

function serializeCalendarEvent(input: CalendarEventInput, path: string): SerializedCalendarEvent {
  if (!input || typeof input !== 'object' || Array.isArray(input)) refuse(path, 'an icalEvent that is not an object');
  const { content, ...rest } = input;
  const out = toJson(rest, path, new Set()) as SerializedCalendarEvent;
  if (content === undefined || typeof content === 'string') return content === undefined ? out : { ...out, content };
  if (Buffer.isBuffer(content)) return { ...out, content: content.toString('base64'), encoding: 'base64' };
  return refuse(`${path}.content`, 'a calendar content that is neither a string nor a Buffer');
}

/**
 * DKIM signatures as JSON: one entry per key (nodemailer's `{ keys }` form is spread out), a
 * Buffer key as its PEM text. A KeyObject cannot be written out, by design of node:crypto.
 */
function serializeDkim(input: unknown, path: string): SerializedDkimOptions[] {
  const list = Array.isArray(input) ? input : [input];
  return list.flatMap((item: unknown, index) => {
    const at = Array.isArray(input) ? `${path}[${index}]` : path;
    if (!item || typeof item !== 'object' || Array.isArray(item)) refuse(at, 'a DKIM entry that is not an object');
    const { keys, ...shared } = item as Record<string, unknown>;
    const entries = keys === undefined ? [item as Record<string, unknown>] : (Array.isArray(keys) ? keys : [keys]).map((k) => ({ ...shared, ...(k as object) }));
    return entries.map((entry) => {
      const { privateKey, ...rest } = entry;
      const out = toJson(rest, at, new Set()) as SerializedDkimOptions;
      if (privateKey === undefined || typeof privateKey === 'string') return privateKey === undefined ? out : { ...out, privateKey };
      if (Buffer.isBuffer(privateKey)) return { ...out, privateKey: privateKey.toString('utf8') };
      if (privateKey instanceof KeyObject) {
        throw new InvalidMailError(`${at}.privateKey: a KeyObject cannot be put on the queue; give privateKeyPath (the worker reads the file) or the PEM text.`, 'dkim');
      }
      return refuse(`${at}.privateKey`, 'a key that is neither PEM text nor a KeyObject');
    });
  });
}

/**
 * Turns a mail into job data. Streams in attachments are read to the end first. Throws
 * InvalidMailError for what cannot travel; the mail is left as it was given.
 */
export async function serializeMail(mail: Mail): Promise<SerializedMail> {
  if (!mail || typeof mail !== 'object' || Array.isArray(mail)) throw new InvalidMailError('enqueue() expects a mail object.');
  const { attachments, icalEvent, dkim, ...rest } = mail;
  const out = toJson(rest, 'mail', new Set()) as SerializedMail;
  if (icalEvent !== undefined) out.icalEvent = serializeCalendarEvent(icalEvent, 'mail.icalEvent');
  if (dkim !== undefined) out.dkim = serializeDkim(dkim, 'mail.dkim');
  if (attachments !== undefined) {
    if (!Array.isArray(attachments)) refuse('mail.attachments', 'a value that is not an array');
    const list: SerializedAttachment[] = [];
    for (let i = 0; i < attachments.length; i++) list.push(await serializeAttachment(attachments[i]!, `mail.attachments[${i}]`));
    out.attachments = list;
  }
  return out;
}

/** The Mail a worker sends. Serialized contents stay base64 strings with `encoding: 'base64'`. */
export function deserializeMail(data: SerializedMail): Mail {
  return data as Mail;
}

/** The domain of a `from` value (`"Ada <ada@example.com>"`, `"ada@example.com"`, `{ address }`), when it has one. */
export function fromDomain(from: unknown): string | undefined {
  let address: unknown = from;
  if (typeof from === 'object' && from !== null) address = (from as { address?: unknown }).address;
  if (typeof address !== 'string') return undefined;
  const bracketed = /<([^<>]*)>\s*$/.exec(address);
  const bare = (bracketed ? bracketed[1]! : address).trim();
  const at = bare.lastIndexOf('@');
  const domain = at > 0 ? bare.slice(at + 1) : '';
  return /^[^\s<>@"]+$/.test(domain) ? domain : undefined;
}
