import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { classifySmtpReply } from '../../../lib/bounces/index.js';
import { InvalidMailError, MailerConfigurationError, MailerError } from '../../../lib/errors/index.js';
import type { SuppressionInput, SuppressionStore } from '../../../lib/suppression/index.js';

/** How the contract gets a fresh, empty store whose clock it controls. */
export interface StoreHarness {
  open(clock: () => number): Promise<SuppressionStore>;
  /** Runs after each test, after the store is closed (drop keys, …). */
  cleanup?(): Promise<void>;
}

const T0 = Date.parse('2026-03-01T12:00:00.000Z');
const MINUTE = 60_000;
const DAY = 86_400_000;

/**
 * The behaviour every SuppressionStore has. Each store's test file calls this once; anything a
 * store does beyond it is tested next to the call.
 */
export function suppressionStoreContract(name: string, harness: StoreHarness): void {
  describe(`${name}: SuppressionStore contract`, () => {
    let now = T0;
    let store: SuppressionStore;
    const at = (ms: number) => new Date(ms);
    const bounce = (address: string, extra: Partial<SuppressionInput> = {}): SuppressionInput => ({
      address,
      reason: 'userunknown',
      source: 'smtp',
      ...extra,
    });

    beforeEach(async () => {
      now = T0;
      store = await harness.open(() => now);
    });

    afterEach(async () => {
      await store.close();
      await harness.cleanup?.();
    });

    it('adds an entry and finds it by any spelling of the address', async () => {
      const added = await store.add(bounce('  Ada.Lovelace@Example.COM '));
      expect(added).toEqual({ address: 'ada.lovelace@example.com', reason: 'userunknown', source: 'smtp', createdAt: at(T0) });
      expect(await store.has('ada.lovelace@example.com')).toBe(true);
      expect(await store.has('ADA.LOVELACE@EXAMPLE.COM')).toBe(true);
      expect(await store.has('Ada Lovelace <ada.lovelace@example.com>')).toBe(true);
      expect(await store.has('someone.else@example.com')).toBe(false);
      expect(await store.get('Ada.Lovelace@example.com')).toEqual(added);
      expect(await store.get('nobody@example.com')).toBeUndefined();
    });

    it('matches an internationalized domain in Unicode and in punycode', async () => {
      await store.add(bounce('Jürgen@Bücher.example'));
      expect(await store.has('jürgen@xn--bcher-kva.example')).toBe(true);
      expect((await store.get('JÜRGEN@BÜCHER.EXAMPLE'))?.address).toBe('jürgen@xn--bcher-kva.example');
    });

    it('keeps the classification, detail, and both dates', async () => {
      const classification = classifySmtpReply(550, '5.1.1 <gone@example.net>: Recipient address rejected: User unknown', 'gone@example.net', 'RCPT');
      const entry: SuppressionInput = {
        address: 'gone@example.net',
        reason: 'userunknown',
        source: 'smtp',
        classification,
        createdAt: at(T0 - DAY),
        expiresAt: at(T0 + 30 * DAY),
        detail: 'User unknown',
      };
      await store.add(entry);
      expect(await store.get('gone@example.net')).toEqual({ ...entry, classification: { ...classification } });
    });

    it('hands out copies: changing a returned entry changes nothing stored', async () => {
      const added = await store.add(bounce('copy@example.com', { detail: 'original' }));
      added.detail = 'changed';
      added.createdAt.setTime(0);
      const read = await store.get('copy@example.com');
      read!.reason = 'manual';
      expect(await store.get('copy@example.com')).toMatchObject({ detail: 'original', reason: 'userunknown', createdAt: at(T0) });
    });

    it('filter() splits a recipient list, keeping order, duplicates and the spelling given', async () => {
      await store.addMany([bounce('b@example.com'), bounce('d@example.com', { reason: 'feedback', source: 'webhook' })]);
      const { allowed, suppressed } = await store.filter(['a@example.com', 'B@Example.com', 'c@example.com', 'd@example.com', 'b@example.com']);
      expect(allowed).toEqual(['a@example.com', 'c@example.com']);
      expect(suppressed.map((s) => [s.recipient, s.address, s.reason, s.source])).toEqual([
        ['B@Example.com', 'b@example.com', 'userunknown', 'smtp'],
        ['d@example.com', 'd@example.com', 'feedback', 'webhook'],
        ['b@example.com', 'b@example.com', 'userunknown', 'smtp'],
      ]);
      expect(suppressed[0]!.createdAt).toEqual(at(T0));
    });

    it('filter() of nothing is nothing, and strings that are not addresses pass through', async () => {
      expect(await store.filter([])).toEqual({ allowed: [], suppressed: [] });
      expect(await store.filter(['', 'not-an-address'])).toEqual({ allowed: ['', 'not-an-address'], suppressed: [] });
    });

    it('an entry stops counting when it expires', async () => {
      await store.add(bounce('brief@example.com', { reason: 'hostunknown', expiresAt: at(T0 + MINUTE) }));
      await store.add(bounce('forever@example.com'));
      expect(await store.has('brief@example.com')).toBe(true);
      expect(await store.count()).toBe(2);

      now = T0 + MINUTE;
      expect(await store.has('brief@example.com')).toBe(false);
      expect(await store.get('brief@example.com')).toBeUndefined();
      expect(await store.filter(['brief@example.com', 'forever@example.com'])).toMatchObject({ allowed: ['brief@example.com'] });
      expect(await store.count()).toBe(1);
      expect((await store.list()).entries.map((e) => e.address)).toEqual(['forever@example.com']);
      expect(await store.remove('brief@example.com')).toBe(false);
      // A new add of an expired address starts afresh.
      const again = await store.add(bounce('brief@example.com', { reason: 'mailboxfull', expiresAt: at(T0 + 2 * MINUTE) }));
      expect(again).toMatchObject({ reason: 'mailboxfull', createdAt: at(T0 + MINUTE) });
      expect(await store.count()).toBe(2);
    });

    it('a live entry is not replaced by one that ends sooner, unless by hand', async () => {
      const complaint = await store.add({ address: 'x@example.com', reason: 'feedback', source: 'webhook' });
      now += MINUTE;
      // A later bounce with a TTL would shorten a permanent complaint: the complaint stays.
      expect(await store.add(bounce('x@example.com', { reason: 'hostunknown', expiresAt: at(now + DAY) }))).toEqual(complaint);
      expect(await store.get('x@example.com')).toEqual(complaint);
      // Permanent replaces permanent: the newer evidence is kept.
      const hard = await store.add(bounce('x@example.com'));
      expect(hard).toMatchObject({ reason: 'userunknown', createdAt: at(now) });
      expect(await store.get('x@example.com')).toEqual(hard);
      // A person may shorten it.
      const manual = await store.add({ address: 'x@example.com', reason: 'manual', source: 'manual', expiresAt: at(now + DAY), detail: 'ticket 42' });
      expect(await store.get('x@example.com')).toEqual(manual);
      // A longer TTL replaces a shorter one; a shorter one does not replace a longer one.
      const longer = await store.add(bounce('x@example.com', { reason: 'hostunknown', expiresAt: at(now + 2 * DAY) }));
      expect(longer.reason).toBe('hostunknown');
      expect(await store.add(bounce('x@example.com', { reason: 'mailboxfull', expiresAt: at(now + DAY) }))).toEqual(longer);
      // And permanent outlasts any date.
      expect((await store.add(bounce('x@example.com', { reason: 'hasmoved' }))).reason).toBe('hasmoved');
      expect(await store.count()).toBe(1);
      expect((await store.list()).entries).toHaveLength(1);
    });

    it('remove() takes the address off the list once', async () => {
      await store.addMany([bounce('keep@example.com'), bounce('drop@example.com')]);
      expect(await store.remove('DROP@example.com')).toBe(true);
      expect(await store.remove('drop@example.com')).toBe(false);
      expect(await store.has('drop@example.com')).toBe(false);
      expect(await store.count()).toBe(1);
      expect((await store.list()).entries.map((e) => e.address)).toEqual(['keep@example.com']);
      expect(await store.remove('never@example.com')).toBe(false);
    });

    it('addMany() stores in order and resolves to what is stored for each', async () => {
      const stored = await store.addMany([
        { address: 'p@example.com', reason: 'feedback', source: 'bounce-mail' },
        bounce('q@example.com'),
        bounce('p@example.com', { reason: 'mailboxfull', expiresAt: at(T0 + DAY) }),
      ]);
      expect(stored.map((e) => [e.address, e.reason])).toEqual([
        ['p@example.com', 'feedback'],
        ['q@example.com', 'userunknown'],
        ['p@example.com', 'feedback'],
      ]);
      expect(await store.count()).toBe(2);
      expect(await store.addMany([])).toEqual([]);
    });

    it('refuses entries it cannot store, and a bad one in a batch stores none', async () => {
      const refused = async (entry: unknown, field: string) => {
        const error = await store.add(entry as SuppressionInput).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(InvalidMailError);
        expect((error as InvalidMailError).field).toBe(field);
      };
      await refused(bounce('no-at-sign'), 'address');
      await refused(bounce('@example.com'), 'address');
      await refused(bounce('local@'), 'address');
      await refused(bounce('a@example.com', { reason: 'nonsense' as never }), 'reason');
      await refused(bounce('a@example.com', { source: 'carrier-pigeon' as never }), 'source');
      await refused(bounce('a@example.com', { createdAt: new Date('garbage') }), 'createdAt');
      await refused(bounce('a@example.com', { expiresAt: 'tomorrow' as never }), 'expiresAt');
      await expect(store.addMany([bounce('fine@example.com'), bounce('broken')])).rejects.toBeInstanceOf(InvalidMailError);
      expect(await store.count()).toBe(0);
    });

    it('refuses addresses beyond RFC 5321 limits, naming the limit, and takes valid ones at the limits', async () => {
      const tooLong: Array<[string, RegExp]> = [
        [`${'a'.repeat(65)}@example.com`, /local part of 65 octets; RFC 5321 §4\.5\.3\.1\.1 allows at most 64/],
        [`a@${'l'.repeat(64)}.example`, /domain label of 64 octets/],
        ['a..b@example.com', /two dots in a row/],
        ['.a@example.com', /starts with a dot/],
      ];
      for (const [address, limit] of tooLong) {
        const error = await store.add(bounce(address)).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(InvalidMailError);
        expect((error as InvalidMailError).field).toBe('address');
        expect((error as Error).message).toMatch(limit);
      }
      for (const address of [`${'a'.repeat(64)}@example.com`, '"a..b"@example.com', 'ada+tag@bücher.example', 'jürgen@example.com', `a@${'l'.repeat(63)}`]) {
        await store.add(bounce(address));
      }
      expect(await store.count()).toBe(5);
      expect(await store.has('ADA+tag@xn--bcher-kva.example')).toBe(true);
    });

    it('lists newest first, page by page, without gaps or repeats', async () => {
      const entries: SuppressionInput[] = [];
      // 25 entries over 20 distinct instants: some share a creation time.
      for (let i = 0; i < 25; i++) entries.push(bounce(`user${String(i).padStart(2, '0')}@example.com`, { createdAt: at(T0 - Math.floor(i * 0.8) * MINUTE) }));
      await store.addMany(entries);
      const seen: string[] = [];
      const sizes: number[] = [];
      let cursor: string | undefined;
      let previous = Number.POSITIVE_INFINITY;
      do {
        const page = await store.list({ cursor, limit: 10 });
        sizes.push(page.entries.length);
        for (const entry of page.entries) {
          expect(entry.createdAt.getTime()).toBeLessThanOrEqual(previous);
          previous = entry.createdAt.getTime();
          seen.push(entry.address);
        }
        cursor = page.nextCursor;
      } while (cursor);
      expect(sizes).toEqual([10, 10, 5]);
      expect(new Set(seen).size).toBe(25);
      expect(seen.slice(0, 2).sort()).toEqual(['user00@example.com', 'user01@example.com']);
      expect(seen.at(-1)).toBe('user24@example.com');
    });

    it('the last full page carries no cursor', async () => {
      await store.addMany(Array.from({ length: 20 }, (_, i) => bounce(`n${i}@example.com`, { createdAt: at(T0 - i) })));
      const first = await store.list({ limit: 10 });
      expect(first.nextCursor).toBeDefined();
      const second = await store.list({ limit: 10, cursor: first.nextCursor });
      expect(second.entries).toHaveLength(10);
      expect(second.nextCursor).toBeUndefined();
      expect((await store.list()).entries).toHaveLength(20);
    });

    it('a cursor stays valid while entries are added and removed', async () => {
      await store.addMany(Array.from({ length: 6 }, (_, i) => bounce(`m${i}@example.com`, { createdAt: at(T0 - i * MINUTE) })));
      const first = await store.list({ limit: 3 });
      expect(first.entries.map((e) => e.address)).toEqual(['m0@example.com', 'm1@example.com', 'm2@example.com']);
      await store.add(bounce('newest@example.com', { createdAt: at(T0 + MINUTE) }));
      await store.remove('m3@example.com');
      const second = await store.list({ limit: 3, cursor: first.nextCursor });
      expect(second.entries.map((e) => e.address)).toEqual(['m4@example.com', 'm5@example.com']);
      expect(second.nextCursor).toBeUndefined();
    });

    it('lists by reason and by source', async () => {
      await store.addMany([
        bounce('u1@example.com', { createdAt: at(T0 - 1) }),
        { address: 'c1@example.com', reason: 'feedback', source: 'webhook', createdAt: at(T0 - 2) },
        bounce('u2@example.com', { source: 'bounce-mail', createdAt: at(T0 - 3) }),
        { address: 'm1@example.com', reason: 'manual', source: 'manual', createdAt: at(T0 - 4) },
        { address: 'c2@example.com', reason: 'feedback', source: 'bounce-mail', createdAt: at(T0 - 5) },
      ]);
      const addresses = async (options: Parameters<SuppressionStore['list']>[0]) => {
        const out: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await store.list({ ...options, cursor });
          out.push(...page.entries.map((e) => e.address));
          cursor = page.nextCursor;
        } while (cursor);
        return out;
      };
      expect(await addresses({ reason: 'feedback' })).toEqual(['c1@example.com', 'c2@example.com']);
      expect(await addresses({ reason: 'feedback', limit: 1 })).toEqual(['c1@example.com', 'c2@example.com']);
      expect(await addresses({ source: 'bounce-mail' })).toEqual(['u2@example.com', 'c2@example.com']);
      expect(await addresses({ reason: 'feedback', source: 'webhook' })).toEqual(['c1@example.com']);
      expect(await addresses({ reason: 'hasmoved' })).toEqual([]);
    });

    it('refuses list options it cannot honour', async () => {
      for (const options of [{ limit: 0 }, { limit: 1001 }, { limit: 2.5 }, { cursor: 'not-a-cursor' }, { reason: 'nope' }, { source: 'nope' }]) {
        await expect(store.list(options as never)).rejects.toBeInstanceOf(InvalidMailError);
      }
    });

    it('an empty store lists nothing and counts zero', async () => {
      expect(await store.list()).toEqual({ entries: [] });
      expect(await store.count()).toBe(0);
    });

    it('refuses to work after close(), which may be called twice', async () => {
      await store.close();
      await store.close();
      await expect(store.has('a@example.com')).rejects.toBeInstanceOf(MailerError);
      await expect(store.filter(['a@example.com'])).rejects.toBeInstanceOf(MailerError);
      await expect(store.add(bounce('a@example.com'))).rejects.toBeInstanceOf(MailerError);
    });

    describe('scopes (forScope)', () => {
      const scoped = () => {
        if (typeof store.forScope !== 'function') throw new Error('this store keeps no scopes');
        return store as SuppressionStore & { forScope(scope: string): SuppressionStore };
      };

      it('keeps each scope apart from the shared list and from the other scopes', async () => {
        const root = scoped();
        const acme = root.forScope('acme');
        const globex = root.forScope('globex-2');
        expect(root.forScope('acme')).toBe(acme);
        await acme.add(bounce('ada@example.com'));
        await root.add(bounce('grace@example.com', { reason: 'feedback', source: 'webhook' }));
        expect(await acme.has('Ada@Example.com')).toBe(true);
        expect(await root.has('ada@example.com')).toBe(false);
        expect(await globex.has('ada@example.com')).toBe(false);
        expect(await acme.has('grace@example.com')).toBe(false);
        expect(await acme.filter(['ada@example.com', 'grace@example.com'])).toMatchObject({
          allowed: ['grace@example.com'],
          suppressed: [{ address: 'ada@example.com', recipient: 'ada@example.com' }],
        });
        expect(await acme.count()).toBe(1);
        expect(await root.count()).toBe(1);
        expect((await acme.list()).entries.map((e) => e.address)).toEqual(['ada@example.com']);
        expect(await globex.remove('ada@example.com')).toBe(false);
        expect(await acme.remove('ada@example.com')).toBe(true);
        expect(await root.has('grace@example.com')).toBe(true);
      });

      it('refuses a scope that is no name, and scopes of a scope', async () => {
        const root = scoped();
        for (const bad of ['', 'a:b', 'a b', 'x'.repeat(101), 'tenant/1']) {
          expect(() => root.forScope(bad)).toThrow(MailerConfigurationError);
        }
        const acme = root.forScope('acme');
        expect(() => (acme as typeof root).forScope('inner')).toThrow(/call forScope\(\) on the store itself/);
      });

      it("closes the scopes' lists with the store", async () => {
        const acme = scoped().forScope('acme');
        await acme.add(bounce('ada@example.com'));
        await store.close();
        await expect(acme.has('ada@example.com')).rejects.toBeInstanceOf(MailerError);
      });
    });
  });
}
