import { Redis, type RedisOptions } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { MailerConfigurationError } from '../../../lib/errors/index.js';
import {
  DEFAULT_SUPPRESSION_KEY_PREFIX,
  RedisSuppressionStore,
  importIoredis,
  type SuppressionRedisClient,
} from '../../../lib/suppression/index.js';
import { deleteKeysByPrefix, redisUrl, stopRedis, uniqueKeyPrefix } from '../../support/redis.js';
import { suppressionStoreContract } from '../../unit/suppression/suppression-store.contract.js';

const RUN_PREFIX = uniqueKeyPrefix('suppression');
const T0 = Date.parse('2026-03-01T12:00:00.000Z');

let url: string;
let admin: Redis;
let counter = 0;
const nextPrefix = () => `${RUN_PREFIX}${++counter}:`;

beforeAll(async () => {
  url = await redisUrl();
  admin = new Redis(url);
});

afterAll(async () => {
  if (admin) {
    await deleteKeysByPrefix(admin, RUN_PREFIX);
    await admin.quit();
  }
  await stopRedis();
});

let contractPrefix = '';
suppressionStoreContract('RedisSuppressionStore', {
  open: async (clock) => {
    contractPrefix = nextPrefix();
    return RedisSuppressionStore.create({ url, keyPrefix: contractPrefix, clock });
  },
  cleanup: async () => {
    await deleteKeysByPrefix(admin, contractPrefix);
  },
});

