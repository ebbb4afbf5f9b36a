import { MailerConfigurationError, MailerError, SuppressionUnavailableError } from '../errors/mailer.error.js';
import { checkOptions, type OptionShape } from '../errors/option.checker.js';
import { normalizeAddress } from './suppression.address.js';
import { isLive, prepareRecord, replaces, toEntry, type SuppressionRecord } from './suppression.entry.js';
import type { SuppressedRecipient, SuppressionFilterResult, SuppressionInput, SuppressionStore } from './suppression.types.js';

/**
 * What a send does while the suppression store cannot be reached: `send` goes on without the list
 * (only what this process learned during the outage is left out), `fail` refuses the send with
 * `SuppressionUnavailableError`.
 */
export type SuppressionUnavailableMode = 'send' | 'fail';

/** How the mailer guards the send path against a store that stops answering. Every field is optional. */
export interface SuppressionCircuitOptions {
  /**
   * Milliseconds a call to the store may take on the send path (reading the list, writing what a
   * send learned). A call that takes longer counts as a failure and opens the circuit. Default 2000.
   */
  timeout?: number;
  /**
   * Milliseconds from a failure to the first probe of the store; each failed probe doubles the
   * wait, up to `maxProbeInterval`. Default 1000.
   */
  probeInterval?: number;
  /** Longest wait between two probes, in milliseconds. Default 30 000. */
  maxProbeInterval?: number;
  /**
   * Entries (one per address) learned during an outage and kept in memory until the store answers
   * again. Addresses beyond it are dropped and counted. Default 10 000.
   */
  maxBuffered?: number;
}

export const DEFAULT_SUPPRESSION_TIMEOUT = 2_000;
export const DEFAULT_PROBE_INTERVAL = 1_000;
export const DEFAULT_MAX_PROBE_INTERVAL = 30_000;
export const DEFAULT_MAX_BUFFERED = 10_000;

const CIRCUIT_OPTION_SHAPE = {
  timeout: 'number',
  probeInterval: 'number',
  maxProbeInterval: 'number',
  maxBuffered: 'number',
} as const satisfies OptionShape<SuppressionCircuitOptions>;

/** Checks the options at start-up; throws MailerConfigurationError. */
export function checkSuppressionCircuitOptions(options: SuppressionCircuitOptions | undefined, onUnavailable: unknown): void {
  if (onUnavailable !== undefined && onUnavailable !== 'send' && onUnavailable !== 'fail') {
    throw new MailerConfigurationError(`suppression.onUnavailable must be 'send' or 'fail', got ${JSON.stringify(onUnavailable)}.`);
  }
  if (options === undefined) return;
  checkOptions(options, CIRCUIT_OPTION_SHAPE, 'MailerModule: suppression.circuit');
  for (const name of ['timeout', 'probeInterval', 'maxProbeInterval', 'maxBuffered'] as const) {
    const value = options[name];
    if (value !== undefined && !(Number.isInteger(value) && value >= 1)) {
      throw new MailerConfigurationError(`suppression.circuit.${name} must be a whole number, 1 or more, got ${String(value)}.`);
    }
  }
  if (options.probeInterval !== undefined && options.maxProbeInterval !== undefined && options.probeInterval > options.maxProbeInterval) {
    throw new MailerConfigurationError('suppression.circuit.probeInterval must not be longer than maxProbeInterval.');
  }
}

/** What the circuit reports; the mailer turns it into log lines and events. */
export interface SuppressionCircuitListener {
  /** The store failed: the circuit opened. Once per outage. */
  unavailable(error: Error, since: Date): void;
  /** The store answers again and the buffer has been written. */
  available(report: { downtime: number; written: number; dropped: number }): void;
  /** The buffer is full; later addresses of this outage are dropped. Once per outage. */
  overflow(maxBuffered: number): void;
}

/** An address `filter()` checks during a probe; no list holds it. */
const PROBE_ADDRESS = 'probe@mailroom.invalid';
/** Entries per write when the buffer is flushed, so that a failure midway keeps what was written. */
const FLUSH_CHUNK = 500;

/** An entry waiting for the store, with the scope whose list it goes to (undefined: the shared one). */
interface Buffered {
  scope?: string;
  record: SuppressionRecord;
}

/** The buffer's key: an address is one entry per list. */
function bufferKey(scope: string | undefined, address: string): string {
  return scope === undefined ? address : `${scope}\u0000${address}`;
}

/**
 * Stands between the mailer and its suppression store. While the store answers, calls go through
 * (each bounded by `timeout`). At the first failure the circuit opens: reads no longer reach the
 * store, entries learned meanwhile wait in a bounded buffer (one per address and list, by the
 * store's own replacement rule), and one call at a time probes the store, with a growing wait
 * between probes. When a probe succeeds the buffer is written and the circuit closes. A scope's
 * list (`store.forScope`) goes through the same circuit: its lists share the store's connection,
 * so they are out of reach together.
 */
