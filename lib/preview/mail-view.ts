import { simpleParser, type ParsedMail } from 'mailparser';
import type { Attachment, MailAddress, OutgoingMail } from '../core/mail.types.js';
import { buildMimeMessage, formatAddress, outgoingHeaders } from '../transports/http/index.js';

/**
 * Set on an attachment part whose bytes the preview does not have: a stream the transport has
 * read, or a file the transport was allowed to read. The preview never reads either itself.
 */
const NOT_KEPT_HEADER = 'X-Mailroom-Preview';
const NOT_KEPT_VALUE = 'content not kept (a stream or a file read at send time)';

/** Raster formats a browser shows without running anything; other types are downloaded. */
const INLINE_IMAGE = /^image\/(?:png|jpeg|gif|webp|avif|bmp)$/i;

export interface MailViewAttachment {
  index: number;
  filename?: string;
  contentType: string;
  size: number;
  cid?: string;
  /** Shown in the page (a raster image); anything else is served as a download. */
  inline: boolean;
  /** The preview does not have the bytes (see NOT_KEPT_VALUE). */
  notKept?: boolean;
}

/** What the UI shows of one mail, preview or sent; the HTML, source and attachments have routes of their own. */
export interface MailView {
  messageId: string;
  subject: string;
  from: string;
  to: string[];
  cc: string[];
  bcc: string[];
  replyTo: string[];
  envelope: { from: string; to: string[] };
  date?: string;
  template?: string;
  /** The top-level header fields of the message, in order, unfolded. */
  headers: Array<{ name: string; value: string }>;
  text?: string;
  hasHtml: boolean;
  attachments: MailViewAttachment[];
  /** Bytes of the message source. */
  size: number;
}

/** A message built and parsed once, for every tab of the UI. */
export interface BuiltMail {
  mail: OutgoingMail;
  raw: Buffer;
  parsed: ParsedMail;
}

function keptContent(attachment: Attachment): Buffer | string | undefined {
  const { content } = attachment;
  return Buffer.isBuffer(content) || typeof content === 'string' ? content : undefined;
}

/**
 * The mail with every attachment the preview may not read replaced by an empty part that says so.
 * Called when a mail is recorded: a stream is never read by the preview (the transport, or the
 * application's own test, owns it) and a path is never opened.
 */
export function withKeptAttachments(mail: OutgoingMail): OutgoingMail {
  if (mail.attachments.every((a) => keptContent(a) !== undefined)) return mail;
  return {
    ...mail,
    attachments: mail.attachments.map((a) => {
      if (keptContent(a) !== undefined) return a;
      const { path: _path, ...rest } = a;
      return { ...rest, content: Buffer.alloc(0), encoding: undefined, headers: { ...a.headers, [NOT_KEPT_HEADER]: NOT_KEPT_VALUE } };
    }),
  };
}

/**
 * The RFC 5322 message as the SMTP transport writes it (tags and metadata as X- headers, priority
 * headers, Bcc left out), built by nodemailer's MailComposer with file and URL access off. DKIM is not applied: the
 * preview never touches private keys.
 */
export async function buildMessage(mail: OutgoingMail): Promise<Buffer> {
  // Priority headers are nodemailer's Mailer's work, not MailComposer's: added here the same way.
  const headers: Record<string, string> = outgoingHeaders(mail, { messageId: false });
  if (mail.tags.length) headers['X-Tags'] = mail.tags.join(', ');
  for (const [key, value] of Object.entries(mail.metadata)) headers[`X-Metadata-${key}`] = value;
  const attachments = withKeptAttachments(mail).attachments.map((a) => ({ ...a, content: keptContent(a) ?? Buffer.alloc(0) }));
  return buildMimeMessage(mail, headers, attachments);
}

/**
 * Builds and parses the message. mailparser turns `cid:` references to image attachments into
 * `data:` URLs, so inline images show in a frame that may load nothing else.
 */
export async function buildMail(mail: OutgoingMail): Promise<BuiltMail> {
  const raw = await buildMessage(mail);
  const parsed = await simpleParser(raw, { skipHtmlToText: true, skipTextToHtml: true, skipTextLinks: true });
  return { mail, raw, parsed };
}

const address = (a: MailAddress): string => formatAddress(a);

/** The header block of the source, one entry per field, folded lines joined. */
function headerFields(parsed: ParsedMail): Array<{ name: string; value: string }> {
  return parsed.headerLines.map(({ line }) => {
    const colon = line.indexOf(':');
    return { name: line.slice(0, colon), value: line.slice(colon + 1).replace(/\r?\n[ \t]+/g, ' ').trim() };
  });
}

export function describeMail({ mail, raw, parsed }: BuiltMail): MailView {
  const view: MailView = {
    messageId: mail.messageId,
    subject: mail.subject,
    from: address(mail.from),
    to: mail.to.map(address),
    cc: mail.cc.map(address),
    bcc: mail.bcc.map(address),
    replyTo: mail.replyTo.map(address),
    envelope: { from: mail.envelope.from, to: [...mail.envelope.to] },
    headers: headerFields(parsed),
    hasHtml: typeof parsed.html === 'string',
    attachments: parsed.attachments.map((a, index) => {
      const item: MailViewAttachment = { index, contentType: a.contentType, size: a.size, inline: INLINE_IMAGE.test(a.contentType) };
      if (a.filename) item.filename = a.filename;
      if (a.cid) item.cid = a.cid;
      if (a.headers.get(NOT_KEPT_HEADER.toLowerCase())) item.notKept = true;
      return item;
    }),
    size: raw.length,
  };
  if (parsed.date) view.date = parsed.date.toISOString();
  if (mail.template) view.template = mail.template;
  if (typeof parsed.text === 'string') view.text = parsed.text;
  return view;
}

/** The attachment at `index` of the parsed message, with how to serve it. */
export function attachmentAt(built: BuiltMail, index: number): { content: Buffer; contentType: string; filename: string; inline: boolean } | undefined {
  const a = built.parsed.attachments[index];
  if (!a) return undefined;
  return {
    content: a.content,
    contentType: a.contentType,
    filename: a.filename ?? `attachment-${index + 1}`,
    inline: INLINE_IMAGE.test(a.contentType),
  };
}
