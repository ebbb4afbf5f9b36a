import type { BounceReason, Classification } from '../core/classification.types.js';

/**
 * Why an address is suppressed: the bounce reason that put it there (`userunknown`, `hostunknown`,
 * `hasmoved`, `notaccept`, `feedback` for complaints, `suppressed` when a provider had already
 * suppressed it, …), or `manual` when a person added it.
 */
export type SuppressionReason = BounceReason | 'manual';

export const SUPPRESSION_SOURCES = ['smtp', 'bounce-mail', 'webhook', 'manual', 'provider'] as const;

/**
 * Where the evidence came from: an SMTP reply (`smtp`), a bounce or complaint e-mail
 * (`bounce-mail`), a provider webhook (`webhook`), a person (`manual`), or a provider's API
 * answer or suppression-list export (`provider`).
 */
export type SuppressionSource = (typeof SUPPRESSION_SOURCES)[number];

/** One suppressed address, as a store returns it. */
export interface SuppressionEntry {
  /**
   * The address in matching form (see `normalizeAddress`): trimmed, lower-cased as a whole, and an
   * internationalized domain in its ASCII (punycode) form.
   */
  address: string;
  reason: SuppressionReason;
  source: SuppressionSource;
  /** The classification that caused the entry, when it came from one. */
  classification?: Classification;
  /** When the entry was added (or last replaced). Lists are ordered by it, newest first. */
  createdAt: Date;
  /** When the entry stops counting; absent means permanent. An expired entry is as good as removed. */
  expiresAt?: Date;
  /** Free text for the support team: the remote reply, a ticket number, … */
  detail?: string;
}

/** What `add()` takes: an entry whose `createdAt` defaults to now and whose address may be in any form. */
export interface SuppressionInput extends Omit<SuppressionEntry, 'createdAt'> {
  createdAt?: Date;
}

/** A recipient that `filter()` held back: the entry that matched, plus the recipient as it was given. */
export interface SuppressedRecipient extends SuppressionEntry {
  /** The string passed to `filter()`, unchanged (it may differ from `address` in case or form). */
  recipient: string;
}

/** The answer of `filter()`: both lists keep the order of the input, duplicates included. */
export interface SuppressionFilterResult {
  allowed: string[];
  suppressed: SuppressedRecipient[];
}

export interface SuppressionListOptions {
  /** `nextCursor` of the previous page; omit for the first (newest) page. */
  cursor?: string;
  /** Entries per page: 1 to 1000, default 100. */
  limit?: number;
  reason?: SuppressionReason;
  source?: SuppressionSource;
}

export interface SuppressionPage {
  /** Newest first. */
  entries: SuppressionEntry[];
  /**
   * Present while more entries may follow; pass it back as `cursor`. When filtering by reason or
   * source, a page may hold fewer than `limit` entries (even none) and still carry a cursor: the
   * store stops scanning after a bounded amount of work per call.
   */
  nextCursor?: string;
}

/**
 * Where suppressed addresses live. Every method normalizes the addresses it is given, so
 * `Ada@Example.COM` and `ada@example.com` are the same entry. Expired entries are never returned.
 */
export interface SuppressionStore {
  /**
   * Adds an entry, or replaces the one the address already has. A live entry is not replaced by
   * one that ends sooner (a permanent complaint is not turned into a week-long suppression by a
   * later bounce), unless the new entry's source is `manual`. Resolves to the entry now stored.
   */
  add(entry: SuppressionInput): Promise<SuppressionEntry>;
  /** `add()` for many entries at once; resolves to the stored entries in input order. */
  addMany(entries: readonly SuppressionInput[]): Promise<SuppressionEntry[]>;
  has(address: string): Promise<boolean>;
  /** Splits a recipient list into allowed and suppressed, in one round trip to the store. */
  filter(addresses: readonly string[]): Promise<SuppressionFilterResult>;
  get(address: string): Promise<SuppressionEntry | undefined>;
  /** Removes the address; resolves to whether a live entry was there. */
  remove(address: string): Promise<boolean>;
  /** Pages through the entries, newest first. */
  list(options?: SuppressionListOptions): Promise<SuppressionPage>;
  /** Live entries. */
  count(): Promise<number>;
  /**
   * Optional: opens and checks the connection, so a store that cannot work fails at start-up
   * rather than at the first send. Stores that need no connection leave it out.
   */
  connect?(): Promise<void>;
  /**
   * Optional: the list of one scope — a tenant, say — kept apart from this list and from every
   * other scope's, and the same object each time for the same scope. Sends through a transport
   * that has a `suppressionScope` read and write that list instead of the shared one. A scope is
   * 1 to 100 letters, digits, dots, dashes and underscores. MemorySuppressionStore and
   * RedisSuppressionStore have it; a mailer whose store lacks it refuses to give a transport a
   * scope. Closing this store closes its scopes' lists too.
   */
  forScope?(scope: string): SuppressionStore;
  /** Releases what the store opened itself. Safe to call more than once; later calls fail. */
  close(): Promise<void>;
}
