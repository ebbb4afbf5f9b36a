export { classifySmtpReply, classifyStatus, enhancedStatusOf, replyCodeOf } from './smtp-reply.classifier.js';
export {
  actionFor,
  bounceOf,
  buildClassification,
  decideReason,
  isHardBounce,
  kindOf,
  matchReasonText,
  normalizeDiagnostic,
  reasonOfStatus,
} from './reason.classifier.js';
export type { ReasonInput } from './reason.classifier.js';
export { parseBounce, parseBounceReport, readBounceReport, readParsedMail } from './bounce.parser.js';
export { parseMime } from './mime.reader.js';
export { readDeliveryStatus } from './dsn.reader.js';
export { FORMAT_READERS } from './formats/index.js';
export type { BounceNotice, BounceReport, BounceResult, BounceFormatReader, Finding, ParsedMail } from './bounce.types.js';
export { classifyProviderError } from './provider-error.classifier.js';
export type { ProviderErrorInput } from './provider-error.classifier.js';
export { SES_BOUNCE_SUBTYPE_REASONS, SES_SUPPRESSION_SUBTYPES } from './vendor-codes.js';
