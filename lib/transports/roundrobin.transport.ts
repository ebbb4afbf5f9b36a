import type { OutgoingMail } from '../core/mail.types.js';
import type { SendAttempt, TransportBatchOutcome, TransportResult } from '../core/send-result.types.js';
import type { TransportSendOptions } from '../core/send-trace.types.js';
import type { Transport } from '../core/transport.types.js';
import { MailerConfigurationError, TransportError } from '../errors/mailer.error.js';
import { DEFAULT_SEND_CONCURRENCY, sendThrough } from './transport-batch.js';
import { failedAttempt, isTransportFault, normalizeTransportFailure } from './transport-failure.js';

/** Milliseconds a failed transport is skipped by default. */
export const DEFAULT_RETRY_PERIOD = 60_000;

export interface RoundRobinTransportOptions {
  /** Name in results, events and errors. Default: the kind (`roundrobin`, `failover`). */
  name?: string;
  /** The transports, in order. At least one. */
  transports: Transport[];
  /**
   * Milliseconds a transport that failed as a whole is skipped, or longer when it answered with a
   * longer Retry-After. Default 60 000. When every transport is being skipped they are all tried
   * anyway, in order, rather than failing without trying.
   */
  retryPeriod?: number;
  /** Mails in flight at once when `sendBatch` sends through a child without `sendBatch`. Default 8. */
  batchConcurrency?: number;
  /** The clock, in milliseconds; for tests. Default `Date.now`. */
  now?: () => number;
}

/**
 * Spreads mails over its transports: each send starts with the next transport in turn (the first
 * one is picked at random, so that many short-lived processes do not all start on the same one).
 * When a transport fails as a whole (see `isTransportFault`) the send moves on to the next one and
 * the failed transport is skipped for `retryPeriod`; when the mail itself is refused (an unknown
 * recipient, an inactive address, an invalid request) that error is thrown as it is.
 *
 * The result names the transport that delivered (`deliveredBy`) and lists every attempt
 * (`attempts`). When every transport tried failed, the error is a TransportError of this transport
 * that carries the fields of the last failure, the last failure as `cause`, and all `attempts`.
 * Anything a child throws that is not a TransportError is wrapped into one first, so it fails over
 * like any other outage.
 */
export class RoundRobinTransport implements Transport {
  readonly kind: string;
  readonly name: string;
  readonly transports: readonly Transport[];
  readonly retryPeriod: number;
  private readonly batchConcurrency: number;
  private readonly now: () => number;
  private readonly deadUntil = new Map<Transport, number>();
  private cursor: number;

  constructor(options: RoundRobinTransportOptions, kind = 'roundrobin') {
    this.kind = kind;
    this.name = options.name ?? kind;
    if (!Array.isArray(options.transports) || options.transports.length === 0) {
      throw new MailerConfigurationError(`The ${this.kind} transport "${this.name}" needs at least one transport.`);
    }
    this.transports = [...options.transports];
    this.retryPeriod = options.retryPeriod ?? DEFAULT_RETRY_PERIOD;
    if (!(Number.isFinite(this.retryPeriod) && this.retryPeriod >= 0)) {
      throw new MailerConfigurationError(`The ${this.kind} transport "${this.name}": retryPeriod must be a number of milliseconds, 0 or more.`);
    }
    this.batchConcurrency = options.batchConcurrency ?? DEFAULT_SEND_CONCURRENCY;
    this.now = options.now ?? Date.now;
    this.cursor = Math.floor(Math.random() * this.transports.length) - 1;
  }

  /** Index of the transport the next send starts with. Round-robin: the next one in turn. */
  protected startIndex(): number {
    this.cursor = (this.cursor + 1) % this.transports.length;
    return this.cursor;
  }

  /** True while a transport is being skipped after a failure. */
  isDead(transport: Transport): boolean {
    const until = this.deadUntil.get(transport);
    return until !== undefined && until > this.now();
  }

  /**
   * The transports one send tries, in order: those not being skipped, from `startIndex()` on; when
   * every one is being skipped, all of them.
   */
  protected plan(): Transport[] {
    const start = this.startIndex();
    const n = this.transports.length;
    const ordered = Array.from({ length: n }, (_, i) => this.transports[(start + i) % n] as Transport);
    const alive = ordered.filter((t) => !this.isDead(t));
    return alive.length > 0 ? alive : ordered;
  }

  private markDead(transport: Transport, error: TransportError): void {
    const period = Math.max(this.retryPeriod, error.retryAfter ?? 0);
    if (period > 0) this.deadUntil.set(transport, this.now() + period);
  }

  private revive(transport: Transport): void {
    this.deadUntil.delete(transport);
  }

  private delivered(transport: Transport, result: TransportResult, before: SendAttempt[]): TransportResult {
    this.revive(transport);
    const own = result.attempts ?? [{ transport: transport.name, kind: transport.kind, ok: true }];
    return { ...result, deliveredBy: result.deliveredBy ?? transport.name, attempts: [...before, ...own] };
  }

