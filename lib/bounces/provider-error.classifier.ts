import type { BounceReason, Classification, ClassificationAction, DeliveryKind } from '../core/classification.types.js';
import { bounceOf } from './reason.classifier.js';

/** An error answered by a provider's HTTP API, as the transport saw it. */
export interface ProviderErrorInput {
  /** `sendgrid`, `postmark`, `ses`, `mailgun`, `resend`, or another provider name. */
  provider: string;
  /** HTTP status of the response (undefined for a network failure). */
  statusCode?: number;
  /** The provider's own code: Postmark `ErrorCode`, SES exception name, Resend `name`, … */
  providerCode?: string | number;
  /** The provider's message (error body text). */
  message?: string;
  /** The recipient the error is about, when it is about one. */
  recipient?: string;
}

type Verdict = readonly [kind: DeliveryKind, reason: BounceReason, action: ClassificationAction, retryable: boolean];

const AUTH: Verdict = ['failed', 'securityerror', 'fix-config', false];
const INVALID_REQUEST: Verdict = ['failed', 'syntaxerror', 'fix-config', false];
const SENDER_BLOCKED: Verdict = ['failed', 'rejected', 'fix-config', false];
const RATE_LIMITED: Verdict = ['deferred', 'ratelimited', 'slow-down', true];
const TRANSIENT: Verdict = ['deferred', 'systemerror', 'retry', true];
const BAD_RECIPIENT: Verdict = ['rejected', 'userunknown', 'suppress', false];
const SUPPRESSED: Verdict = ['rejected', 'suppressed', 'suppress', false];
const TOO_LARGE: Verdict = ['failed', 'emailtoolarge', 'fix-config', false];
const CONTENT: Verdict = ['failed', 'contenterror', 'fix-config', false];

const INVALID_ADDRESS = /(?:not (?:a )?valid|invalid|illegal|malformed)[^.]{0,40}(?:e-?mail|address|recipient|\bto\b)|(?:e-?mail|address|recipient|\bto\b)[^.]{0,40}(?:not (?:a )?valid|invalid|illegal|malformed)|does not contain a valid address/i;
const UNVERIFIED_SENDER = /not verified|unverified|sender (?:identity|signature)|verify (?:a|your) domain|domain is not verified|from address/i;

function postmark(code: number | undefined, message: string): Verdict | undefined {
  switch (code) {
    case 10: return AUTH;
    case 100: return TRANSIENT;
    case 300: return /\b(?:to|cc|bcc)\b/i.test(message) && INVALID_ADDRESS.test(message) ? BAD_RECIPIENT : INVALID_REQUEST;
    case 400: case 401: case 405: case 412: case 413: return SENDER_BLOCKED;
    case 402: case 403: case 409: case 410: return INVALID_REQUEST;
    case 406: return SUPPRESSED;
    case 411: return CONTENT;
    case 429: return RATE_LIMITED;
    default: return undefined;
  }
}

function ses(code: string, message: string): Verdict | undefined {
  switch (code) {
    case 'TooManyRequestsException':
    case 'ThrottlingException':
    case 'Throttling':
    case 'LimitExceededException':
      return RATE_LIMITED;
    case 'AccountSuspendedException':
    case 'SendingPausedException':
    case 'AccountSendingPausedException':
    case 'ConfigurationSetSendingPausedException':
    case 'MailFromDomainNotVerifiedException':
      return SENDER_BLOCKED;
    case 'UnrecognizedClientException':
    case 'InvalidSignatureException':
    case 'AccessDeniedException':
    case 'InvalidClientTokenId':
    case 'SignatureDoesNotMatch':
    case 'ExpiredTokenException':
      return AUTH;
    case 'MessageRejected':
      if (/virus/i.test(message)) return ['failed', 'virusdetected', 'none', false];
      if (UNVERIFIED_SENDER.test(message)) return SENDER_BLOCKED;
      return ['failed', 'rejected', 'none', false];
    case 'BadRequestException':
    case 'InvalidParameterValue':
      return INVALID_ADDRESS.test(message) ? BAD_RECIPIENT : INVALID_REQUEST;
    case 'NotFoundException':
      return INVALID_REQUEST;
    case 'InternalServiceErrorException':
    case 'InternalFailure':
    case 'ServiceUnavailable':
      return TRANSIENT;
    default:
      return undefined;
  }
}

