import { MailerConfigurationError } from '../errors/mailer.error.js';
import type { BullmqModule, MailerQueueRedisClient, MailerQueueRedisOptions } from './mailer-queue.options.js';
import type { WatchableRedisClient } from './redis-connection.watch.js';

export const BULLMQ_INSTALL = 'npm install bullmq ioredis';

function isMissingModule(cause: unknown): boolean {
  const code = (cause as { code?: unknown } | undefined)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' || /Cannot find (module|package)|Failed to load url/.test(String(cause));
}

function missing(what: string, cause: unknown): MailerConfigurationError {
  return new MailerConfigurationError(`MailerQueueModule needs ${what}: run \`${BULLMQ_INSTALL}\`.`, { cause });
}

/**
 * Loads BullMQ through `loader` (default: the `bullmq` package). A package that is not installed
 * is a configuration error naming the install command.
 */
export async function importBullmq(loader?: () => Promise<BullmqModule>): Promise<BullmqModule> {
  let mod: BullmqModule;
  try {
    // A non-literal specifier keeps TypeScript and bundlers from requiring the optional peer.
    const specifier = 'bullmq';
    mod = loader ? await loader() : ((await import(specifier)) as BullmqModule);
  } catch (cause) {
    if (isMissingModule(cause)) throw missing('bullmq', cause);
    throw cause;
  }
  if (!mod || typeof mod.Queue !== 'function' || typeof mod.Worker !== 'function' || typeof mod.UnrecoverableError !== 'function') {
    throw new MailerConfigurationError('MailerQueueModule: the bullmq loader did not return a module with Queue, Worker and UnrecoverableError.');
  }
  return mod;
}

type IoredisConstructor = {
  new (url: string, options: Record<string, unknown>): OwnedQueueRedisClient;
  new (options: Record<string, unknown>): OwnedQueueRedisClient;
};

/** A client the module opened: BullMQ's shape plus the state and events the connection watch follows. */
export type OwnedQueueRedisClient = MailerQueueRedisClient & WatchableRedisClient;

/**
 * Opens an ioredis client for a URL or ioredis options, with `options` laid over them, and gives it
 * an error listener at once (without one, ioredis prints every failed reconnection).
 */
export async function openRedis(target: string | MailerQueueRedisOptions, options: Record<string, unknown>, onError: (error: Error) => void): Promise<OwnedQueueRedisClient> {
  let mod: Record<string, unknown>;
  try {
    const specifier = 'ioredis';
    mod = (await import(specifier)) as Record<string, unknown>;
  } catch (cause) {
    if (isMissingModule(cause)) throw missing('ioredis', cause);
    throw cause;
  }
  const fallback = mod.default as Record<string, unknown> | undefined;
  const Redis = (mod.Redis ?? fallback?.Redis ?? fallback) as IoredisConstructor | undefined;
  if (typeof Redis !== 'function') throw new MailerConfigurationError('MailerQueueModule: the ioredis package does not export a client class.');
  const client = typeof target === 'string' ? new Redis(target, options) : new Redis({ ...target, ...options });
  client.on('error', (error) => onError(error as Error));
  return client;
}
