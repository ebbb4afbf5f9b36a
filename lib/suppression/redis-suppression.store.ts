import { createHash } from 'node:crypto';
import { MailerConfigurationError, MailerError, SuppressionUnavailableError } from '../errors/mailer.error.js';
import { checkOptions, type OptionShape } from '../errors/option.checker.js';
import { importIoredis, type OwnedSuppressionRedisClient, type SuppressionRedisClient } from './ioredis.loader.js';
import { normalizeAddress } from './suppression.address.js';
import { checkSuppressionScope } from './suppression.scope.js';
import {
  addressOfCursorKey,
  cursorKey,
  isLive,
  isSuppressionReason,
  isSuppressionSource,
  listCursor,
  listFilter,
  listLimit,
  prepareRecord,
  toEntry,
  type SuppressionRecord,
} from './suppression.entry.js';
import type {
  SuppressedRecipient,
  SuppressionEntry,
  SuppressionFilterResult,
  SuppressionInput,
  SuppressionListOptions,
  SuppressionPage,
  SuppressionStore,
} from './suppression.types.js';

export interface RedisSuppressionStoreOptions {
  /**
   * An ioredis client the application already has (`new Redis(...)` or a `Cluster`). The store
   * never closes it and never changes its options: for calls that fail fast while Redis is away,
   * create it with `enableOfflineQueue: false`, `maxRetriesPerRequest: 0` and a `commandTimeout`,
   * and give it an `error` listener. Give this or `url`, not both.
   */
  client?: SuppressionRedisClient;
  /**
   * `redis://[:password@]host:port/db` or `rediss://…`: the store loads ioredis, opens its own
   * client, and quits it on `close()`. That client fails a call at once while it is disconnected
   * (no offline queue) and reconnects in the background.
   */
  url?: string;
  /**
   * Milliseconds a command may wait for Redis's answer (ioredis `commandTimeout`) on the client
   * opened from `url`; a call that waits longer fails with SuppressionUnavailableError. Default 1000.
   * Only with `url`.
   */
  commandTimeout?: number;
  /**
   * Milliseconds to establish a connection (ioredis `connectTimeout`) on the client opened from
   * `url`. Default 5000. Only with `url`.
   */
  connectTimeout?: number;
  /**
   * Prefix of the three keys the store uses (`entries`, `by-created`, `by-expiry`). Default
   * `mailroom:suppression:`. Instances that share a prefix share the list. On Redis Cluster, put a
   * hash tag in it (`{mailroom:suppression}:`) so the three keys live in one slot. The list of a
   * scope (`forScope('acme')`) lives under `<keyPrefix>scope:acme:`, hash tag included.
   */
  keyPrefix?: string;
  /** Epoch milliseconds; for tests. Default `Date.now`. Instances should have synchronized clocks. */
  clock?: () => number;
}

const REDIS_STORE_OPTION_SHAPE = {
  client: 'object',
  url: 'string',
  commandTimeout: 'number',
  connectTimeout: 'number',
  keyPrefix: 'string',
  clock: 'function',
} as const satisfies OptionShape<RedisSuppressionStoreOptions>;

export const DEFAULT_SUPPRESSION_KEY_PREFIX = 'mailroom:suppression:';
export const DEFAULT_SUPPRESSION_COMMAND_TIMEOUT = 1_000;
export const DEFAULT_SUPPRESSION_CONNECT_TIMEOUT = 5_000;

/** Marks the options of a scope's list: it uses the connection of the store it belongs to. */
const SCOPE_OF = Symbol('scope of');

interface ScopeListOptions extends RedisSuppressionStoreOptions {
  [SCOPE_OF]?: { store: RedisSuppressionStore; scope: string };
}

/** Most entries one script call writes; larger `addMany()` calls are split. */
const ADD_CHUNK = 500;
/** Expired entries removed per write, so that purging never holds Redis for long. */
const PURGE_BATCH = 100;
/** Entries `list()` looks at per call when a filter skips most of them. */
const LIST_SCAN_BUDGET = 10_000;

/*
 * Data model (KEYS[1..3] in every script):
 *   <prefix>entries     hash   address → JSON {reason, source, createdAt, expiresAt?, detail?, classification?}
 *   <prefix>by-created  zset   every score 0, member "<createdAt ms, 15 digits>:<address>", so that
 *                              lexicographic order is time order and ZREVRANGEBYLEX pages by cursor
 *   <prefix>by-expiry   zset   score expiresAt ms, member address; only entries that expire
 * Reads (has, get, filter) are one HGET / HMGET and skip expired values by their expiresAt. Writes,
 * remove and count purge a batch of due entries first.
 */
