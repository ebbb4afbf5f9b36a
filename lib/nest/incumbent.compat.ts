import type { Readable } from 'node:stream';
import type { DkimConfig } from '../core/dkim.types.js';
import type { AddressListInput, AttachmentInput, CalendarEventInput, Envelope, Mail, MailPriority } from '../core/mail.types.js';
import type { SendResult } from '../core/send-result.types.js';
import { InvalidMailError } from '../errors/mailer.error.js';

type NodemailerAddress = string | { name?: string; address: string };
type NodemailerAddressList = NodemailerAddress | NodemailerAddress[];

/** A nodemailer attachment as apps pass it to `@nestjs-modules/mailer`. */
export interface IncumbentAttachment {
  filename?: string | false;
  content?: string | Buffer | Readable;
  path?: string;
  href?: string;
  encoding?: string;
  contentType?: string;
  cid?: string;
  contentDisposition?: 'attachment' | 'inline';
  headers?: Record<string, string>;
}

/** nodemailer's `icalEvent` object; `href` is a URL given apart from `path`. */
export interface IncumbentIcalEvent {
  method?: string;
  filename?: string;
  content?: string | Buffer;
  encoding?: string;
  path?: string;
  href?: string;
}

/** The message shape `@nestjs-modules/mailer`'s `sendMail()` takes: nodemailer's fields plus template, context, transporterName. */
export interface IncumbentSendMailOptions {
  from?: NodemailerAddress;
  sender?: NodemailerAddress;
  to?: NodemailerAddressList;
  cc?: NodemailerAddressList;
  bcc?: NodemailerAddressList;
  replyTo?: NodemailerAddressList;
  inReplyTo?: string;
  references?: string | string[];
  subject?: string;
  text?: string | Buffer;
  html?: string | Buffer;
  headers?: Record<string, string | string[] | { prepared?: boolean; value: string }> | Array<{ key: string; value: string }>;
  attachments?: IncumbentAttachment[];
  priority?: MailPriority;
  messageId?: string;
  date?: Date | string;
  list?: { unsubscribe?: string | string[]; [key: string]: unknown };
  envelope?: { from?: string; to?: string | string[] };
  template?: string;
  context?: Record<string, unknown>;
  transporterName?: string;
  /** The locale to render the template in, as `send()`'s `locale`. */
  locale?: string;
  /** A calendar invite: the iCalendar text, or nodemailer's `{ method, content | path | href, filename }`. */
  icalEvent?: string | Buffer | IncumbentIcalEvent;
  /** DKIM signatures for this mail, in nodemailer's names (its `{ keys: [...] }` form too). */
  dkim?: DkimConfig | { keys: DkimConfig; headerFieldNames?: string; skipFields?: string };
  [key: string]: unknown;
}

export interface IncumbentSentMessageInfo {
  messageId: string;
  envelope: Envelope;
  accepted: string[];
  rejected: string[];
  pending: string[];
  response: string;
  /** The full result, with per-recipient reply codes and the transport that delivered. */
  result: SendResult;
}

const KNOWN = new Set([
  'from', 'sender', 'to', 'cc', 'bcc', 'replyTo', 'inReplyTo', 'references', 'subject', 'text', 'html',
  'headers', 'attachments', 'priority', 'messageId', 'date', 'list', 'envelope', 'template', 'context',
  'transporterName', 'encoding', 'icalEvent', 'dkim', 'locale',
]);

/** nodemailer's icalEvent shapes as a CalendarEventInput; what does not fit is left for the checks to refuse. */
function icalEventOf(value: IncumbentSendMailOptions['icalEvent']): CalendarEventInput | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' || Buffer.isBuffer(value)) return { content: value };
  if (!value || typeof value !== 'object') return value as CalendarEventInput;
  const { href, encoding, method, ...rest } = value;
  const event = { ...rest } as CalendarEventInput & Record<string, unknown>;
  if (method !== undefined) event.method = method as CalendarEventInput['method'];
  if (encoding !== undefined) event.encoding = encoding as BufferEncoding;
  if (href !== undefined) {
    if (event.path !== undefined) throw new InvalidMailError('sendMail(): icalEvent has both path and href; give one.', 'icalEvent');
    event.path = href;
  }
  return event;
}

/** What to do instead, for fields of the incumbent's call that this module does not take. */
const FIELD_HINTS: Record<string, string> = {
  textTemplate: 'the text part of template <name> is <name>.text.hbs next to it',
  timeout: "one attempt is bounded by the transport's timeouts, all attempts by the retry deadline (send(mail, { retry: { deadline } }))",
  textEncoding: 'set textEncoding on the SMTP transport (?textEncoding=base64 or { textEncoding })',
};

const ATTACHMENT_KEYS = new Set(['filename', 'content', 'path', 'href', 'encoding', 'contentType', 'cid', 'contentDisposition', 'headers']);

/** nodemailer's `encoding`: text and html given as base64 or hex strings. */
function text(value: string | Buffer | undefined, encoding: string | undefined, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (typeof value !== 'string') {
    throw new InvalidMailError(`sendMail(): ${field} must be a string or a Buffer (a { path } body is not read); read the file and pass its content. Nothing was sent.`, field);
  }
  if (encoding === undefined || /^utf-?8$/i.test(encoding)) return value;
  return Buffer.from(value, encoding as BufferEncoding).toString('utf8');
}