function resend(code: string, message: string): Verdict | undefined {
  switch (code) {
    case 'missing_api_key':
    case 'restricted_api_key':
    case 'invalid_api_key':
    case 'invalid_access':
      return AUTH;
    case 'rate_limit_exceeded':
    case 'daily_quota_exceeded':
    case 'monthly_quota_exceeded':
      return RATE_LIMITED;
    case 'validation_error':
      if (UNVERIFIED_SENDER.test(message) || /testing|domain/i.test(message)) return SENDER_BLOCKED;
      return INVALID_ADDRESS.test(message) ? BAD_RECIPIENT : INVALID_REQUEST;
    case 'invalid_from_address':
      return SENDER_BLOCKED;
    case 'invalid_attachment':
      return CONTENT;
    case 'security_error':
      return ['failed', 'securityerror', 'fix-config', false];
    case 'application_error':
    case 'internal_server_error':
      return TRANSIENT;
    case 'invalid_parameter':
    case 'invalid_region':
    case 'missing_required_field':
    case 'invalid_idempotency_key':
    case 'invalid_idempotent_request':
    case 'not_found':
    case 'method_not_allowed':
      return INVALID_REQUEST;
    case 'concurrent_idempotent_requests':
      return ['deferred', 'systemerror', 'retry', true];
    default:
      return undefined;
  }
}

/** What the HTTP status alone says, for every provider. */
function byHttpStatus(status: number | undefined, message: string): Verdict {
  if (status === undefined) return TRANSIENT; // no response: the network failed
  if (status === 401) return AUTH;
  if (status === 403) return UNVERIFIED_SENDER.test(message) ? SENDER_BLOCKED : AUTH;
  if (status === 408) return TRANSIENT;
  if (status === 413) return TOO_LARGE;
  if (status === 429) return RATE_LIMITED;
  if (status >= 500) return TRANSIENT;
  if (status === 400 || status === 422) {
    if (/suppress|inactive|unsubscribed|bounced|blocklist|previously bounced/i.test(message)) return SUPPRESSED;
    if (INVALID_ADDRESS.test(message)) return BAD_RECIPIENT;
    if (/too large|too big|size/i.test(message)) return TOO_LARGE;
    return INVALID_REQUEST;
  }
  if (status === 404) return INVALID_REQUEST;
  if (status >= 200 && status < 300) return ['delivered', 'delivered', 'none', false];
  return ['failed', 'undefined', 'none', false];
}

/**
 * Maps an HTTP provider's API error to a Classification. 401/403 are configuration (fix-config, never
 * retried), 429 is rate limiting (slow-down, retryable), 5xx and network failures are transient
 * (systemerror, retryable); provider codes refine that: Postmark ErrorCode 406 is a suppressed
 * (inactive) recipient, 300 an invalid address or request, 10 a bad token; SES exception names;
 * Resend `name`s; SendGrid and Mailgun by status and message.
 *
 * `bounce` is 'none' when the error is not about the recipient (kind 'failed' or 'deferred' for an
 * account-wide reason); otherwise it follows the reason.
 */
export function classifyProviderError(input: ProviderErrorInput): Classification {
  const provider = input.provider.toLowerCase();
  const message = input.message ?? '';
  const code = input.providerCode;
  let v: Verdict | undefined;
  if (provider === 'postmark') {
    const n = typeof code === 'number' ? code : code !== undefined && /^\d+$/.test(String(code)) ? Number(code) : undefined;
    v = postmark(n, message);
  } else if (provider === 'ses' || provider === 'sesv2' || provider === 'amazonses') {
    if (code !== undefined) v = ses(String(code).split(':')[0]!, message);
  } else if (provider === 'resend') {
    if (code !== undefined) v = resend(String(code), message);
  } else if (provider === 'sendgrid' && input.statusCode === 400 && /personalizations\.\d+\.(?:to|cc|bcc)/i.test(`${code ?? ''} ${message}`)) {
    v = BAD_RECIPIENT;
  }
  v ??= byHttpStatus(input.statusCode, message);
  const [kind, reason, action, retryable] = v;
  const recipientLevel = kind === 'rejected' || kind === 'delivered';
  const out: Classification = {
    kind,
    bounce: recipientLevel ? bounceOf(reason) : 'none',
    reason,
    retryable,
    action,
  };
  const diag = message.trim();
  if (diag.length > 0) out.diagnostic = diag;
  if (input.recipient !== undefined) out.recipient = input.recipient;
  return out;
}
