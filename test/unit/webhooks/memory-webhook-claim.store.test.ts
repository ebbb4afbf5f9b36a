import { describe, expect, it } from 'vitest';
import { MemoryWebhookClaimStore } from '../../../lib/nest/webhooks/memory-webhook-claim.store.js';
import { claimStoreContract } from './webhook-claim-store.contract.js';

claimStoreContract('MemoryWebhookClaimStore', async () => new MemoryWebhookClaimStore());

describe('MemoryWebhookClaimStore', () => {
  function clocked(capacity?: number) {
    const clock = { now: 1_000_000 };
    return { clock, store: new MemoryWebhookClaimStore(capacity, () => clock.now) };
  }

  it('a claim whose holder vanished lapses after its lease, and the next request gets it', async () => {
    const { clock, store } = clocked();
    await store.claim(['a'], 'crashed', 30_000);
    clock.now += 29_999;
    expect(await store.claim(['a'], 'retry', 30_000)).toEqual(['in-flight']);
    clock.now += 1;
    expect(await store.claim(['a'], 'retry', 30_000)).toEqual(['claimed']);
    // The vanished holder cannot release what the retry now holds.
    await store.release(['a'], 'crashed');
    expect(await store.claim(['a'], 'third', 30_000)).toEqual(['in-flight']);
  });

  it('a done key is forgotten after its TTL', async () => {
    const { clock, store } = clocked();
    await store.claim(['a'], 'first', 30_000);
    await store.complete(['a'], 660_000);
    clock.now += 659_999;
    expect(await store.claim(['a'], 'second', 30_000)).toEqual(['done']);
    clock.now += 1;
    expect(await store.claim(['a'], 'second', 30_000)).toEqual(['claimed']);
  });

  it('holds at most `capacity` keys: expired ones go first, then the oldest', async () => {
    const { clock, store } = clocked(3);
    await store.complete(['short'], 10);
    await store.complete(['old', 'newer'], 60_000);
    clock.now += 10;
    await store.complete(['newest'], 60_000);
    expect(store.size).toBe(3);
    expect(await store.claim(['old'], 'x', 1)).toEqual(['done']);
    await store.complete(['one-more'], 60_000);
    expect(store.size).toBe(3);
    // 'old' was the oldest write (looking it up did not rewrite it), so it made room.
    expect(await store.claim(['newer'], 'x', 1)).toEqual(['done']);
    expect(await store.claim(['old'], 'x', 1)).toEqual(['claimed']);
  });
});