/** `./welcome`, `welcome.hbs` and `welcome` all name the template `welcome`. */
function templateName(name: string): string {
  return name.replace(/\\/g, '/').replace(/^(\.\/)+/, '').replace(/\.(hbs|handlebars)$/i, '');
}

function headersOf(value: IncumbentSendMailOptions['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  if (!value) return out;
  const entries = Array.isArray(value) ? value.map((h) => [h.key, h.value] as const) : Object.entries(value);
  for (const [key, v] of entries) {
    if (Array.isArray(v)) {
      if (v.length !== 1) throw new InvalidMailError(`headers.${key}: repeated header values are not supported; join them or send one.`, 'headers');
      out[key] = String(v[0]);
    } else {
      out[key] = typeof v === 'object' && v !== null && 'value' in v ? String((v as { value: unknown }).value) : String(v);
    }
  }
  return out;
}

/** Maps the incumbent's call onto a Mail; fields it cannot carry are refused, never dropped. */
export function toIncumbentMail(options: IncumbentSendMailOptions): { mail: Mail; transport?: string } {
  if (!options || typeof options !== 'object') throw new InvalidMailError('sendMail() expects an options object.');
  const unknown = Object.keys(options).filter((k) => !KNOWN.has(k) && options[k] !== undefined);
  if (unknown.length) {
    const hints = unknown.filter((k) => FIELD_HINTS[k]).map((k) => ` ${k}: ${FIELD_HINTS[k]}.`).join('');
    throw new InvalidMailError(`sendMail(): ${unknown.join(', ')} ${unknown.length > 1 ? 'are' : 'is'} not supported; nothing was sent.${hints}`, unknown[0]);
  }
  const encoding = options.encoding as string | undefined;
  if (encoding !== undefined && (typeof encoding !== 'string' || !Buffer.isEncoding(encoding))) {
    throw new InvalidMailError(`sendMail(): encoding ${JSON.stringify(encoding)} is not a text encoding (utf-8, base64, hex, …); nothing was sent.`, 'encoding');
  }
  const headers = headersOf(options.headers);
  if (options.inReplyTo) headers['In-Reply-To'] = options.inReplyTo;
  if (options.references) headers.References = Array.isArray(options.references) ? options.references.join(' ') : options.references;
  if (options.date) headers.Date = (options.date instanceof Date ? options.date : new Date(options.date)).toUTCString();
  if (options.sender) headers.Sender = typeof options.sender === 'string' ? options.sender : options.sender.address;
  let listUnsubscribe: Mail['listUnsubscribe'];
  if (options.list) {
    for (const [key, value] of Object.entries(options.list)) {
      if (key === 'unsubscribe') {
        listUnsubscribe = { url: value as string | string[] };
      } else {
        const name = `List-${key.charAt(0).toUpperCase()}${key.slice(1)}`;
        headers[name] = (Array.isArray(value) ? value : [value]).map((v) => `<${String(v)}>`).join(', ');
      }
    }
  }
  options.attachments?.forEach((a, index) => {
    const extra = a && typeof a === 'object' ? Object.keys(a).filter((k) => !ATTACHMENT_KEYS.has(k) && (a as Record<string, unknown>)[k] !== undefined) : [];
    if (extra.length) {
      throw new InvalidMailError(`sendMail(): attachments[${index}].${extra[0]} is not supported (known: ${[...ATTACHMENT_KEYS].join(', ')}); nothing was sent.`, `attachments[${index}]`);
    }
  });
  const attachments: AttachmentInput[] | undefined = options.attachments?.map((a) => ({
    filename: a.filename === false ? undefined : a.filename,
    content: a.content,
    path: a.path ?? a.href,
    encoding: a.encoding as BufferEncoding | undefined,
    contentType: a.contentType,
    cid: a.cid,
    contentDisposition: a.contentDisposition,
    headers: a.headers,
  }));
  const envelopeTo = options.envelope?.to;
  const mail: Mail = {
    from: options.from,
    to: options.to as AddressListInput | undefined,
    cc: options.cc as AddressListInput | undefined,
    bcc: options.bcc as AddressListInput | undefined,
    replyTo: options.replyTo as AddressListInput | undefined,
    subject: options.subject,
    text: text(options.text, encoding, 'text'),
    html: text(options.html, encoding, 'html'),
    template: options.template ? templateName(options.template) : undefined,
    context: options.context,
    locale: options.locale,
    attachments,
    headers,
    priority: options.priority,
    messageId: options.messageId,
    listUnsubscribe,
    envelope: options.envelope
      ? { from: options.envelope.from, to: envelopeTo === undefined ? undefined : Array.isArray(envelopeTo) ? envelopeTo : [envelopeTo] }
      : undefined,
    icalEvent: icalEventOf(options.icalEvent),
    dkim: options.dkim as DkimConfig | undefined,
  };
  return { mail, transport: options.transporterName };
}
