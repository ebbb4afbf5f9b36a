import { describe, expect, it } from 'vitest';
import { MailerConfigurationError } from '../../../lib/errors/index.js';
import { MemorySuppressionStore } from '../../../lib/suppression/index.js';
import { suppressionStoreContract } from './suppression-store.contract.js';

suppressionStoreContract('MemorySuppressionStore', {
  open: async (clock) => new MemorySuppressionStore({ clock }),
});

describe('MemorySuppressionStore bound', () => {
  const T0 = Date.parse('2026-03-01T12:00:00.000Z');

  it('drops expired entries first, then those added longest ago', async () => {
    let now = T0;
    const store = new MemorySuppressionStore({ maxEntries: 3, clock: () => now });
    await store.add({ address: 'old@example.com', reason: 'userunknown', source: 'smtp' });
    await store.add({ address: 'brief@example.com', reason: 'hostunknown', source: 'smtp', expiresAt: new Date(T0 + 1_000) });
    await store.add({ address: 'mid@example.com', reason: 'userunknown', source: 'smtp' });
    now = T0 + 1_000;
    await store.add({ address: 'new1@example.com', reason: 'userunknown', source: 'smtp' });
    expect(await store.count()).toBe(3);
    expect(await store.has('old@example.com')).toBe(true);

    // Re-adding moves an address to the back of the line.
    await store.add({ address: 'old@example.com', reason: 'feedback', source: 'webhook' });
    await store.add({ address: 'new2@example.com', reason: 'userunknown', source: 'smtp' });
    expect((await store.list()).entries.map((e) => e.address).sort()).toEqual(['new1@example.com', 'new2@example.com', 'old@example.com']);
  });

  it('can be unbounded, and refuses a nonsensical bound', () => {
    expect(() => new MemorySuppressionStore({ maxEntries: Number.POSITIVE_INFINITY })).not.toThrow();
    for (const maxEntries of [0, -1, 1.5, Number.NaN]) {
      expect(() => new MemorySuppressionStore({ maxEntries })).toThrow(MailerConfigurationError);
    }
  });
});
