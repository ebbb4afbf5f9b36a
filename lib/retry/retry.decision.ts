import type { Classification } from '../core/classification.types.js';
import type { RejectedRecipient } from '../core/send-result.types.js';
import { TransportError } from '../errors/mailer.error.js';

function transient(c: Classification | undefined): boolean {
  return c !== undefined && c.retryable && c.bounce !== 'hard';
}

/**
 * Every recipient was refused: sending the same mail again is worth it only when each refusal was
 * temporary (a greylisting 451, a full mailbox 452). One hard or permanent refusal among them
 * makes the outcome final; the caller gets the list with a classification per recipient.
 */
function everyRefusalTransient(rejected: readonly RejectedRecipient[]): boolean {
  return rejected.length > 0 && rejected.every((r) => transient(r.classification));
}

/**
 * Whether a failed send may be tried again as it is, by the default rules:
 *
 * - Only a `TransportError` is. Invalid mail, an unsupported feature, configuration, template
 *   errors and a cancelled mail fail the same way every time.
 * - `connection` and `timeout` failures are (refused, reset, dropped, DNS, no answer).
 * - `tls` is not: a certificate or STARTTLS problem is configuration.
 * - A hard bounce is never retried, nor is any reply the classifier calls permanent (every 5xx).
 * - Every recipient refused: retried only when each refusal was temporary.
 * - Otherwise the classification decides (`retryable`: 4xx SMTP replies, HTTP 408, 429 and 5xx);
 *   without one, an HTTP 408, 429 or 5xx and a `rate-limit` failure are retried, the rest not.
 */
export function isRetryableFailure(error: unknown): boolean {
  if (!(error instanceof TransportError)) return false;
  if (error.failure === 'tls') return false;
  const c = error.classification;
  if (c?.bounce === 'hard') return false;
  if (error.failure === 'connection' || error.failure === 'timeout') return true;
  if (error.rejected && error.rejected.length > 0) return everyRefusalTransient(error.rejected);
  if (c) return c.retryable;
  if (error.failure === 'rate-limit') return true;
  const status = error.statusCode;
  if (error.failure === 'http' && status !== undefined) return status === 408 || status === 429 || status >= 500;
  return false;
}

/**
 * Whether the failure says the server wants fewer mails per second: an SMTP 421 4.7.0 (or any
 * reply classified `slow-down`), an HTTP 429, or a transport's `rate-limit` failure.
 */
export function isRateLimitFailure(error: unknown): error is TransportError {
  if (!(error instanceof TransportError)) return false;
  return error.failure === 'rate-limit'
    || error.statusCode === 429
    || error.classification?.action === 'slow-down'
    || error.classification?.reason === 'ratelimited';
}
