import type { OutgoingMail } from '../core/mail.types.js';
import type { TransportBatchOutcome } from '../core/send-result.types.js';
import type { Transport } from '../core/transport.types.js';
import { UnsupportedFeatureError } from '../errors/mailer.error.js';
import { mapWithConcurrency } from './http/concurrency.js';
import { normalizeTransportFailure } from './transport-failure.js';

/** Mails in flight at once when a transport without `sendBatch` sends a batch one by one. */
export const DEFAULT_SEND_CONCURRENCY = 8;

async function oneByOne(transport: Transport, mails: OutgoingMail[], concurrency: number): Promise<TransportBatchOutcome[]> {
  return mapWithConcurrency(mails, concurrency, async (mail): Promise<TransportBatchOutcome> => {
    try {
      return { ok: true, result: await transport.send(mail) };
    } catch (error) {
      return { ok: false, error: normalizeTransportFailure(transport, error) };
    }
  });
}

/**
 * Sends `mails` through `transport` and reports one outcome per mail, in input order; never
 * rejects. Uses the transport's `sendBatch` when it has one, else `send` with at most `concurrency`
 * mails in flight. Every failure is normalized (see `normalizeTransportFailure`).
 *
 * A `sendBatch` that refuses the whole call with `UnsupportedFeatureError` has sent nothing (its
 * contract), so the mails are then sent one by one and only those the transport cannot carry fail.
 * Any other rejection of the whole call becomes every mail's failure.
 */
export async function sendThrough(
  transport: Transport,
  mails: OutgoingMail[],
  concurrency = DEFAULT_SEND_CONCURRENCY,
): Promise<TransportBatchOutcome[]> {
  if (mails.length === 0) return [];
  if (typeof transport.sendBatch !== 'function') return oneByOne(transport, mails, concurrency);
  let outcomes: TransportBatchOutcome[];
  try {
    outcomes = await transport.sendBatch(mails);
  } catch (error) {
    if (error instanceof UnsupportedFeatureError) return oneByOne(transport, mails, concurrency);
    const failure = normalizeTransportFailure(transport, error);
    return mails.map(() => ({ ok: false, error: failure }));
  }
  return mails.map((_mail, index): TransportBatchOutcome => {
    const outcome = outcomes[index];
    if (!outcome) {
      return { ok: false, error: normalizeTransportFailure(transport, new Error(`sendBatch reported no outcome for mail ${index + 1} of ${mails.length}`)) };
    }
    return outcome.ok ? outcome : { ...outcome, error: normalizeTransportFailure(transport, outcome.error) };
  });
}
