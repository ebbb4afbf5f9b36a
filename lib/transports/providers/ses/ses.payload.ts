import type { DkimSignature } from '../../../core/dkim.types.js';
import type { OutgoingMail } from '../../../core/mail.types.js';
import { dkimRecord, listsField } from '../../dkim/dkim.options.js';
import { dkimSignBuffer } from '../../dkim/dkim.signer.js';
import { buildMimeMessage, hasCustomEnvelope, outgoingHeaders } from '../../http/index.js';
import type { SesSendEmailInput } from './ses.sdk.js';

/** SES's documented maximum of recipients (To + Cc + Bcc) per message. */
export const SES_MAX_RECIPIENTS = 50;
/** SES allows ASCII letters, digits, `_` and `-` in tag names and values, up to 256 characters. */
const TAG_TEXT = /^[A-Za-z0-9_-]{1,256}$/;
/** The value a plain mail tag gets, since SES tags are name/value pairs. */
export const SES_TAG_VALUE = 'true';

export interface SesPayloadOptions {
  /** Configuration set for event publishing. */
  configurationSetName?: string;
  /** Signatures to put on the raw message (the transport's and the mail's). */
  dkim?: readonly DkimSignature[];
}

/**
 * Fields SES rewrites or removes on the way out, so a signature over them would break: Amazon's
 * manual DKIM signing guide says not to sign them.
 */
export const SES_UNSIGNED_FIELDS = ['Message-ID', 'Date', 'Return-Path', 'Bounces-To'] as const;

/** The field of SES_UNSIGNED_FIELDS that a signature's header list names, if any. */
export function sesUnsignableField(signature: Pick<DkimSignature, 'headerFieldNames'>): string | undefined {
  return SES_UNSIGNED_FIELDS.find((field) => listsField(signature.headerFieldNames, field));
}

/** The signature with SES_UNSIGNED_FIELDS added to its skipped fields. */
function forSes(signature: DkimSignature): DkimSignature {
  const skip = [...new Set([...(signature.skipFields ? signature.skipFields.split(':') : []), ...SES_UNSIGNED_FIELDS])];
  return { ...signature, skipFields: skip.join(':') };
}

/** What in the mail SES cannot carry, or undefined. */
export function sesUnsupportedFeature(mail: OutgoingMail): string | undefined {
  if (mail.envelope.to.length > SES_MAX_RECIPIENTS) return `more than ${SES_MAX_RECIPIENTS} recipients`;
  for (const tag of mail.tags) {
    if (!TAG_TEXT.test(tag)) return `the tag "${tag}" (SES tags allow only ASCII letters, digits, _ and -, up to 256 characters)`;
    if (tag in mail.metadata) return `the tag "${tag}" next to a metadata key of the same name (both become SES tags)`;
  }
  for (const [key, value] of Object.entries(mail.metadata)) {
    if (!TAG_TEXT.test(key) || !TAG_TEXT.test(value)) return `the metadata entry "${key}" (SES tags allow only ASCII letters, digits, _ and -, up to 256 characters)`;
  }
  for (const signature of mail.dkim ?? []) {
    const field = sesUnsignableField(signature);
    if (field) return `a DKIM signature (${dkimRecord(signature)}) over ${field}, which SES rewrites on the way out (leave ${SES_UNSIGNED_FIELDS.join(', ')} out of headerFieldNames)`;
  }
  return undefined;
}

/**
 * The complete RFC 5322 message, built by nodemailer's MailComposer (Bcc is not written), with the
 * calendar invite as nodemailer writes it and, when signatures are given, DKIM-signed — without
 * the fields SES rewrites (SES_UNSIGNED_FIELDS).
 */
export async function buildSesMime(mail: OutgoingMail, dkim: readonly DkimSignature[] = []): Promise<Buffer> {
  const message = await buildMimeMessage(mail, outgoingHeaders(mail, { messageId: false }));
  return dkimSignBuffer(message, dkim.map(forSes));
}

/**
 * OutgoingMail → SendEmail input with `Content.Raw`, so attachments, inline images and every
 * header survive. The envelope goes in `Destination` (Bcc included); a custom envelope sender
 * becomes `FeedbackForwardingEmailAddress`, where SES sends bounces and complaints. Tags become
 * `{Name: tag, Value: "true"}`, metadata entries `{Name: key, Value}`. `options.dkim` signs the
 * message (see buildSesMime).
 */
export async function buildSesSendEmailInput(mail: OutgoingMail, options: SesPayloadOptions = {}): Promise<SesSendEmailInput> {
  const input: SesSendEmailInput = {
    FromEmailAddress: mail.from.address,
    Destination: hasCustomEnvelope(mail)
      ? { ToAddresses: [...mail.envelope.to] }
      : {
          ...(mail.to.length ? { ToAddresses: mail.to.map((a) => a.address) } : {}),
          ...(mail.cc.length ? { CcAddresses: mail.cc.map((a) => a.address) } : {}),
          ...(mail.bcc.length ? { BccAddresses: mail.bcc.map((a) => a.address) } : {}),
        },
    Content: { Raw: { Data: new Uint8Array(await buildSesMime(mail, options.dkim)) } },
  };
  if (mail.envelope.from && mail.envelope.from.toLowerCase() !== mail.from.address.toLowerCase()) {
    input.FeedbackForwardingEmailAddress = mail.envelope.from;
  }
  const tags = [
    ...mail.tags.map((Name) => ({ Name, Value: SES_TAG_VALUE })),
    ...Object.entries(mail.metadata).map(([Name, Value]) => ({ Name, Value })),
  ];
  if (tags.length) input.EmailTags = tags;
  if (options.configurationSetName) input.ConfigurationSetName = options.configurationSetName;
  return input;
}