export class SuppressionCircuit {
  private readonly timeout: number;
  private readonly probeInterval: number;
  private readonly maxProbeInterval: number;
  private readonly maxBuffered: number;
  private readonly buffer = new Map<string, Buffered>();
  private listener?: SuppressionCircuitListener;
  /** Set while the circuit is open: when the outage began and what caused it. */
  private outage?: { since: number; error: Error; dropped: number; written: number; wait: number };
  private timer?: NodeJS.Timeout;
  private probing?: Promise<void>;
  private closed = false;

  constructor(
    readonly store: SuppressionStore,
    readonly onUnavailable: SuppressionUnavailableMode = 'send',
    options: SuppressionCircuitOptions = {},
    private readonly clock: () => number = Date.now,
  ) {
    this.timeout = options.timeout ?? DEFAULT_SUPPRESSION_TIMEOUT;
    this.probeInterval = options.probeInterval ?? DEFAULT_PROBE_INTERVAL;
    this.maxProbeInterval = Math.max(options.maxProbeInterval ?? DEFAULT_MAX_PROBE_INTERVAL, this.probeInterval);
    this.maxBuffered = options.maxBuffered ?? DEFAULT_MAX_BUFFERED;
  }

  /** Where transitions are reported (the mailer sets it once). */
  observe(listener: SuppressionCircuitListener): void {
    this.listener = listener;
  }

  /** False from a failure of the store until a probe succeeds and the buffer is written. */
  get available(): boolean {
    return this.outage === undefined;
  }

  /** Entries waiting for the store. */
  get buffered(): number {
    return this.buffer.size;
  }

  /**
   * The list of `scope` (see `SuppressionStore.forScope`), or the store itself without one. Throws
   * MailerConfigurationError when the store keeps no scopes.
   */
  listOf(scope: string | undefined): SuppressionStore {
    if (scope === undefined) return this.store;
    if (typeof this.store.forScope !== 'function') {
      throw new MailerConfigurationError(`suppression: the store ${this.store.constructor.name} has no forScope(), so it cannot keep a list per scope ("${scope}"); use MemorySuppressionStore or RedisSuppressionStore, or add forScope() to it.`);
    }
    return this.store.forScope(scope);
  }

  /**
   * The `filter()` of the list of `scope` (the shared list without one). While the store is
   * unavailable: with `onUnavailable: 'send'`, the recipients filtered by the buffer only; with
   * `'fail'`, SuppressionUnavailableError.
   */
  async filter(addresses: readonly string[], scope?: string): Promise<SuppressionFilterResult> {
    const list = this.listOf(scope);
    if (this.outage) return this.whileUnavailable(addresses, scope);
    try {
      return await this.bounded(list.filter(addresses), 'reading the suppression list');
    } catch (error) {
      if (!isOutage(error)) throw error;
      this.open(error as Error);
      return this.whileUnavailable(addresses, scope);
    }
  }

  /**
   * Adds entries to the store, or keeps them for later when it is unavailable. Resolves to the
   * entries that were not valid (they are neither stored nor kept). An outage does not reject,
   * unless `mustStore` is set: a caller that can have the outcome delivered again (a provider's
   * webhook, answered 5xx) then gets SuppressionUnavailableError, the entries being kept all the
   * same, so they are written whichever comes first, the store or the provider's retry.
   */
  async record(
    entries: readonly SuppressionInput[],
    { mustStore = false, scope }: { mustStore?: boolean; scope?: string } = {},
  ): Promise<{ invalid: Error[] }> {
    const list = this.listOf(scope);
    const invalid: Error[] = [];
    const records: SuppressionRecord[] = [];
    const now = this.clock();
    for (const entry of entries) {
      try {
        records.push(prepareRecord(entry, now));
      } catch (error) {
        invalid.push(error as Error);
      }
    }
    if (!records.length) return { invalid };
    // A caller that must know tries the store even while the circuit is open: it is not on the
    // send path, and its outcome would otherwise wait for the next probe.
    if (this.outage && !mustStore) {
      this.keep(records, scope);
      return { invalid };
    }
    try {
      await this.bounded(list.addMany(records.map(toEntry)), 'writing to the suppression list');
    } catch (error) {
      if (!isOutage(error)) throw error;
      this.open(error as Error);
      // Some may have been written before the failure; writing them again changes nothing.
      this.keep(records, scope);
      if (mustStore) throw this.unavailableError('the entries are kept and written when it answers');
    }
    return { invalid };
  }

  private unavailableError(what: string): SuppressionUnavailableError {
    const outage = this.outage;
    const since = outage ? ` since ${new Date(outage.since).toISOString()} (${outage.error.message})` : '';
    return new SuppressionUnavailableError(`The suppression list is unavailable${since}; ${what}.`, { cause: outage?.error });
  }

