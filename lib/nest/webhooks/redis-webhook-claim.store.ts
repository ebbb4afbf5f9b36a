import { createHash } from 'node:crypto';
import { MailerConfigurationError } from '../../errors/mailer.error.js';
import { importIoredis, IOREDIS_PACKAGE } from '../../suppression/ioredis.loader.js';
import type { ClaimState, WebhookClaimStore } from './webhook-claim.store.js';

/**
 * The commands the claim store sends. An ioredis `Redis` (or `Cluster`) instance has them; typed by
 * shape so that ioredis stays an optional peer dependency.
 */
export interface WebhookClaimRedisClient {
  evalsha(sha: string, numKeys: number, ...args: Array<string | number>): Promise<unknown>;
  eval(script: string, numKeys: number, ...args: Array<string | number>): Promise<unknown>;
  ping(): Promise<string>;
  quit(): Promise<unknown>;
  disconnect(): void;
}

/** A client the store opened itself: it also listens to it. */
interface OwnedClient extends WebhookClaimRedisClient {
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'ready', listener: () => void): unknown;
}

type OwnedClientConstructor = new (url: string, options: Record<string, unknown>) => OwnedClient;

export interface RedisWebhookClaimStoreOptions {
  /** An ioredis client the application owns; the store never closes it. Give this or `url`. */
  client?: WebhookClaimRedisClient;
  /** `redis://…` or `rediss://…`: the store opens its own client and quits it on close. */
  url?: string;
  /** Prefix of every key. Default `mailroom:webhooks:`. */
  keyPrefix?: string;
}

export const DEFAULT_CLAIM_KEY_PREFIX = 'mailroom:webhooks:';

/**
 * Bounds on the store's own client: a command that gets no answer fails after COMMAND_TIMEOUT_MS
 * (the request is then answered 503 and delivered again) instead of holding the webhook request
 * while Redis is away.
 */
const COMMAND_TIMEOUT_MS = 2_000;
const CONNECT_TIMEOUT_MS = 5_000;

/*
 * One key per delivery key: absent (never seen, or forgotten), `pending:<owner>` while a request
 * holds it (expiring with the lease), `done` once processed (expiring after the provider's replay
 * window). Each script touches one key, so they run on Redis Cluster with any prefix.
 */
const CLAIM = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 'claimed' end
if redis.call('GET', KEYS[1]) == 'done' then return 'done' end
return 'in-flight'
`;
const COMPLETE = `return redis.call('SET', KEYS[1], 'done', 'PX', ARGV[1])`;
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

const sha1 = (script: string) => createHash('sha1').update(script).digest('hex');
const SCRIPTS = { claim: [CLAIM, sha1(CLAIM)], complete: [COMPLETE, sha1(COMPLETE)], release: [RELEASE, sha1(RELEASE)] } as const;

function isNoScript(error: unknown): boolean {
  return /NOSCRIPT/.test(String((error as { message?: unknown } | undefined)?.message ?? error));
}

/**
 * Claims in Redis, shared by every instance that uses the same Redis and prefix: a copy of a
 * delivery that reaches another instance is recognised there too.
 */
export class RedisWebhookClaimStore implements WebhookClaimStore {
  private readonly prefix: string;
  private client?: WebhookClaimRedisClient;
  private readonly owned: boolean;

  /**
   * @param onConnectionError told of the first error of each outage of a client the store opened
   *   (ioredis reports one per reconnection attempt).
   * @param ioredis the module to load ioredis from; for tests.
   */
  constructor(
    private readonly options: RedisWebhookClaimStoreOptions,
    private readonly onConnectionError: (error: Error) => void = () => {},
    private readonly ioredis: string = IOREDIS_PACKAGE,
  ) {
    if ((options.client === undefined) === (options.url === undefined)) {
      throw new MailerConfigurationError('MailerWebhooksModule: dedupe.redis needs either `url` or `client` (an ioredis instance), not both.');
    }
    if (options.url !== undefined && (typeof options.url !== 'string' || !/^rediss?:\/\//.test(options.url))) {
      throw new MailerConfigurationError('MailerWebhooksModule: dedupe.redis.url must start with redis:// or rediss://.');
    }
    const prefix = options.keyPrefix ?? DEFAULT_CLAIM_KEY_PREFIX;
    if (typeof prefix !== 'string' || prefix === '') {
      throw new MailerConfigurationError('MailerWebhooksModule: dedupe.redis.keyPrefix must be a non-empty string.');
    }
    this.prefix = prefix;
    this.client = options.client;
    this.owned = options.client === undefined;
  }

  /**
   * Opens the client when the store was given a `url`, then sends a PING, so that a missing ioredis
   * or an unreachable server stops start-up.
   */
  async connect(): Promise<void> {
    if (!this.client) {
      let Redis: OwnedClientConstructor;
      try {
        Redis = (await importIoredis(this.ioredis)) as unknown as OwnedClientConstructor;
      } catch (cause) {
        if (!(cause instanceof MailerConfigurationError)) throw cause;
        throw new MailerConfigurationError(`MailerWebhooksModule: dedupe.redis needs ioredis: run \`npm install ${IOREDIS_PACKAGE}\`.`, { cause });
      }
      const client = new Redis(this.options.url!, {
        commandTimeout: COMMAND_TIMEOUT_MS,
        connectTimeout: CONNECT_TIMEOUT_MS,
        maxRetriesPerRequest: 1,
      });
      let down = false;
      client.on('error', (error) => {
        if (down) return;
        down = true;
        this.onConnectionError(error);
      });
      client.on('ready', () => {
        down = false;
      });
      this.client = client;
    }
    await this.client.ping();
  }

  async claim(keys: readonly string[], owner: string, leaseMs: number): Promise<ClaimState[]> {
    const states = await Promise.all(keys.map((key) => this.run('claim', key, `pending:${owner}`, Math.max(1, Math.ceil(leaseMs)))));
    return states.map((state) => {
      if (state === 'claimed' || state === 'in-flight' || state === 'done') return state;
      throw new Error(`Unexpected answer from Redis to a claim: ${String(state)}`);
    });
  }

  async complete(keys: readonly string[], ttlMs: number): Promise<void> {
    await Promise.all(keys.map((key) => this.run('complete', key, Math.max(1, Math.ceil(ttlMs)))));
  }

  async release(keys: readonly string[], owner: string): Promise<void> {
    await Promise.all(keys.map((key) => this.run('release', key, `pending:${owner}`)));
  }

  async close(): Promise<void> {
    const client = this.client;
    if (!this.owned || !client) return;
    this.client = undefined;
    try {
      await client.quit();
    } catch {
      client.disconnect();
    }
  }

  private async run(name: keyof typeof SCRIPTS, key: string, ...args: Array<string | number>): Promise<unknown> {
    const client = this.client;
    if (!client) throw new Error('The webhook claim store is not connected.');
    const [script, sha] = SCRIPTS[name];
    try {
      return await client.evalsha(sha, 1, this.prefix + key, ...args);
    } catch (error) {
      if (!isNoScript(error)) throw error;
      return client.eval(script, 1, this.prefix + key, ...args);
    }
  }
}
