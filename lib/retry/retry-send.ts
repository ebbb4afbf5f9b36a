import type { OutgoingMail } from '../core/mail.types.js';
import type { SendAttempt, TransportResult } from '../core/send-result.types.js';
import type { SendTrace, TransportSendOptions } from '../core/send-trace.types.js';
import type { Transport } from '../core/transport.types.js';
import { TransportError, type MailerError } from '../errors/mailer.error.js';
import { failedAttempt, normalizeTransportFailure } from '../transports/transport-failure.js';
import type { RateLimiter } from './rate-limiter.js';
import { isRateLimitFailure } from './retry.decision.js';
import type { RetryPolicy } from './retry.policy.js';

export interface RetrySendOptions {
  /** No policy: one attempt. */
  policy?: RetryPolicy;
  /** Acquired before every attempt; penalized when the server says "slow down". */
  limiter?: RateLimiter;
  /** Stops retrying; handed to transports that take one (the HTTP API transports). */
  signal?: AbortSignal;
  /**
   * A failure the mail already had (its outcome in a batch) with the attempts it took: it counts
   * as the first attempt, so the mail goes out again only if the policy retries it. When the
   * policy does not, that same error is thrown, unchanged.
   */
  previous?: { error: MailerError; attempts: SendAttempt[] };
  /** Told about every attempt, retry wait and rate-limit wait (telemetry). */
  trace?: SendTrace;
}

type OptionedSend = (mail: OutgoingMail, options?: TransportSendOptions) => Promise<TransportResult>;

/**
 * The attempts one try made: a failover's own list, or this transport once. An error this function
 * already stamped (a transport that throws the same instance every time) counts once more.
 */
function attemptsOfFailure(transport: Transport, error: MailerError, stamped: WeakSet<object>): SendAttempt[] {
  const own = error instanceof TransportError && !stamped.has(error) ? error.attempts : undefined;
  return own ?? [failedAttempt(transport, error)];
}

/**
 * Sends one mail through one transport under a retry policy and a rate limit. The mail goes out
 * unchanged on every attempt — same Message-ID, so a provider's idempotency key derived from it
 * stays the same and a receiving server can recognise the copy.
 *
 * Attempts compose: each try contributes its own list (a failover or round-robin transport already
 * lists its children's attempts), so the result's `attempts`, or the final error's, name every
 * transport tried on every round, in order, the successful one last.
 *
 * Only a failure of the whole send is retried. A send that succeeded for some recipients and was
 * refused for others resolves: the refused ones are in `rejected`, each with its classification,
 * and are never sent again from here — retrying the mail would deliver a second copy to those
 * already accepted.
 */
export async function sendWithRetry(transport: Transport, mail: OutgoingMail, options: RetrySendOptions = {}): Promise<TransportResult> {
  const { policy, limiter, signal, trace } = options;
  const send = transport.send.bind(transport) as OptionedSend;
  // The second argument only when there is something in it: a custom transport sees send(mail) as before.
  const sendOnce = (inner?: SendTrace) => (signal || inner ? send(mail, { ...(signal ? { signal } : {}), ...(inner ? { trace: inner } : {}) }) : send(mail));
  const clock = policy?.clock;
  const log: SendAttempt[] = [];
  const stamped = new WeakSet<object>();
  const once = async (): Promise<TransportResult> => {
    if (limiter) {
      const before = trace ? (clock?.now() ?? Date.now()) : 0;
      await limiter.acquire(signal);
      if (trace) {
        const waited = (clock?.now() ?? Date.now()) - before;
        if (waited > 0) trace.rateLimitWait(waited);
      }
    }
    let result: TransportResult;
    try {
      result = await (trace ? trace.attempt(transport, sendOnce) : sendOnce());
    } catch (thrown) {
      const error = normalizeTransportFailure(transport, thrown);
      if (limiter && isRateLimitFailure(error)) limiter.penalize(error.retryAfter ?? 0);
      log.push(...attemptsOfFailure(transport, error, stamped));
      if (error instanceof TransportError) {
        error.attempts = [...log];
        stamped.add(error);
      }
      throw error;
    }
    const own = result.attempts ?? [{ transport: transport.name, kind: transport.kind, ok: true }];
    return { ...result, attempts: [...log, ...own] };
  };
  let previous = options.previous;
  const attempt = async (): Promise<TransportResult> => {
    if (previous) {
      const { error, attempts } = previous;
      previous = undefined;
      log.push(...attempts);
      throw error;
    }
    return once();
  };
  if (!policy) return attempt();
  return policy.run(attempt, trace ? { signal, onWait: (delay, n, error) => trace.retryWait(delay, n, error) } : { signal });
}