  /**
   * Stops probing. When entries are still waiting, the store gets one more chance to take them;
   * resolves to how many could not be written.
   */
  async close(): Promise<number> {
    if (this.closed) return 0;
    this.closed = true;
    clearTimeout(this.timer);
    await this.probing;
    if (!this.buffer.size) return 0;
    try {
      await this.flush();
    } catch {
      // Reported by the count below.
    }
    const lost = this.buffer.size;
    this.buffer.clear();
    return lost;
  }

  private whileUnavailable(addresses: readonly string[], scope: string | undefined): SuppressionFilterResult {
    const outage = this.outage!;
    if (this.onUnavailable === 'fail') {
      throw new SuppressionUnavailableError(
        `The suppression list is unavailable since ${new Date(outage.since).toISOString()} (${outage.error.message}); ` +
          "the mail was not sent (suppression.onUnavailable is 'fail').",
        { cause: outage.error },
      );
    }
    const allowed: string[] = [];
    const suppressed: SuppressedRecipient[] = [];
    const now = this.clock();
    for (const recipient of addresses) {
      const record = this.buffer.get(bufferKey(scope, normalizeAddress(recipient)))?.record;
      if (record && isLive(record, now)) suppressed.push({ ...toEntry(record), recipient });
      else allowed.push(recipient);
    }
    return { allowed, suppressed };
  }

  private open(error: Error): void {
    if (this.outage || this.closed) return;
    const since = this.clock();
    this.outage = { since, error, dropped: 0, written: 0, wait: this.probeInterval };
    this.listener?.unavailable(error, new Date(since));
    this.schedule();
  }

  private schedule(): void {
    if (this.closed || !this.outage) return;
    this.timer = setTimeout(() => {
      this.probing = this.probe().finally(() => (this.probing = undefined));
    }, this.outage.wait);
    // A process that has nothing else to do may exit during an outage.
    this.timer.unref();
  }

  /** Half-open: one call reaches the store. The buffer is the probe when it holds entries. */
  private async probe(): Promise<void> {
    const outage = this.outage;
    if (!outage || this.closed) return;
    try {
      if (this.buffer.size) await this.flush();
      else await this.bounded(this.store.filter([PROBE_ADDRESS]), 'probing the suppression list');
    } catch {
      outage.wait = Math.min(outage.wait * 2, this.maxProbeInterval);
      this.schedule();
      return;
    }
    this.outage = undefined;
    this.listener?.available({ downtime: this.clock() - outage.since, written: outage.written, dropped: outage.dropped });
  }

  /**
   * Writes the buffer in chunks, one write per list in a chunk; an entry replaced in the buffer
   * meanwhile stays for the next round.
   */
  private async flush(): Promise<void> {
    while (this.buffer.size) {
      const now = this.clock();
      const chunk = [...this.buffer.entries()].slice(0, FLUSH_CHUNK);
      const byList = new Map<string | undefined, SuppressionRecord[]>();
      for (const [, { scope, record }] of chunk) {
        if (!isLive(record, now)) continue;
        const list = byList.get(scope) ?? [];
        list.push(record);
        byList.set(scope, list);
      }
      for (const [scope, records] of byList) {
        await this.bounded(this.listOf(scope).addMany(records.map(toEntry)), 'writing to the suppression list');
        if (this.outage) this.outage.written += records.length;
      }
      for (const [key, buffered] of chunk) {
        if (this.buffer.get(key) === buffered) this.buffer.delete(key);
      }
    }
  }

  private keep(records: readonly SuppressionRecord[], scope: string | undefined): void {
    const outage = this.outage;
    const now = this.clock();
    for (const record of records) {
      const key = bufferKey(scope, record.address);
      const current = this.buffer.get(key);
      if (current) {
        if (replaces(record, current.record, now)) this.buffer.set(key, { scope, record });
        continue;
      }
      if (this.buffer.size >= this.maxBuffered) {
        if (outage && outage.dropped++ === 0) this.listener?.overflow(this.maxBuffered);
        continue;
      }
      this.buffer.set(key, { scope, record });
    }
  }

  /** The call, or SuppressionUnavailableError when it does not settle within `timeout`. */
  private bounded<T>(call: Promise<T>, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new SuppressionUnavailableError(`No answer within ${this.timeout} ms ${what}.`)), this.timeout);
    });
    // A call abandoned at the deadline may still fail later; nobody waits for it then.
    call.catch(() => undefined);
    return Promise.race([call, late]).finally(() => clearTimeout(timer));
  }
}

/**
 * Whether a failure means the store is out of reach, rather than a mistake the store reported
 * (invalid input, a store closed on purpose): every error that is not one of this package's,
 * and SuppressionUnavailableError.
 */
function isOutage(error: unknown): boolean {
  return error instanceof SuppressionUnavailableError || !(error instanceof MailerError);
}
