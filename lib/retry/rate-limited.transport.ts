import type { OutgoingMail } from '../core/mail.types.js';
import type { TransportBatchOutcome, TransportResult } from '../core/send-result.types.js';
import type { Transport } from '../core/transport.types.js';
import { normalizeTransportFailure } from '../transports/transport-failure.js';
import type { RateLimiter } from './rate-limiter.js';
import { isRateLimitFailure } from './retry.decision.js';

/**
 * A view of `transport` whose sends wait for the limiter: one token per mail (a batch call takes
 * one per mail before its request), and a penalty when the server says "slow down". Same name and
 * kind, so results and errors read as the transport's own.
 */
export function limitedTransport(transport: Transport, limiter: RateLimiter): Transport {
  const penalize = (error: unknown) => {
    if (isRateLimitFailure(error)) limiter.penalize(error.retryAfter ?? 0);
  };
  const view: Transport = {
    name: transport.name,
    kind: transport.kind,
    async send(mail: OutgoingMail): Promise<TransportResult> {
      await limiter.acquire();
      try {
        return await transport.send(mail);
      } catch (error) {
        const normalized = normalizeTransportFailure(transport, error);
        penalize(normalized);
        throw normalized;
      }
    },
    verify: () => transport.verify(),
    close: () => transport.close(),
  };
  if (typeof transport.sendBatch === 'function') {
    view.sendBatch = async (mails: OutgoingMail[]): Promise<TransportBatchOutcome[]> => {
      for (let i = 0; i < mails.length; i++) await limiter.acquire();
      const outcomes = await (transport.sendBatch as NonNullable<Transport['sendBatch']>).call(transport, mails);
      const limited = outcomes.find((o) => !o.ok && isRateLimitFailure(o.error));
      if (limited && !limited.ok) penalize(limited.error);
      return outcomes;
    };
  }
  return view;
}
