import type { ClaimState, WebhookClaimStore } from './webhook-claim.store.js';

/** Most keys the in-memory store holds (a few tens of bytes each). */
export const DEFAULT_CLAIM_CAPACITY = 100_000;

interface Claim {
  /** The holder of a claim in progress; absent once the key is done. */
  owner?: string;
  expires: number;
}

/**
 * Claims in the process's memory: enough for one instance. Bounded: the map keeps its keys in the
 * order they were last written, and a write past `capacity` drops the oldest ones first.
 */
export class MemoryWebhookClaimStore implements WebhookClaimStore {
  private readonly claims = new Map<string, Claim>();

  constructor(
    private readonly capacity: number = DEFAULT_CLAIM_CAPACITY,
    private readonly clock: () => number = Date.now,
  ) {}

  // Each method runs to its end without awaiting anything, so a claim is atomic.
  async claim(keys: readonly string[], owner: string, leaseMs: number): Promise<ClaimState[]> {
    const now = this.clock();
    return keys.map((key) => {
      const held = this.claims.get(key);
      if (held && held.expires > now) return held.owner === undefined ? 'done' : 'in-flight';
      this.write(key, { owner, expires: now + leaseMs }, now);
      return 'claimed';
    });
  }

  async complete(keys: readonly string[], ttlMs: number): Promise<void> {
    const now = this.clock();
    for (const key of keys) this.write(key, { expires: now + ttlMs }, now);
  }

  async release(keys: readonly string[], owner: string): Promise<void> {
    for (const key of keys) {
      if (this.claims.get(key)?.owner === owner) this.claims.delete(key);
    }
  }

  async close(): Promise<void> {
    this.claims.clear();
  }

  /** How many keys are held, expired ones included until they are pushed out. */
  get size(): number {
    return this.claims.size;
  }

  private write(key: string, claim: Claim, now: number): void {
    this.claims.delete(key);
    for (const [oldest, held] of this.claims) {
      if (held.expires > now && this.claims.size < this.capacity) break;
      this.claims.delete(oldest);
    }
    this.claims.set(key, claim);
  }
}