const LUA_HELPERS = `
local function member(createdAt, address)
  return string.format('%015.0f', createdAt) .. ':' .. address
end
local function purge(now, limit)
  local due = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now, 'LIMIT', 0, limit)
  for _, address in ipairs(due) do
    local value = redis.call('HGET', KEYS[1], address)
    if value then
      local record = cjson.decode(value)
      if record.expiresAt and record.expiresAt <= now then
        redis.call('ZREM', KEYS[2], member(record.createdAt, address))
        redis.call('HDEL', KEYS[1], address)
      end
    end
    redis.call('ZREM', KEYS[3], address)
  end
end
`;

/* ARGV: now, then per entry: address, value, cursor key, expiresAt ms or '', '1' when manual. */
const ADD_SCRIPT = `${LUA_HELPERS}
local now = tonumber(ARGV[1])
purge(now, ${PURGE_BATCH})
local out = {}
for i = 2, #ARGV, 5 do
  local address, expires = ARGV[i], ARGV[i + 3]
  local old = redis.call('HGET', KEYS[1], address)
  local keep = false
  if old then
    local record = cjson.decode(old)
    local live = record.expiresAt == nil or record.expiresAt > now
    if live and ARGV[i + 4] ~= '1' then
      if record.expiresAt == nil then
        keep = expires ~= ''
      else
        keep = expires ~= '' and tonumber(expires) < record.expiresAt
      end
    end
    if not keep then
      redis.call('ZREM', KEYS[2], member(record.createdAt, address))
      redis.call('ZREM', KEYS[3], address)
    end
  end
  if keep then
    out[#out + 1] = old
  else
    redis.call('HSET', KEYS[1], address, ARGV[i + 1])
    redis.call('ZADD', KEYS[2], 0, ARGV[i + 2])
    if expires ~= '' then redis.call('ZADD', KEYS[3], expires, address) end
    out[#out + 1] = ''
  end
end
return out
`;

/* ARGV: now, address. Returns 1 when a live entry was removed. */
const REMOVE_SCRIPT = `${LUA_HELPERS}
local value = redis.call('HGET', KEYS[1], ARGV[2])
if not value then return 0 end
local record = cjson.decode(value)
redis.call('ZREM', KEYS[2], member(record.createdAt, ARGV[2]))
redis.call('ZREM', KEYS[3], ARGV[2])
redis.call('HDEL', KEYS[1], ARGV[2])
if record.expiresAt == nil or record.expiresAt > tonumber(ARGV[1]) then return 1 end
return 0
`;

/* ARGV: now. Live entries: all of them minus those already due but not yet purged. */
const COUNT_SCRIPT = `${LUA_HELPERS}
local now = tonumber(ARGV[1])
purge(now, ${PURGE_BATCH})
return redis.call('HLEN', KEYS[1]) - redis.call('ZCOUNT', KEYS[3], '-inf', now)
`;

/* ARGV: upper bound ('+' or '(<cursor>'), count. Returns key, value, key, value, … newest first. */
const PAGE_SCRIPT = `
local keys = redis.call('ZREVRANGEBYLEX', KEYS[2], ARGV[1], '-', 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for i, key in ipairs(keys) do
  out[2 * i - 1] = key
  out[2 * i] = redis.call('HGET', KEYS[1], string.sub(key, 17)) or ''
end
return out
`;

interface Script {
  source: string;
  sha: string;
}

