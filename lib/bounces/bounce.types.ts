import type { BounceReason, Classification, DeliveryKind } from '../core/classification.types.js';

/** One recipient reported by a bounce, complaint or auto-reply e-mail. */
export interface BounceResult {
  recipient: string;
  classification: Classification;
  /** Message-ID of the message that bounced, when the report carries it. */
  originalMessageId?: string;
  /** The MTA that wrote the report (RFC 3464 Reporting-MTA, or the host named in the text). */
  reportingMta?: string;
  /** The remote MTA that refused the message, when known. */
  remoteMta?: string;
  /** When the original message arrived at the reporting MTA, as written in the report. */
  arrivalDate?: string;
  /** The remote text or the reporting MTA's explanation, white space collapsed. */
  diagnostic?: string;
}

/**
 * An automatic answer that is not a delivery failure: a challenge-response filter's request to
 * confirm the message, or an absence note.
 */
export interface BounceNotice {
  /** The address that answered: the recipient of the returned message, or its filter. */
  recipient: string;
  /** The first words of the answer, white space collapsed. */
  diagnostic?: string;
  /** Message-ID of the message it answers, when the answer carries it (In-Reply-To, the quoted message). */
  originalMessageId?: string;
}

/** Everything a returned e-mail says, sorted by what the sender should do about it. */
export interface BounceReport {
  /** Delivery failures, delay warnings and complaints, one per recipient: what a bounce handler acts on. */
  results: BounceResult[];
  /** Set when the mail is an automatic reply (vacation, out of office): the message was delivered. */
  autoReply?: BounceNotice;
  /** Set when the mail is a challenge-response filter asking the sender to confirm the message. */
  challenge?: BounceNotice;
  /** Recipients a delivery report names as delivered, relayed or expanded (reason `delivered`). */
  delivered: BounceResult[];
}

/** A MIME-parsed e-mail reduced to what the readers look at. */
export interface ParsedMail {
  /** Top-level header fields, names lower case, values as they came (unfolded, decoded). */
  readonly headers: ReadonlyMap<string, string>;
  readonly subject: string;
  /** Address part of From, lower case. */
  readonly from: string;
  /** From as written, display name included. */
  readonly fromRaw: string;
  /** Top-level content type, lower case, without parameters. */
  readonly contentType: string;
  /** `report-type` parameter of a multipart/report, lower case. */
  readonly reportType: string;
  /** Text of the human-readable parts (text/plain, or text/html converted), CRLF → LF. */
  readonly text: string;
  /** message/delivery-status or message/global-delivery-status body. */
  readonly deliveryStatus?: string;
  /** message/feedback-report body. */
  readonly feedbackReport?: string;
  /** The returned message or its headers (message/rfc822, text/rfc822-headers), raw. */
  readonly original?: string;
}

/** What a reader found about one recipient, before the reason is decided. */
export interface Finding {
  recipient: string;
  status?: string;
  replyCode?: number;
  diagnostic?: string;
  /** RFC 3464 diagnostic type (`smtp`, `x-unix`…), lower case. */
  diagnosticType?: string;
  /** SMTP command that was refused, upper case. */
  command?: string;
  /** RFC 3464 Action. */
  action?: string;
  remoteMta?: string;
  reportingMta?: string;
  arrivalDate?: string;
  /** A reason the format itself states (a vendor code, a known phrase of that MTA). */
  hint?: BounceReason;
  kind?: DeliveryKind;
  /** The comment of an RFC 3464 Status field, while the delivery-status part is read. */
  statusComment?: string;
  /** The mail is no failure report but a challenge-response filter's request to confirm the message. */
  notice?: 'challenge';
}

/**
 * A reader for one family of report formats. `read` returns the recipients it found, or an empty list
 * when the mail is not in its format (so the next reader is tried).
 */
export interface BounceFormatReader {
  readonly name: string;
  read(mail: ParsedMail, dsn: readonly Finding[]): Finding[];
}