describe('RedisSuppressionStore', () => {
  const opened: RedisSuppressionStore[] = [];
  const clients: Redis[] = [];
  const open = (options: ConstructorParameters<typeof RedisSuppressionStore>[0]) => {
    const store = new RedisSuppressionStore(options);
    opened.push(store);
    return store;
  };
  const client = (options: RedisOptions = {}) => {
    const c = new Redis(url, options);
    clients.push(c);
    return c;
  };

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
    await Promise.all(clients.splice(0).map((c) => c.quit()));
  });

  it('is shared by every instance that uses the same prefix', async () => {
    const keyPrefix = nextPrefix();
    const a = open({ url, keyPrefix });
    const b = open({ client: client(), keyPrefix });
    const other = open({ url, keyPrefix: nextPrefix() });

    await a.add({ address: 'shared@example.com', reason: 'userunknown', source: 'smtp' });
    expect(await b.has('Shared@Example.com')).toBe(true);
    expect((await b.filter(['shared@example.com', 'free@example.com'])).allowed).toEqual(['free@example.com']);
    expect(await other.has('shared@example.com')).toBe(false);

    await b.add({ address: 'second@example.com', reason: 'feedback', source: 'webhook' });
    expect(await a.count()).toBe(2);
    expect((await a.list()).entries.map((e) => e.address).sort()).toEqual(['second@example.com', 'shared@example.com']);

    expect(await b.remove('shared@example.com')).toBe(true);
    expect(await a.has('shared@example.com')).toBe(false);
    expect(await a.remove('shared@example.com')).toBe(false);
    expect(await a.count()).toBe(1);
  });

  it("keeps a scope's list under <keyPrefix>scope:<scope>:, hash tag included", async () => {
    const keyPrefix = `${nextPrefix()}{tag}:`;
    const store = open({ url, keyPrefix });
    await store.connect();
    const acme = store.forScope('acme');
    await acme.add({ address: 'ada@example.com', reason: 'userunknown', source: 'smtp' });
    expect(await admin.hkeys(`${keyPrefix}scope:acme:entries`)).toEqual(['ada@example.com']);
    expect(await admin.exists(`${keyPrefix}entries`)).toBe(0);
    await store.close();
    // The connection is the store's: closed with it, the scope's list cannot reach Redis either.
    await expect(acme.has('ada@example.com')).rejects.toBeInstanceOf(MailerConfigurationError);
  });

  it('filter() is one command however many recipients there are', async () => {
    const real = client();
    const calls: string[] = [];
    const counting = new Proxy(real, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          calls.push(String(property));
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const store = open({ client: counting as unknown as SuppressionRedisClient, keyPrefix: nextPrefix() });
    const recipients = Array.from({ length: 1_000 }, (_, i) => `r${i}@example.com`);
    await store.addMany(recipients.filter((_, i) => i % 100 === 0).map((address) => ({ address, reason: 'userunknown' as const, source: 'smtp' as const })));

    calls.length = 0;
    const { allowed, suppressed } = await store.filter(recipients);
    expect(calls).toEqual(['hmget']);
    expect(allowed).toHaveLength(990);
    expect(suppressed.map((s) => s.recipient)).toEqual(recipients.filter((_, i) => i % 100 === 0));
  });

  it('keeps the three keys of its data model in step', async () => {
    let now = T0;
    const keyPrefix = nextPrefix();
    const store = open({ url, keyPrefix, clock: () => now });
    await store.addMany([
      { address: 'perm@example.com', reason: 'userunknown', source: 'smtp' },
      { address: 'temp@example.com', reason: 'hostunknown', source: 'smtp', expiresAt: new Date(T0 + 1_000) },
      { address: 'gone@example.com', reason: 'feedback', source: 'webhook', createdAt: new Date(T0 - 5) },
    ]);
    expect(await admin.type(`${keyPrefix}entries`)).toBe('hash');
    expect(JSON.parse((await admin.hget(`${keyPrefix}entries`, 'perm@example.com'))!)).toEqual({ reason: 'userunknown', source: 'smtp', createdAt: T0 });
    expect(await admin.zrange(`${keyPrefix}by-created`, 0, -1, 'WITHSCORES')).toEqual([
      `${String(T0 - 5).padStart(15, '0')}:gone@example.com`, '0',
      `${String(T0).padStart(15, '0')}:perm@example.com`, '0',
      `${String(T0).padStart(15, '0')}:temp@example.com`, '0',
    ]);
    expect(await admin.zrange(`${keyPrefix}by-expiry`, 0, -1, 'WITHSCORES')).toEqual(['temp@example.com', String(T0 + 1_000)]);

    await store.remove('gone@example.com');
    expect(await admin.zcard(`${keyPrefix}by-created`)).toBe(2);
    expect(await admin.hlen(`${keyPrefix}entries`)).toBe(2);

    // Expired entries read as absent at once, and leave all three keys at the next write or count.
    now = T0 + 1_000;
    expect(await store.has('temp@example.com')).toBe(false);
    expect(await admin.hlen(`${keyPrefix}entries`)).toBe(2);
    expect(await store.count()).toBe(1);
    expect(await admin.hkeys(`${keyPrefix}entries`)).toEqual(['perm@example.com']);
    expect(await admin.zcard(`${keyPrefix}by-created`)).toBe(1);
    expect(await admin.zcard(`${keyPrefix}by-expiry`)).toBe(0);

    // Replacing an entry moves it in the time index rather than adding a second member.
    now = T0 + 2_000;
    await store.add({ address: 'perm@example.com', reason: 'hasmoved', source: 'bounce-mail' });
    expect(await admin.zrange(`${keyPrefix}by-created`, 0, -1)).toEqual([`${String(T0 + 2_000).padStart(15, '0')}:perm@example.com`]);
  });

  it('pages through a filter that skips most entries', async () => {
    const store = open({ url, keyPrefix: nextPrefix() });
    const entries = Array.from({ length: 600 }, (_, i) => ({
      address: `p${i}@example.com`,
      reason: i === 10 || i === 590 ? ('feedback' as const) : ('userunknown' as const),
      source: 'smtp' as const,
      createdAt: new Date(T0 - i),
    }));
    await store.addMany(entries);
    expect(await store.count()).toBe(600);
    const first = await store.list({ reason: 'feedback', limit: 1 });
    expect(first.entries.map((e) => e.address)).toEqual(['p10@example.com']);
    const second = await store.list({ reason: 'feedback', limit: 1, cursor: first.nextCursor });
    expect(second.entries.map((e) => e.address)).toEqual(['p590@example.com']);
    expect(second.nextCursor).toBeUndefined();
  });

  it('works through a client that has its own ioredis keyPrefix', async () => {
    const outer = nextPrefix();
    const store = open({ client: client({ keyPrefix: outer }), keyPrefix: 'inner:' });
    await store.add({ address: 'nested@example.com', reason: 'userunknown', source: 'smtp' });
    expect(await store.filter(['nested@example.com'])).toMatchObject({ allowed: [] });
    expect((await store.list()).entries).toHaveLength(1);
    expect(await admin.hexists(`${outer}inner:entries`, 'nested@example.com')).toBe(1);
    expect(await store.remove('nested@example.com')).toBe(true);
    expect(await store.count()).toBe(0);
  });

  it('loads its scripts again after SCRIPT FLUSH', async () => {
    const store = open({ url, keyPrefix: nextPrefix() });
    await store.add({ address: 'before@example.com', reason: 'userunknown', source: 'smtp' });
    await admin.script('FLUSH');
    await store.add({ address: 'after@example.com', reason: 'userunknown', source: 'smtp' });
    expect(await store.count()).toBe(2);
  });

  it('quits a client it opened, and leaves one it was given open', async () => {
    const given = client();
    const borrowing = open({ client: given, keyPrefix: nextPrefix() });
    await borrowing.connect();
    await borrowing.close();
    expect(await given.ping()).toBe('PONG');
    await expect(borrowing.has('a@example.com')).rejects.toBeInstanceOf(MailerConfigurationError);

    const owning = await RedisSuppressionStore.create({ url, keyPrefix: nextPrefix() });
    const own = Reflect.get(owning, 'client') as Redis;
    expect(own.status).toBe('ready');
    await owning.close();
    // QUIT is answered before the socket closes.
    await vi.waitFor(() => expect(own.status).toBe('end'));
    await owning.close();
  });

  it('a store closed before it ever connected opens nothing', async () => {
    const store = new RedisSuppressionStore({ url });
    await store.close();
    expect(Reflect.get(store, 'client')).toBeUndefined();
    await expect(store.count()).rejects.toBeInstanceOf(MailerConfigurationError);
  });

  it('an ioredis instance satisfies the client type', () => {
    const typed: SuppressionRedisClient = client();
    expect(typeof typed.evalsha).toBe('function');
  });

  it('refuses options that cannot work', () => {
    const given = client();
    for (const options of [{}, { url, client: given }, { url: 'http://127.0.0.1:6379' }, { url, keyPrefix: '' }]) {
      expect(() => new RedisSuppressionStore(options as never)).toThrow(MailerConfigurationError);
    }
    expect(DEFAULT_SUPPRESSION_KEY_PREFIX).toBe('mailroom:suppression:');
  });

  it('names the install command when ioredis is missing', async () => {
    const error = await importIoredis('ioredis-not-installed').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MailerConfigurationError);
    expect((error as Error).message).toContain('npm install ioredis');
    expect(typeof (await importIoredis())).toBe('function');
  });
});