function script(source: string): Script {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

const ADD = script(ADD_SCRIPT);
const REMOVE = script(REMOVE_SCRIPT);
const COUNT = script(COUNT_SCRIPT);
const PAGE = script(PAGE_SCRIPT);

/** What the hash holds for an address: the record without the address, which is the field. */
type StoredValue = Omit<SuppressionRecord, 'address'>;

function encode(record: SuppressionRecord): string {
  const value: StoredValue = { reason: record.reason, source: record.source, createdAt: record.createdAt };
  if (record.expiresAt !== undefined) value.expiresAt = record.expiresAt;
  if (record.detail !== undefined) value.detail = record.detail;
  if (record.classification !== undefined) value.classification = record.classification;
  return JSON.stringify(value);
}

/** The record for a stored value, or undefined when the value is not one this store wrote. */
function decode(address: string, value: string | null | undefined): SuppressionRecord | undefined {
  if (!value) return undefined;
  let parsed: Partial<StoredValue>;
  try {
    parsed = JSON.parse(value) as Partial<StoredValue>;
  } catch {
    return undefined;
  }
  if (!isSuppressionReason(parsed.reason) || !isSuppressionSource(parsed.source) || typeof parsed.createdAt !== 'number') {
    return undefined;
  }
  const record: SuppressionRecord = { address, reason: parsed.reason, source: parsed.source, createdAt: parsed.createdAt };
  if (typeof parsed.expiresAt === 'number') record.expiresAt = parsed.expiresAt;
  if (typeof parsed.detail === 'string') record.detail = parsed.detail;
  if (parsed.classification && typeof parsed.classification === 'object') record.classification = parsed.classification;
  return record;
}

/** ioredis's refusal of a command while disconnected, when it keeps no offline queue. */
const NOT_CONNECTED = /Stream isn't writeable/;

function isNoScript(error: unknown): boolean {
  return /NOSCRIPT/.test(String((error as { message?: unknown } | undefined)?.message ?? error));
}

/**
 * Keeps the list in Redis, so every instance of the application sees the same one. `filter()` — the
 * call on the send path — is a single HMGET however many recipients a mail has. Writes run as Lua
 * scripts, so an add or remove never leaves the three keys disagreeing.
 */
export class RedisSuppressionStore implements SuppressionStore {
  private readonly prefix: string;
  private readonly entriesKey: string;
  private readonly keys: [string, string, string];
  /** Set on the list of a scope: the store whose connection it uses. */
  private readonly owner?: RedisSuppressionStore;
  private readonly scopeOf?: string;
  private readonly scopes = new Map<string, RedisSuppressionStore>();
  private readonly clock: () => number;
  private readonly url?: string;
  private readonly clientOptions: Record<string, unknown> = {};
  private client?: SuppressionRedisClient;
  /** The client opened from `url`, once created (it may not be connected). */
  private ownClient?: OwnedSuppressionRedisClient;
  private opening?: Promise<void>;
  /** The last connection error of the client opened from `url`, to say why a call failed. */
  private connectionError?: Error;
  private closing?: Promise<void>;

  constructor(options: RedisSuppressionStoreOptions) {
    if (options) checkOptions(options, REDIS_STORE_OPTION_SHAPE, 'RedisSuppressionStore', { prefix: 'is written keyPrefix here.' });
    const scopeOf = options ? (options as ScopeListOptions)[SCOPE_OF] : undefined;
    if (scopeOf) {
      this.owner = scopeOf.store;
      this.scopeOf = scopeOf.scope;
    } else if (!options || (options.client === undefined) === (options.url === undefined)) {
      throw new MailerConfigurationError('RedisSuppressionStore needs either `client` (an ioredis instance) or `url`, not both.');
    }
    if (options.url !== undefined && (typeof options.url !== 'string' || !/^rediss?:\/\//.test(options.url))) {
      throw new MailerConfigurationError('RedisSuppressionStore: `url` must start with redis:// or rediss://.');
    }
    for (const name of ['commandTimeout', 'connectTimeout'] as const) {
      const value = options[name];
      if (value === undefined) continue;
      if (options.client !== undefined) {
        throw new MailerConfigurationError(`RedisSuppressionStore: \`${name}\` applies to the client the store opens from \`url\`; set it on your own client instead.`);
      }
      if (!(Number.isInteger(value) && value >= 1)) {
        throw new MailerConfigurationError(`RedisSuppressionStore: \`${name}\` must be a whole number of milliseconds, 1 or more, got ${String(value)}.`);
      }
    }
    const prefix = options.keyPrefix ?? DEFAULT_SUPPRESSION_KEY_PREFIX;
    if (typeof prefix !== 'string' || prefix === '') {
      throw new MailerConfigurationError('RedisSuppressionStore: `keyPrefix` must be a non-empty string.');
    }
    this.prefix = prefix;
    this.entriesKey = `${prefix}entries`;
    this.keys = [this.entriesKey, `${prefix}by-created`, `${prefix}by-expiry`];
    this.clock = options.clock ?? Date.now;
    this.client = options.client;
    this.url = options.url;
    if (options.url !== undefined) {
      this.clientOptions = {
        // The first call waits for the connection (connect()); later ones never wait for one.
        lazyConnect: true,
        // While disconnected a command fails at once, rather than waiting in a queue for Redis.
        enableOfflineQueue: false,
        // A command in flight when the connection drops fails at once.
        maxRetriesPerRequest: 0,
        commandTimeout: options.commandTimeout ?? DEFAULT_SUPPRESSION_COMMAND_TIMEOUT,
        connectTimeout: options.connectTimeout ?? DEFAULT_SUPPRESSION_CONNECT_TIMEOUT,
      };
    }
  }

  /** A store that is connected and checked (see `connect()`). */
  static async create(options: RedisSuppressionStoreOptions): Promise<RedisSuppressionStore> {
    const store = new RedisSuppressionStore(options);
    try {
      await store.connect();
    } catch (error) {
      // The client would otherwise go on reconnecting in the background.
      await store.close();
      throw error;
    }
    return store;
  }

  /**
   * Loads ioredis and opens the client when the store was given a `url`, then sends a PING. Throws
   * MailerConfigurationError when ioredis is not installed, SuppressionUnavailableError when Redis
   * does not answer. Every other method connects on first use; calling this at start-up makes a
   * missing package or an unreachable server fail there.
   */
  async connect(): Promise<void> {
    await this.command((client) => client.ping());
  }

  async add(entry: SuppressionInput): Promise<SuppressionEntry> {
    const [stored] = await this.addMany([entry]);
    return stored!;
  }

  async addMany(entries: readonly SuppressionInput[]): Promise<SuppressionEntry[]> {
    const now = this.clock();
    const records = entries.map((entry) => prepareRecord(entry, now));
    const out: SuppressionEntry[] = [];
    for (let start = 0; start < records.length; start += ADD_CHUNK) {
      const chunk = records.slice(start, start + ADD_CHUNK);
      const args: Array<string | number> = [this.clock()];
      for (const r of chunk) {
        args.push(r.address, encode(r), cursorKey(r.createdAt, r.address), r.expiresAt ?? '', r.source === 'manual' ? '1' : '0');
      }
      const answers = (await this.run(ADD, args)) as string[];
      chunk.forEach((record, i) => {
        const kept = answers[i] ? decode(record.address, answers[i]) : undefined;
        out.push(toEntry(kept ?? record));
      });
    }
    return out;
  }

  async has(address: string): Promise<boolean> {
    return (await this.get(address)) !== undefined;
  }

  async filter(addresses: readonly string[]): Promise<SuppressionFilterResult> {
    if (addresses.length === 0) {
      this.assertOpen();
      return { allowed: [], suppressed: [] };
    }
    const normalized = addresses.map(normalizeAddress);
    const unique = [...new Set(normalized)];
    const values = await this.command((client) => client.hmget(this.entriesKey, ...unique));
    const now = this.clock();
    const found = new Map<string, SuppressionRecord>();
    unique.forEach((address, i) => {
      const record = decode(address, values[i]);
      if (record && isLive(record, now)) found.set(address, record);
    });
    const allowed: string[] = [];
    const suppressed: SuppressedRecipient[] = [];
    addresses.forEach((recipient, i) => {
      const record = found.get(normalized[i]!);
      if (record) suppressed.push({ ...toEntry(record), recipient });
      else allowed.push(recipient);
    });
    return { allowed, suppressed };
  }

  async get(address: string): Promise<SuppressionEntry | undefined> {
    const key = normalizeAddress(address);
    const record = decode(key, await this.command((client) => client.hget(this.entriesKey, key)));
    return record && isLive(record, this.clock()) ? toEntry(record) : undefined;
  }

  async remove(address: string): Promise<boolean> {
    return (await this.run(REMOVE, [this.clock(), normalizeAddress(address)])) === 1;
  }

  async list(options: SuppressionListOptions = {}): Promise<SuppressionPage> {
    const limit = listLimit(options);
    const cursor = listCursor(options);
    const matches = listFilter(options);
    const filtering = options.reason !== undefined || options.source !== undefined;
    const found: Array<{ key: string; record: SuppressionRecord }> = [];
    let upper = cursor === undefined ? '+' : `(${cursor}`;
    let scanned = 0;
    for (;;) {
      // One more than asked, so the page knows whether another follows.
      const wanted = limit + 1 - found.length;
      const batch = filtering ? Math.max(wanted, 200) : wanted;
      const flat = (await this.run(PAGE, [upper, batch])) as string[];
      const now = this.clock();
      let last: string | undefined;
      for (let i = 0; i < flat.length; i += 2) {
        const key = flat[i]!;
        last = key;
        scanned++;
        const record = decode(addressOfCursorKey(key), flat[i + 1]);
        if (!record || !isLive(record, now) || !matches(record)) continue;
        found.push({ key, record });
        if (found.length > limit) {
          return { entries: found.slice(0, limit).map((f) => toEntry(f.record)), nextCursor: found[limit - 1]!.key };
        }
      }
      if (last === undefined || flat.length / 2 < batch) return { entries: found.map((f) => toEntry(f.record)) };
      upper = `(${last}`;
      if (scanned >= LIST_SCAN_BUDGET) return { entries: found.map((f) => toEntry(f.record)), nextCursor: last };
    }
  }

  async count(): Promise<number> {
    return Number(await this.run(COUNT, [this.clock()]));
  }

  /**
   * The list of one scope (a tenant), under `<keyPrefix>scope:<scope>:` on the same connection;
   * created on first use, closed with this store.
   */
  forScope(scope: string): RedisSuppressionStore {
    this.assertOpen();
    checkSuppressionScope(scope, 'RedisSuppressionStore');
    if (this.scopeOf !== undefined) {
      throw new MailerConfigurationError(`RedisSuppressionStore: this is the list of scope "${this.scopeOf}"; call forScope() on the store itself.`);
    }
    let list = this.scopes.get(scope);
    if (!list) {
      const options: ScopeListOptions = { keyPrefix: `${this.prefix}scope:${scope}:`, clock: this.clock, [SCOPE_OF]: { store: this, scope } };
      list = new RedisSuppressionStore(options);
      this.scopes.set(scope, list);
    }
    return list;
  }

  /** Quits the client if the store opened it; a client passed in is left open. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const list of this.scopes.values()) await list.close();
      // A scope's list shares its store's connection: the store closes it.
      if (this.owner) return;
      await this.opening?.catch(() => undefined);
      const client = this.ownClient;
      if (!client) return;
      try {
        // Fails at once while disconnected (no offline queue), and after commandTimeout at worst.
        await client.quit();
      } catch {
        client.disconnect();
      }
    })();
    return this.closing;
  }

  private assertOpen(): void {
    if (this.closing || this.owner?.closing) throw new MailerConfigurationError('The suppression store is closed.');
  }

  private async redis(): Promise<SuppressionRedisClient> {
    this.assertOpen();
    if (this.owner) return this.owner.redis();
    if (this.client) return this.client;
    this.opening ??= this.open().catch((error: unknown) => {
      // A client that was created keeps reconnecting on its own; only a failed import starts over.
      if (!this.ownClient) this.opening = undefined;
      throw error;
    });
    await this.opening;
    return this.client!;
  }

  /** Creates the client for `url` and waits for its first connection. */
  private async open(): Promise<void> {
    const Redis = await importIoredis();
    this.assertOpen();
    const client = new Redis(this.url!, this.clientOptions);
    // Without a listener ioredis prints every reconnection failure; the error of a call says enough.
    client.on('error', (error) => (this.connectionError = error));
    client.on('close', () => (this.connectionError ??= new Error('connection closed')));
    client.on('ready', () => (this.connectionError = undefined));
    this.ownClient = client;
    try {
      await client.connect();
    } finally {
      // Connected or not, later calls use it: they fail at once until it reconnects.
      this.client = client;
    }
  }

  /**
   * Runs commands on the client. A failure of Redis (not connected, no answer in time, an error
   * reply) becomes SuppressionUnavailableError; this package's own errors pass unchanged.
   */
  private async command<T>(call: (client: SuppressionRedisClient) => Promise<T>): Promise<T> {
    const client = await this.redis().catch((error: unknown) => {
      throw this.unavailable(error);
    });
    try {
      return await call(client);
    } catch (error) {
      throw this.unavailable(error);
    }
  }

  private unavailable(error: unknown): Error {
    if (this.owner) return this.owner.unavailable(error);
    if (error instanceof MailerError) return error;
    const message = String((error as { message?: unknown } | undefined)?.message ?? error);
    // ioredis's own words for a command refused while disconnected say nothing of why.
    const disconnected = this.ownClient !== undefined && (this.ownClient.status !== 'ready' || NOT_CONNECTED.test(message));
    const detail = disconnected ? `not connected (${this.connectionError?.message ?? 'connection lost'})` : message;
    return new SuppressionUnavailableError(`Redis, which holds the suppression list, cannot be used: ${detail}`, { cause: error });
  }

  private run(s: Script, args: Array<string | number>): Promise<unknown> {
    return this.command(async (client) => {
      try {
        return await client.evalsha(s.sha, 3, ...this.keys, ...args);
      } catch (error) {
        if (!isNoScript(error)) throw error;
        return client.eval(s.source, 3, ...this.keys, ...args);
      }
    });
  }
}
