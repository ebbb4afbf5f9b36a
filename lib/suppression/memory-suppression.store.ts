import { MailerConfigurationError } from '../errors/mailer.error.js';
import { normalizeAddress } from './suppression.address.js';
import { checkSuppressionScope } from './suppression.scope.js';
import {
  addressOfCursorKey,
  cursorKey,
  isLive,
  listCursor,
  listFilter,
  listLimit,
  prepareRecord,
  replaces,
  toEntry,
  type SuppressionRecord,
} from './suppression.entry.js';
import type {
  SuppressedRecipient,
  SuppressionEntry,
  SuppressionFilterResult,
  SuppressionInput,
  SuppressionListOptions,
  SuppressionPage,
  SuppressionStore,
} from './suppression.types.js';

export interface MemorySuppressionStoreOptions {
  /**
   * Most entries kept. When an add would go past it, expired entries are dropped first, then the
   * entries added longest ago. Default 100,000 (tens of megabytes at most); `Infinity` for no
   * bound. The list lives and dies with the process: for several instances, or a list that must
   * survive a restart, use RedisSuppressionStore.
   */
  maxEntries?: number;
  /** Epoch milliseconds; for tests. Default `Date.now`. */
  clock?: () => number;
}

export const DEFAULT_MEMORY_MAX_ENTRIES = 100_000;

/** Keeps the list in a Map in this process. The default store. */
export class MemorySuppressionStore implements SuppressionStore {
  /** Insertion order is the order entries were added, which is what eviction goes by. */
  private readonly records = new Map<string, SuppressionRecord>();
  /** Cursor keys, newest first; rebuilt on the first list() after a change. */
  private sorted?: string[];
  /** The earliest expiresAt among the records, so purging costs nothing until something is due. */
  private nextExpiry = Number.POSITIVE_INFINITY;
  private readonly maxEntries: number;
  private readonly clock: () => number;
  private closed = false;
  /** The lists of scopes (see `forScope`), each bounded by `maxEntries` on its own. */
  private readonly scopes = new Map<string, MemorySuppressionStore>();
  /** Set on the list of a scope: scopes do not nest. */
  private scopeOf?: string;

  constructor(options: MemorySuppressionStoreOptions = {}) {
    const max = options.maxEntries ?? DEFAULT_MEMORY_MAX_ENTRIES;
    if (!(max === Number.POSITIVE_INFINITY || (Number.isInteger(max) && max >= 1))) {
      throw new MailerConfigurationError(`MemorySuppressionStore: maxEntries must be a whole number of at least 1 or Infinity, got ${String(max)}.`);
    }
    this.maxEntries = max;
    this.clock = options.clock ?? Date.now;
  }

  async add(entry: SuppressionInput): Promise<SuppressionEntry> {
    this.assertOpen();
    return toEntry(this.put(prepareRecord(entry, this.clock())));
  }

  async addMany(entries: readonly SuppressionInput[]): Promise<SuppressionEntry[]> {
    this.assertOpen();
    const now = this.clock();
    // Check everything first, so a bad entry leaves the store as it was.
    const records = entries.map((entry) => prepareRecord(entry, now));
    return records.map((record) => toEntry(this.put(record)));
  }

  async has(address: string): Promise<boolean> {
    this.assertOpen();
    return this.live(normalizeAddress(address), this.clock()) !== undefined;
  }

  async filter(addresses: readonly string[]): Promise<SuppressionFilterResult> {
    this.assertOpen();
    const now = this.clock();
    const allowed: string[] = [];
    const suppressed: SuppressedRecipient[] = [];
    for (const recipient of addresses) {
      const record = this.live(normalizeAddress(recipient), now);
      if (record) suppressed.push({ ...toEntry(record), recipient });
      else allowed.push(recipient);
    }
    return { allowed, suppressed };
  }

  async get(address: string): Promise<SuppressionEntry | undefined> {
    this.assertOpen();
    const record = this.live(normalizeAddress(address), this.clock());
    return record && toEntry(record);
  }

