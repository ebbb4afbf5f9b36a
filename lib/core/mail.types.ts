import type { Readable } from 'node:stream';
import type { DkimConfig, DkimSignature } from './dkim.types.js';

/** `"Ada <ada@example.com>"`, `"ada@example.com"` or `{ name, address }`. */
export type AddressInput = string | MailAddress;

export interface MailAddress {
  /** Display name; any Unicode is fine, it is encoded on the wire. */
  name?: string;
  /** The address itself. UTF-8 local parts and IDN domains are accepted. */
  address: string;
}

export type AddressListInput = AddressInput | AddressInput[];

export interface AttachmentInput {
  filename?: string;
  /** Buffer, string or readable stream. */
  content?: Buffer | string | Readable;
  /** How a string `content` is encoded: 'base64', 'hex', 'utf8' (default). */
  encoding?: BufferEncoding;
  /**
   * A file path or URL to read the content from. Refused unless the module enables
   * `attachments.allowFilePaths` / `attachments.allowUrls`, so user input can never make the
   * server read its own files or fetch internal URLs.
   */
  path?: string;
  contentType?: string;
  /** Content-ID for inline images: reference it in HTML as `<img src="cid:VALUE">`. */
  cid?: string;
  contentDisposition?: 'attachment' | 'inline';
  headers?: Record<string, string>;
}

export type MailPriority = 'high' | 'normal' | 'low';

/** iTIP methods (RFC 5546): what the recipient's calendar should do with the event. */
export type CalendarMethod = 'PUBLISH' | 'REQUEST' | 'REPLY' | 'ADD' | 'CANCEL' | 'REFRESH' | 'COUNTER' | 'DECLINECOUNTER';

/**
 * A calendar invite (iCalendar, RFC 5545), sent the way nodemailer's `icalEvent` sends it: a
 * `text/calendar; method=…` alternative next to the text and HTML, plus the same file attached.
 */
export interface CalendarEventInput {
  /**
   * The iTIP method, any case (`request`, `CANCEL`, …). Default: the METHOD line of the content,
   * else PUBLISH. When both are given they must agree (RFC 6047 §2.4).
   */
  method?: CalendarMethod | Lowercase<CalendarMethod>;
  /** Name of the attached file. Default `invite.ics`. */
  filename?: string;
  /** The iCalendar text (UTF-8), starting with BEGIN:VCALENDAR. Give this or `path`. */
  content?: string | Buffer;
  /** How a string `content` is encoded: 'base64', 'hex', 'utf8' (default). */
  encoding?: BufferEncoding;
  /** A file path or URL to read the content from, under the same rules as `attachments[].path`. */
  path?: string;
}

/** A calendar invite after composing: method known, content read and checked. */
export interface CalendarEvent {
  method: CalendarMethod;
  filename: string;
  /** The iCalendar text. */
  content: string;
}

export interface ListUnsubscribe {
  /** mailto: or https: targets, written into List-Unsubscribe in the order given. */
  url?: string | string[];
  mailto?: string | string[];
  /** Adds `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058). Requires an https url. */
  oneClick?: boolean;
}

/** What an application hands to `MailerService.send()`. */
export interface Mail {
  from?: AddressInput;
  to?: AddressListInput;
  cc?: AddressListInput;
  bcc?: AddressListInput;
  replyTo?: AddressListInput;
  subject?: string;
  text?: string;
  html?: string;
  /** Template name relative to the templates folder, without extension (`"orders/receipt"`). */
  template?: string;
  /** Values for the template; also used to render a subject template. */
  context?: Record<string, unknown>;
  /** Layout for this mail: a name from the layouts folder, or `false` for none. */
  layout?: string | false;
  /**
   * The recipient's locale, a BCP 47 tag (`fr-CA`; `fr_CA` and `fr-ca` are read the same): the
   * template is rendered from `<name>.fr-CA.hbs`, else `<name>.fr.hbs`, else `<name>.hbs` (HTML,
   * subject and text part each), and `{{t}}`, `{{number}}`, `{{date}}`, … use it. Default: the
   * module's `locale` option. A tag that is not well-formed is an InvalidMailError.
   */
  locale?: string;
  attachments?: AttachmentInput[];
  headers?: Record<string, string>;
  /** Provider tags (SendGrid categories, Postmark Tag, Mailgun o:tag, …); an `X-Tags` header over SMTP. */
  tags?: string[];
  /** Provider metadata (custom args); `X-Metadata-*` headers over SMTP. */
  metadata?: Record<string, string>;
  priority?: MailPriority;
  listUnsubscribe?: string | ListUnsubscribe;
  /** A Message-ID to use instead of a generated one (kept across retries and failover). */
  messageId?: string;
  /** Envelope sender/recipients when they must differ from the headers. */
  envelope?: { from?: string; to?: string[] };
  /**
   * A calendar invite. Carried over SMTP, SES, SendGrid, Postmark and Resend; Mailgun's API cannot
   * carry it and refuses with UnsupportedFeatureError. See docs/transports.md.
   */
  icalEvent?: CalendarEventInput;
  /**
   * DKIM signatures for this mail, added to the transport's own (a signature for the same domain
   * and selector replaces the transport's). Only transports that build the message themselves
   * (SMTP, SES) can sign; the others refuse with UnsupportedFeatureError. See docs/transports.md.
   */
  dkim?: DkimConfig;
}

/** A normalized attachment: content is always present, never a path the caller did not allow. */
export interface Attachment {
  filename?: string;
  content: Buffer | string | Readable;
  encoding?: BufferEncoding;
  contentType?: string;
  cid?: string;
  contentDisposition: 'attachment' | 'inline';
  headers?: Record<string, string>;
  /** Set only when the module allows paths or URLs; the SMTP transport hands it to nodemailer. */
  path?: string;
}

/**
 * A mail after defaults, rendering and validation: what a transport receives. Addresses are
 * parsed, header values are checked for CR/LF, and a Message-ID is fixed.
 */
export interface OutgoingMail {
  messageId: string;
  from: MailAddress;
  to: MailAddress[];
  cc: MailAddress[];
  bcc: MailAddress[];
  replyTo: MailAddress[];
  subject: string;
  text?: string;
  html?: string;
  attachments: Attachment[];
  headers: Record<string, string>;
  tags: string[];
  metadata: Record<string, string>;
  priority?: MailPriority;
  listUnsubscribe?: ListUnsubscribe;
  envelope: Envelope;
  /** Template name when the mail was rendered from one (for logs and events). */
  template?: string;
  /** The locale the template was rendered in, normalized (`fr-CA`), when it had one. */
  locale?: string;
  /** The calendar invite, read and checked. */
  icalEvent?: CalendarEvent;
  /** The mail's own DKIM signatures (keys parsed); the transport adds its own when it signs. */
  dkim?: DkimSignature[];
}

export interface Envelope {
  from: string;
  to: string[];
}
