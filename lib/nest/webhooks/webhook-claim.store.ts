/**
 * Where a delivery key stands: `claimed` by the caller just now, `in-flight` while another request
 * holds it, or `done` when a request that held it was processed.
 */
export type ClaimState = 'claimed' | 'in-flight' | 'done';

/**
 * Claims on the keys of webhook deliveries, so that a delivery is processed once however many
 * copies arrive and however close together. A request claims its keys before it is processed;
 * claiming is atomic per key, so of two copies arriving together only one gets `claimed`. The
 * claim then becomes `done` for as long as repeats must be recognised, or is released when
 * processing failed, so that the provider's retry is processed.
 */
export interface WebhookClaimStore {
  /**
   * Claims every key that no one holds, for `leaseMs` (after which a claim whose holder vanished
   * lapses), and says where each key stands. `owner` identifies the claim for `release`.
   */
  claim(keys: readonly string[], owner: string, leaseMs: number): Promise<ClaimState[]>;
  /** Marks the keys as processed for `ttlMs`. */
  complete(keys: readonly string[], ttlMs: number): Promise<void>;
  /** Drops the keys that `owner` still holds (a claim that lapsed and was taken over is left alone). */
  release(keys: readonly string[], owner: string): Promise<void>;
  close(): Promise<void>;
}