  async remove(address: string): Promise<boolean> {
    this.assertOpen();
    const key = normalizeAddress(address);
    const record = this.records.get(key);
    if (!record) return false;
    this.records.delete(key);
    this.sorted = undefined;
    return isLive(record, this.clock());
  }

  async list(options: SuppressionListOptions = {}): Promise<SuppressionPage> {
    this.assertOpen();
    const limit = listLimit(options);
    const cursor = listCursor(options);
    const matches = listFilter(options);
    const now = this.clock();
    this.purge(now);
    const keys = this.sortedKeys();
    const entries: SuppressionEntry[] = [];
    let last: string | undefined;
    for (let i = cursor === undefined ? 0 : firstAfter(keys, cursor); i < keys.length; i++) {
      const record = this.records.get(addressOfCursorKey(keys[i]!));
      if (!record || !isLive(record, now) || !matches(record)) continue;
      if (entries.length === limit) return { entries, nextCursor: last };
      entries.push(toEntry(record));
      last = keys[i];
    }
    return { entries };
  }

  async count(): Promise<number> {
    this.assertOpen();
    this.purge(this.clock());
    return this.records.size;
  }

  /**
   * The list of one scope (a tenant): a store of its own, with the same `maxEntries` bound and
   * clock, created on first use. Closed with this store.
   */
  forScope(scope: string): MemorySuppressionStore {
    this.assertOpen();
    checkSuppressionScope(scope, 'MemorySuppressionStore');
    if (this.scopeOf !== undefined) {
      throw new MailerConfigurationError(`MemorySuppressionStore: this is the list of scope "${this.scopeOf}"; call forScope() on the store itself.`);
    }
    let list = this.scopes.get(scope);
    if (!list) {
      list = new MemorySuppressionStore({ maxEntries: this.maxEntries, clock: this.clock });
      list.scopeOf = scope;
      this.scopes.set(scope, list);
    }
    return list;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.records.clear();
    this.sorted = undefined;
    for (const list of this.scopes.values()) await list.close();
    this.scopes.clear();
  }

  private assertOpen(): void {
    if (this.closed) throw new MailerConfigurationError('The suppression store is closed.');
  }

  private live(address: string, now: number): SuppressionRecord | undefined {
    const record = this.records.get(address);
    return record && isLive(record, now) ? record : undefined;
  }

  private put(record: SuppressionRecord): SuppressionRecord {
    const now = this.clock();
    const current = this.records.get(record.address);
    if (current && !replaces(record, current, now)) return current;
    // Delete first so the Map moves the address to the end: "added longest ago" stays first.
    this.records.delete(record.address);
    this.records.set(record.address, record);
    this.sorted = undefined;
    if (record.expiresAt !== undefined && record.expiresAt < this.nextExpiry) this.nextExpiry = record.expiresAt;
    if (this.records.size > this.maxEntries) this.evict(now);
    return record;
  }

  private evict(now: number): void {
    this.purge(now);
    for (const address of this.records.keys()) {
      if (this.records.size <= this.maxEntries) break;
      this.records.delete(address);
    }
  }

  private purge(now: number): void {
    if (now < this.nextExpiry) return;
    let next = Number.POSITIVE_INFINITY;
    for (const [address, record] of this.records) {
      if (record.expiresAt === undefined) continue;
      if (record.expiresAt <= now) {
        this.records.delete(address);
        this.sorted = undefined;
      } else if (record.expiresAt < next) {
        next = record.expiresAt;
      }
    }
    this.nextExpiry = next;
  }

  private sortedKeys(): string[] {
    if (!this.sorted) {
      const keys: string[] = [];
      for (const record of this.records.values()) keys.push(cursorKey(record.createdAt, record.address));
      keys.sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));
      this.sorted = keys;
    }
    return this.sorted;
  }
}

/** Index of the first key that sorts after `cursor` in newest-first order (keys descending). */
function firstAfter(keys: readonly string[], cursor: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! >= cursor) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
