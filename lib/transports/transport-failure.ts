import type { BounceReason } from '../core/classification.types.js';
import type { SendAttempt } from '../core/send-result.types.js';
import type { Transport } from '../core/transport.types.js';
import { MailerError, TransportError } from '../errors/mailer.error.js';

/**
 * What any transport threw, as the one error type failover and retry understand. A TransportError
 * and the package's other errors (invalid mail, unsupported feature, configuration) pass as they
 * are; anything else — a custom transport's plain `Error`, a library's exception, a thrown string —
 * becomes a TransportError with failure `unknown` and the original as `cause`.
 */
export function normalizeTransportFailure(transport: Pick<Transport, 'name'>, error: unknown): MailerError {
  if (error instanceof MailerError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new TransportError(`Transport "${transport.name}" failed: ${detail}`, {
    transport: transport.name,
    failure: 'unknown',
    cause: error,
  });
}

/**
 * Reasons that belong to the recipient or to the message itself: another transport would get the
 * same answer, so a failover must not try it (nor send the same refused mail through every route).
 */
const MAIL_BOUND_REASONS: ReadonlySet<BounceReason> = new Set<BounceReason>([
  'userunknown', 'hostunknown', 'hasmoved', 'mailboxfull', 'suspend', 'suppressed', 'notaccept',
  'vacation', 'contenterror', 'virusdetected', 'spamdetected', 'emailtoolarge', 'notcompliantrfc',
  'syntaxerror', 'filtered', 'policyviolation',
]);

/**
 * True when the error says the transport failed as a whole — the next transport may well succeed —
 * and false when it says this mail or its recipients were refused.
 *
 * - `connection`, `timeout`, `tls`, `auth`, `rate-limit`, `protocol`, `unknown`: the transport.
 * - `envelope`, `message`, `http`: the answer decides. A hard bounce or a reason about the recipient
 *   or the content (user unknown, suppressed/inactive, invalid address, spam, too large, malformed
 *   request) stays with the mail; anything else — a 5xx or 429 from an API, a blocked sending IP,
 *   relaying denied, a sender the provider has not verified, a 4xx from an SMTP server — is the
 *   transport's. An HTTP answer without a classification is the transport's for 401, 403, 408, 429
 *   and 5xx, and the mail's for other 4xx statuses.
 */
export function isTransportFault(error: TransportError): boolean {
  switch (error.failure) {
    case 'connection':
    case 'timeout':
    case 'tls':
    case 'auth':
    case 'rate-limit':
    case 'protocol':
    case 'unknown':
      return true;
    default:
      break;
  }
  const c = error.classification;
  if (c) {
    if (c.bounce === 'hard') return false;
    return !MAIL_BOUND_REASONS.has(c.reason);
  }
  if (error.failure === 'http') {
    const status = error.statusCode;
    if (status === undefined) return true;
    return status === 401 || status === 403 || status === 408 || status === 429 || status >= 500;
  }
  // envelope or message refused with nothing more to go on: the mail's.
  return false;
}

/** A failed attempt as results and errors list it. */
export function failedAttempt(transport: Pick<Transport, 'name' | 'kind'>, error: Error): SendAttempt {
  const code = (error as { code?: unknown }).code;
  const detail: NonNullable<SendAttempt['error']> = { code: typeof code === 'string' ? code : 'UNKNOWN', message: error.message };
  if (error instanceof TransportError) {
    detail.failure = error.failure;
    if (error.classification) detail.classification = error.classification;
  }
  return { transport: transport.name, kind: transport.kind, ok: false, error: detail };
}