  private allFailed(last: TransportError, attempts: SendAttempt[]): TransportError {
    const list = attempts
      .filter((a) => !a.ok)
      .map((a) => `${a.transport}${a.kind ? ` (${a.kind})` : ''}: ${a.error?.message ?? 'failed'}`)
      .join('; ');
    return new TransportError(`Every transport of ${this.kind} "${this.name}" failed — ${list}`, {
      transport: this.name,
      failure: last.failure,
      provider: last.provider,
      responseCode: last.responseCode,
      statusCode: last.statusCode,
      providerCode: last.providerCode,
      response: last.response,
      command: last.command,
      retryAfter: last.retryAfter,
      classification: last.classification,
      rejected: last.rejected,
      attempts,
      cause: last,
    });
  }

  /** With a trace in `options`, each transport tried is one attempt of it (a failover hop). */
  async send(mail: OutgoingMail, options: TransportSendOptions = {}): Promise<TransportResult> {
    const attempts: SendAttempt[] = [];
    let last: TransportError | undefined;
    const trace = options.trace;
    for (const transport of this.plan()) {
      try {
        const result = trace
          ? await trace.attempt(transport, (inner) => transport.send(mail, { trace: inner }))
          : await transport.send(mail);
        return this.delivered(transport, result, attempts);
      } catch (thrown) {
        const error = normalizeTransportFailure(transport, thrown);
        // Invalid mail, unsupported feature, configuration: not an outage, and the same everywhere.
        if (!(error instanceof TransportError)) throw error;
        attempts.push(...(error.attempts ?? [failedAttempt(transport, error)]));
        if (!isTransportFault(error)) {
          error.attempts = [...attempts];
          throw error;
        }
        this.markDead(transport, error);
        last = error;
      }
    }
    throw this.allFailed(last as TransportError, attempts);
  }

  /**
   * Sends the batch through the first transport of the plan (with its `sendBatch` when it has one);
   * mails that failed there as a whole go to the next transport, and so on. Each mail's outcome
   * carries its own attempts.
   */
  async sendBatch(mails: OutgoingMail[]): Promise<TransportBatchOutcome[]> {
    const outcomes = new Array<TransportBatchOutcome>(mails.length);
    const attempts: SendAttempt[][] = mails.map(() => []);
    const lastFailure = new Array<TransportError | undefined>(mails.length);
    let pending = mails.map((_mail, index) => index);
    for (const transport of this.plan()) {
      if (pending.length === 0) break;
      const results = await sendThrough(transport, pending.map((index) => mails[index] as OutgoingMail), this.batchConcurrency);
      const next: number[] = [];
      let failedOver = false;
      results.forEach((outcome, position) => {
        const index = pending[position] as number;
        if (outcome.ok) {
          outcomes[index] = { ok: true, result: this.delivered(transport, outcome.result, attempts[index] as SendAttempt[]) };
          return;
        }
        const error = outcome.error;
        const mine = attempts[index] as SendAttempt[];
        mine.push(...(outcome.attempts ?? (error instanceof TransportError ? error.attempts : undefined) ?? [failedAttempt(transport, error)]));
        if (error instanceof TransportError && isTransportFault(error)) {
          failedOver = true;
          lastFailure[index] = error;
          next.push(index);
        } else {
          outcomes[index] = { ok: false, error, attempts: [...mine] };
        }
      });
      if (failedOver) {
        const fault = lastFailure[next[0] as number] as TransportError;
        this.markDead(transport, fault);
      }
      pending = next;
    }
    for (const index of pending) {
      const all = attempts[index] as SendAttempt[];
      outcomes[index] = { ok: false, error: this.allFailed(lastFailure[index] as TransportError, all), attempts: all };
    }
    return outcomes;
  }

  /**
   * Verifies every transport at once; resolves when at least one of them verifies — mail can still
   * go out, through the others — and rejects with a TransportError listing each failure otherwise.
   * `verifyEach()` gives the result per transport.
   */
  async verify(): Promise<void> {
    const results = await this.verifyEach();
    if (results.some((r) => r.ok)) return;
    const failures = results.filter((r) => !r.ok);
    const lastAttempt = failures.at(-1);
    const last = lastAttempt?.cause instanceof TransportError
      ? lastAttempt.cause
      : new TransportError('verify failed', { transport: this.name, failure: 'unknown' });
    throw this.allFailed(last, failures.map(({ cause: _cause, ...attempt }) => attempt));
  }

  /** Verifies each transport; one entry per transport in configured order, the error as `cause`. */
  async verifyEach(): Promise<Array<SendAttempt & { cause?: Error }>> {
    return Promise.all(this.transports.map(async (transport) => {
      try {
        await transport.verify();
        return { transport: transport.name, kind: transport.kind, ok: true };
      } catch (thrown) {
        const error = normalizeTransportFailure(transport, thrown);
        return { ...failedAttempt(transport, error), cause: error };
      }
    }));
  }

  /** Closes every transport, even when one of them fails to close. */
  async close(): Promise<void> {
    await Promise.allSettled(this.transports.map((t) => t.close()));
  }
}
