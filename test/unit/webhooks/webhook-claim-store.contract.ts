import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { WebhookClaimStore } from '../../../lib/nest/webhooks/webhook-claim.store.js';

const LEASE = 30_000;
const TTL = 600_000;

/** What every claim store does, run against the memory store and a real Redis alike. */
export function claimStoreContract(name: string, open: () => Promise<WebhookClaimStore>, cleanup: () => Promise<void> = async () => {}): void {
  describe(`${name}: the claim contract`, () => {
    let store: WebhookClaimStore;
    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      await cleanup();
      await store.close();
    });

    it('claims keys no one holds; another request finds them in flight', async () => {
      expect(await store.claim(['a', 'b'], 'first', LEASE)).toEqual(['claimed', 'claimed']);
      expect(await store.claim(['a', 'b', 'c'], 'second', LEASE)).toEqual(['in-flight', 'in-flight', 'claimed']);
    });

    it('a completed key is done for everyone, the holder included', async () => {
      await store.claim(['a'], 'first', LEASE);
      await store.complete(['a'], TTL);
      expect(await store.claim(['a'], 'second', LEASE)).toEqual(['done']);
      expect(await store.claim(['a'], 'first', LEASE)).toEqual(['done']);
    });

    it('a released key can be claimed again; only its holder can release it', async () => {
      await store.claim(['a'], 'first', LEASE);
      await store.release(['a'], 'second');
      expect(await store.claim(['a'], 'third', LEASE)).toEqual(['in-flight']);
      await store.release(['a'], 'first');
      expect(await store.claim(['a'], 'third', LEASE)).toEqual(['claimed']);
    });

    it('release leaves a done key done', async () => {
      await store.claim(['a'], 'first', LEASE);
      await store.complete(['a'], TTL);
      await store.release(['a'], 'first');
      expect(await store.claim(['a'], 'second', LEASE)).toEqual(['done']);
    });

    it('of many requests claiming one key at once, exactly one gets it', async () => {
      const states = await Promise.all(Array.from({ length: 25 }, (_, i) => store.claim(['contested'], `owner-${i}`, LEASE)));
      expect(states.flat().filter((s) => s === 'claimed')).toHaveLength(1);
      expect(states.flat().filter((s) => s === 'in-flight')).toHaveLength(24);
    });

    it('claims nothing for no keys', async () => {
      expect(await store.claim([], 'first', LEASE)).toEqual([]);
      await store.complete([], TTL);
      await store.release([], 'first');
    });
  });
}
