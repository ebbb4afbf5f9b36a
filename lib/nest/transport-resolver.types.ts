import type { Mail } from '../core/mail.types.js';
import type { Transport } from '../core/transport.types.js';
import type { OptionShape } from '../errors/option.checker.js';
import type { RateLimiter, RateLimitOptions } from '../retry/rate-limiter.js';
import type { RetryOptions } from '../retry/retry.options.js';
import type { TransportConfig } from '../transports/transport.config.js';

/**
 * How sends through a transport added at run time (`MailerService.addTransport`), or built from a
 * `transportResolver`'s answer, are governed. Each is checked like its counterpart in the module's
 * options; an unknown key is refused, naming the nearest known one.
 */
export interface AddTransportOptions {
  /**
   * Retry options laid over the module's top-level `retry` options (its `transports` layers are
   * for the transports configured at start-up); `false` sends once. Default: the module's.
   */
  retry?: RetryOptions | false;
  /**
   * Send-rate limit laid over the module's top-level `rateLimit` values, in a token bucket of
   * this transport's own; a RateLimiter of your own (one shared through Redis, say); or `false`
   * for no rate (the transport still pauses when a server says to slow down). Default: the
   * module's top-level values.
   */
  rateLimit?: Omit<RateLimitOptions, 'clock'> | RateLimiter | false;
  /**
   * The suppression list this transport's sends read and add to: the list of this scope (see
   * `SuppressionStore.forScope`), apart from the shared list and from every other scope's.
   * Default: the shared list. 1 to 100 letters, digits, dots, dashes and underscores — a tenant's
   * id, say.
   */
  suppressionScope?: string;
}

/** A transport configuration a resolver answers with a name and options of its own. */
export interface ResolvedTransport extends AddTransportOptions {
  /**
   * The name sends through it report — `result.transport`, events, errors, logs, the testing
   * mailbox — and that `MailerService.getTransport()` and the health indicator know it by while it
   * is open. Same rules as configured names; it may not be the name of a configured or added
   * transport. Default: `resolved-` and 12 hex digits of a keyed hash of the configuration, which
   * differ from one process to the next.
   */
  name?: string;
  /**
   * A transport URL or options object, as in the module's `transports`. Not a Transport instance:
   * add that once with `addTransport(name, transport)` and answer its name.
   */
  transport: Exclude<TransportConfig, Transport>;
}

/**
 * What a `transportResolver` knows of a send besides the mail. Every field travels with a mail put
 * on `MailerQueue`, so a worker resolves a queued mail as the process that enqueued it would.
 */
export interface TransportResolverContext {
  /** The tenant the send named: `send(mail, { tenant })`, `enqueue(mail, { tenant })`. */
  tenant?: string;
  /** The transport the send named (`send(mail, { transport })`, `use(name)`), if any. */
  transport?: string;
}

/**
 * A resolver's answer: the name of a configured or added transport; a transport URL or options
 * object; a `ResolvedTransport`; or `undefined` to send as if there were no resolver (the
 * transport the send named, else the default).
 */
export type TransportResolverAnswer = string | Exclude<TransportConfig, Transport> | ResolvedTransport | undefined;

/**
 * Chooses the transport of each send, for an application that sends for many tenants with their
 * own mail accounts. It runs before the mail is rendered, on every `send()`, for each mail of
 * `sendBatch()`, and in the queue's worker for each job. Decide from the mail and the context —
 * what travels with a queued job — and not from the request (a worker has none). An answer is
 * checked exactly as start-up configuration is, and the transports built from URLs and options
 * are kept open for later sends, within `transportCache`.
 */
export type TransportResolver = (mail: Mail, context: TransportResolverContext) => TransportResolverAnswer | Promise<TransportResolverAnswer>;

/** Bounds on the transports built from `transportResolver`'s answers. */
export interface MailerTransportCacheOptions {
  /**
   * Most of them kept open at once. Building one more closes the one used least recently, once
   * the sends it has in flight are done (so a few more may be open for a moment). Default 100.
   */
  max?: number;
  /**
   * Milliseconds one may go unused before it is closed; `false` keeps each until it is pushed out
   * by `max`. Default 300 000 (five minutes).
   */
  idleTimeout?: number | false;
}

export const DEFAULT_TRANSPORT_CACHE_MAX = 100;
export const DEFAULT_TRANSPORT_IDLE_TIMEOUT = 300_000;

export const ADD_TRANSPORT_OPTION_SHAPE = {
  retry: ['object', 'boolean'],
  rateLimit: ['object', 'boolean'],
  suppressionScope: 'string',
} as const satisfies OptionShape<AddTransportOptions>;

export const RESOLVED_TRANSPORT_SHAPE = {
  ...ADD_TRANSPORT_OPTION_SHAPE,
  name: 'string',
  transport: ['string', 'object'],
} as const satisfies OptionShape<ResolvedTransport>;

export const TRANSPORT_CACHE_OPTION_SHAPE = {
  max: 'number',
  idleTimeout: ['number', 'boolean'],
} as const satisfies OptionShape<MailerTransportCacheOptions>;
