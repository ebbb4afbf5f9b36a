import type { Envelope, MailAddress, OutgoingMail } from '../core/mail.types.js';
import type { SendResult } from '../core/send-result.types.js';

/** An attachment of a captured mail, read back from the message. */
export interface CapturedAttachment {
  filename?: string;
  contentType: string;
  /** `attachment`, or `inline` for an image the HTML shows through `cid:`. */
  disposition: string;
  cid?: string;
  content: Buffer;
  size: number;
}

/**
 * A mail the application sent while `MailerTestingModule` was imported: what the transport
 * received, the message built from it and read back (headers, bodies, attachments as they would
 * travel), what it was rendered from and what the send returned.
 */
export interface CapturedMail {
  messageId: string;
  from: MailAddress;
  to: MailAddress[];
  cc: MailAddress[];
  bcc: MailAddress[];
  replyTo: MailAddress[];
  subject: string;
  /** The text body as the message carries it; undefined when the mail has none. */
  text?: string;
  /** The HTML body as the message carries it (CSS inlined); undefined when the mail has none. */
  html?: string;
  attachments: CapturedAttachment[];
  /**
   * The message's header fields, names in lower case, values decoded (`subject`, `list-unsubscribe`,
   * `x-priority`, your own `headers`, and over SMTP `x-tags` and `x-metadata-*`). A field that
   * occurs twice has its values joined with a line feed.
   */
  headers: Record<string, string>;
  envelope: Envelope;
  tags: string[];
  metadata: Record<string, string>;
  /** The template the mail was rendered from. */
  template?: string;
  /** The context the template was rendered with. */
  context?: Record<string, unknown>;
  /** The locale the template was rendered in (`fr-CA`), when it had one. */
  locale?: string;
  /**
   * The transport that took the mail: a configured name (`default`, `bulk`), or a member of a
   * failover or round-robin transport (`default[1]`).
   */
  transport: string;
  /** What that transport is in the configuration (`smtp`, `postmark`, `ses`, …). */
  kind: string;
  /** What `send()` returned for this mail (its `rejected` lists suppressed and refused recipients). */
  result: SendResult;
  /** The message as RFC 5322 bytes, as an SMTP server would receive it (without DKIM signatures). */
  raw: Buffer;
  /** The mail as the transport received it, after interceptors and `mail.sending` listeners. */
  mail: OutgoingMail;
}

/** A string to equal, or a RegExp to match. */
export type TextPattern = string | RegExp;

/**
 * What a captured mail must have; every field given must hold. Strings are compared exactly
 * (addresses and header names case-insensitively), RegExps are tested.
 */
export interface MailMatch {
  /**
   * A recipient (To, Cc, Bcc or the envelope), or several that must all be recipients. A string is
   * an address (`ada@example.org`), a RegExp is tested against each address.
   */
  to?: TextPattern | readonly TextPattern[];
  /** The sender's address. */
  from?: TextPattern;
  subject?: TextPattern;
  text?: TextPattern;
  html?: TextPattern;
  /** The template name (`orders/receipt`). */
  template?: string;
  /** Values the template context must have; nested objects are compared the same way (partially). */
  context?: Record<string, unknown>;
  /** The locale the template was rendered in (`fr-CA`; `fr_ca` is read the same). */
  locale?: string;
  /** File names (or cids) of attachments that must all be there. */
  attachments?: readonly TextPattern[];
  /** Header fields that must be there with these values. */
  headers?: Readonly<Record<string, TextPattern>>;
  /** The transport's name; `default` also matches the members of a failover named `default`. */
  transport?: string;
}

/** A MailMatch, or a function that decides. */
export type MailMatcher = MailMatch | ((mail: CapturedMail) => boolean);

export interface WaitForOptions {
  /** Milliseconds to wait before failing. Default 2000, less than test runners' own time limits. */
  timeout?: number;
}
