import { redact } from '../errors/redact.js';

/** The part of an ioredis client the watch follows. */
export interface WatchableRedisClient {
  readonly status: string;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  once(event: string, listener: (...args: unknown[]) => void): unknown;
  removeListener(event: string, listener: (...args: unknown[]) => void): unknown;
}

/** Whether `client` has the connection state and events of an ioredis client. */
export function isWatchable(client: unknown): client is WatchableRedisClient {
  const c = client as Partial<WatchableRedisClient> | undefined;
  return typeof c?.status === 'string' && typeof c.on === 'function' && typeof c.once === 'function' && typeof c.removeListener === 'function';
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED']);
const CONNECTION_MESSAGES = /Connection is closed|Stream isn't writeable|Command timed out|max retries per request|Ready check failed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND/i;

/** Whether an error says that Redis cannot be reached (rather than, say, a script error). */
export function isConnectionError(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | undefined;
  if (typeof e?.code === 'string' && CONNECTION_CODES.has(e.code)) return true;
  return typeof e?.message === 'string' && CONNECTION_MESSAGES.test(e.message);
}

/** Resolves when `client` is ready, or to false after `ms` milliseconds (or at once when it ended). */
export function whenReady(client: WatchableRedisClient, ms: number): Promise<boolean> {
  if (client.status === 'ready') return Promise.resolve(true);
  if (client.status === 'end' || ms <= 0) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      client.removeListener('ready', onReady);
      client.removeListener('end', onEnd);
      resolve(ok);
    };
    const onReady = () => done(true);
    const onEnd = () => done(false);
    const timer = setTimeout(() => done(false), ms);
    client.once('ready', onReady);
    client.once('end', onEnd);
  });
}

export interface ConnectionWatchLogger {
  warn(message: string): void;
  log(message: string): void;
}

/**
 * Says once that Redis went away and once that it is back, however many clients the module has
 * and however many errors each reports while it reconnects (BullMQ and ioredis report one per
 * attempt, several a second).
 */
export class RedisConnectionWatch {
  private since?: number;
  private readonly clients: WatchableRedisClient[] = [];
  private stopped = false;

  constructor(
    private readonly logger: ConnectionWatchLogger,
    /** What the application should expect during an outage, appended to the first line. */
    private readonly consequence: string,
    private readonly clock: () => number = Date.now,
  ) {}

  get down(): boolean {
    return this.since !== undefined;
  }

  /** Whether every followed client is connected now. */
  allReady(): boolean {
    return this.clients.every((c) => c.status === 'ready');
  }

  /**
   * Follows a client: back when every followed client is ready. `errors`: take its error events
   * too (for clients the module created; an application's client keeps its own listeners).
   */
  follow(client: WatchableRedisClient, errors: boolean): void {
    this.clients.push(client);
    client.on('ready', () => {
      if (this.allReady()) this.up();
    });
    if (errors) client.on('error', (error) => this.lost(error as Error));
  }

  /**
   * An error a queue or worker reported. A connection error starts an outage (logged once) and is
   * swallowed; resolves to false for other errors, which the caller logs.
   */
  absorb(error: Error): boolean {
    if (!isConnectionError(error)) return false;
    this.lost(error);
    return true;
  }

  /** Redis cannot be reached: the first call of an outage logs it. */
  lost(error: Error): void {
    if (this.stopped || this.since !== undefined) return;
    this.since = this.clock();
    this.logger.warn(redact(`Redis cannot be reached (${error.message}): ${this.consequence}.`));
  }

  /** Redis answered: the first call after an outage logs it. */
  up(): void {
    if (this.stopped || this.since === undefined) return;
    const downtime = this.clock() - this.since;
    this.since = undefined;
    this.logger.log(`Redis answers again after ${(downtime / 1000).toFixed(1)} s.`);
  }

  /** At shutdown: connections closing now are no outage. */
  stop(): void {
    this.stopped = true;
  }
}
