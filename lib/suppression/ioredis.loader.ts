import { MailerConfigurationError } from '../errors/mailer.error.js';

/**
 * The commands the Redis store sends. An ioredis `Redis` (or `Cluster`) instance has them all; the
 * store is typed against this shape so that ioredis stays an optional peer dependency.
 */
export interface SuppressionRedisClient {
  hget(key: string, field: string): Promise<string | null>;
  hmget(key: string, ...fields: string[]): Promise<Array<string | null>>;
  evalsha(sha: string, numKeys: number, ...args: Array<string | number>): Promise<unknown>;
  eval(script: string, numKeys: number, ...args: Array<string | number>): Promise<unknown>;
  ping(): Promise<string>;
  quit(): Promise<unknown>;
  disconnect(): void;
}

/** What the store also uses of a client it opens itself: connecting, its state, its events. */
export interface OwnedSuppressionRedisClient extends SuppressionRedisClient {
  readonly status: string;
  connect(): Promise<void>;
  on(event: 'error' | 'close' | 'ready', listener: (error?: Error) => void): unknown;
}

export type SuppressionRedisClientConstructor = new (url: string, options?: Record<string, unknown>) => OwnedSuppressionRedisClient;

export const IOREDIS_PACKAGE = 'ioredis';

/**
 * Imports ioredis from `specifier` (the package name, unless a test points elsewhere) and returns
 * its client class. A missing package is a configuration error that says how to install it.
 */
export async function importIoredis(specifier: string = IOREDIS_PACKAGE): Promise<SuppressionRedisClientConstructor> {
  let mod: Record<string, unknown>;
  try {
    // A non-literal specifier keeps TypeScript and bundlers from requiring the optional peer.
    mod = (await import(specifier)) as Record<string, unknown>;
  } catch (cause) {
    const code = (cause as { code?: unknown }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' || /Cannot find (module|package)|Failed to load url/.test(String(cause))) {
      throw new MailerConfigurationError(`RedisSuppressionStore needs ioredis: run \`npm install ${IOREDIS_PACKAGE}\`.`, { cause });
    }
    throw cause;
  }
  const fallback = mod.default as Record<string, unknown> | undefined;
  const ctor = mod.Redis ?? fallback?.Redis ?? fallback;
  if (typeof ctor !== 'function') {
    throw new MailerConfigurationError(`The module "${specifier}" does not export an ioredis client class.`);
  }
  return ctor as SuppressionRedisClientConstructor;
}
