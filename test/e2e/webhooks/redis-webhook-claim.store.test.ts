import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MailerConfigurationError } from '../../../lib/errors/mailer.error.js';
import { RedisWebhookClaimStore } from '../../../lib/nest/webhooks/redis-webhook-claim.store.js';
import { deleteKeysByPrefix, redisUrl, uniqueKeyPrefix } from '../../support/redis.js';
import { claimStoreContract } from '../../unit/webhooks/webhook-claim-store.contract.js';

const RUN_PREFIX = uniqueKeyPrefix('webhook-claim-store');
let url: string;
let admin: Redis;
let n = 0;
const nextPrefix = () => `${RUN_PREFIX}${++n}:`;

beforeAll(async () => {
  url = await redisUrl();
  admin = new Redis(url);
});

afterAll(async () => {
  if (!admin) return;
  await deleteKeysByPrefix(admin, RUN_PREFIX);
  await admin.quit();
});

async function connected(keyPrefix: string): Promise<RedisWebhookClaimStore> {
  const store = new RedisWebhookClaimStore({ url, keyPrefix });
  await store.connect();
  return store;
}

claimStoreContract('RedisWebhookClaimStore', () => connected(nextPrefix()));

describe('RedisWebhookClaimStore', () => {
  it('keeps one key per claim: pending with the lease as its TTL, then done with the TTL given', async () => {
    const prefix = nextPrefix();
    const store = await connected(prefix);
    try {
      await store.claim(['sendgrid:evt-1'], 'owner-1', 30_000);
      expect(await admin.get(`${prefix}sendgrid:evt-1`)).toBe('pending:owner-1');
      const lease = await admin.pttl(`${prefix}sendgrid:evt-1`);
      expect(lease).toBeGreaterThan(0);
      expect(lease).toBeLessThanOrEqual(30_000);
      await store.complete(['sendgrid:evt-1'], 660_000);
      expect(await admin.get(`${prefix}sendgrid:evt-1`)).toBe('done');
      const ttl = await admin.pttl(`${prefix}sendgrid:evt-1`);
      expect(ttl).toBeGreaterThan(30_000);
      expect(ttl).toBeLessThanOrEqual(660_000);
    } finally {
      await store.close();
    }
  });

  it('never drops a claim another holder took over after the first one lapsed', async () => {
    const prefix = nextPrefix();
    const store = await connected(prefix);
    try {
      await store.claim(['k'], 'lapsed', 30_000);
      await admin.set(`${prefix}k`, 'pending:successor', 'PX', 30_000); // as if the lease ran out and a retry claimed it
      await store.release(['k'], 'lapsed');
      expect(await admin.get(`${prefix}k`)).toBe('pending:successor');
    } finally {
      await store.close();
    }
  });

  it('two stores on one prefix share claims; on different prefixes they do not', async () => {
    const shared = nextPrefix();
    const [a, b, c] = [await connected(shared), await connected(shared), await connected(nextPrefix())];
    try {
      expect(await a.claim(['k'], 'a', 30_000)).toEqual(['claimed']);
      expect(await b.claim(['k'], 'b', 30_000)).toEqual(['in-flight']);
      expect(await c.claim(['k'], 'c', 30_000)).toEqual(['claimed']);
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });

  it('leaves a client it was given open', async () => {
    const client = new Redis(url);
    const store = new RedisWebhookClaimStore({ client, keyPrefix: nextPrefix() });
    await store.connect();
    await store.close();
    expect(await client.ping()).toBe('PONG');
    await client.quit();
  });

  it('refuses impossible options when it is made, and says how to install ioredis when it is missing', async () => {
    expect(() => new RedisWebhookClaimStore({})).toThrow(MailerConfigurationError);
    expect(() => new RedisWebhookClaimStore({ url, client: admin })).toThrow(/either `url` or `client`/);
    expect(() => new RedisWebhookClaimStore({ url: 'localhost:6379' })).toThrow(/redis:\/\//);
    expect(() => new RedisWebhookClaimStore({ url, keyPrefix: '' })).toThrow(/keyPrefix/);
    const missing = new RedisWebhookClaimStore({ url }, () => {}, 'ioredis-that-is-not-installed');
    await expect(missing.connect()).rejects.toThrow(/dedupe\.redis needs ioredis: run `npm install ioredis`/);
  });

  it('never puts the password of its URL in what it reports', async () => {
    const reported: Error[] = [];
    const store = new RedisWebhookClaimStore({ url: 'redis://:hunter2@127.0.0.1:1' }, (error) => reported.push(error));
    await expect(store.connect()).rejects.toThrow();
    await store.close();
    expect(reported.length).toBeGreaterThan(0);
    expect(reported.map((e) => e.message).join('\n')).not.toContain('hunter2');
  });
});
