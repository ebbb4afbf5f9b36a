import {
  InvalidMailError,
  MailCancelledError,
  TemplateNotFoundError,
  TemplateRenderError,
  TemplateSyntaxError,
  TransportError,
  UnsupportedFeatureError,
} from '../errors/mailer.error.js';
import { RetryPolicy } from '../retry/retry.policy.js';
import type { RetryOptions } from '../retry/retry.options.js';

/** Name of the BullMQ backoff strategy the module registers on its workers. */
export const MAILROOM_BACKOFF = 'mailroom';

/** How BullMQ retries a mail job: its attempts and the policy that spaces them. */
export interface QueueRetryPlan {
  /** BullMQ `attempts`: the policy's `limit` plus the first attempt. */
  attempts: number;
  /** Undefined when retrying is off. */
  policy?: RetryPolicy;
}

export function planQueueRetry(retry: false | RetryOptions | undefined): QueueRetryPlan {
  if (retry === false) return { attempts: 1 };
  const policy = new RetryPolicy(retry ?? {}, 'MailerQueueModule retry');
  return { attempts: policy.options.limit + 1, policy: policy.options.limit > 0 ? policy : undefined };
}

/**
 * BullMQ's custom backoff: the wait before retry number `attemptsMade` (1 for the first) is the
 * policy's backoff with jitter, or the Retry-After the server gave when that is longer.
 */
export function queueBackoffStrategy(policy: RetryPolicy): (attemptsMade: number, type?: string, err?: Error) => number {
  return (attemptsMade, _type, err) => {
    const retryAfter = err instanceof TransportError ? err.retryAfter ?? 0 : 0;
    return Math.max(policy.backoffDelay(Math.max(1, attemptsMade)), retryAfter);
  };
}

/** Failures that come out the same on every attempt: the mail itself, its template, a cancellation. */
function failsEveryTime(error: unknown): boolean {
  return error instanceof InvalidMailError
    || error instanceof TemplateNotFoundError
    || error instanceof TemplateSyntaxError
    || error instanceof TemplateRenderError
    || error instanceof MailCancelledError
    || error instanceof UnsupportedFeatureError;
}

/**
 * Whether a job that failed with `error` on attempt `attempt` is worth another attempt:
 * a TransportError as the retry policy decides (its `shouldRetry`, else `isRetryableFailure`);
 * never invalid mail, template errors, a cancelled mail or an unsupported feature. Anything else
 * (a configuration error, the mailer closing during a deploy, an unexpected exception) keeps the
 * job for its remaining attempts: a queue's purpose is not to lose the mail.
 */
export async function isRetryableInQueue(error: unknown, attempt: number, policy: RetryPolicy | undefined): Promise<boolean> {
  if (!policy) return false;
  if (failsEveryTime(error)) return false;
  if (error instanceof TransportError) return policy.isRetryable(error, attempt);
  return true;
}
