import { Logger } from '@nestjs/common';
import type { Mail } from '../core/mail.types.js';
import type { Transport } from '../core/transport.types.js';
import { MailerConfigurationError } from '../errors/mailer.error.js';
import { checkOptions, expectOptionsObject } from '../errors/option.checker.js';
import { RATE_LIMIT_HINTS, RATE_LIMIT_OPTION_SHAPE } from '../retry/rate-limiter.js';
import type { RetryClock } from '../retry/retry.clock.js';
import { RETRY_HINTS, RETRY_OPTION_SHAPE } from '../retry/retry.options.js';
import type { SuppressionCircuit } from '../suppression/suppression.circuit.js';
import { checkSuppressionScope } from '../suppression/suppression.scope.js';
import { TransportConfigKeys } from '../transports/transport-config.key.js';
import { createTransport, type TransportConfig } from '../transports/transport.config.js';
import type { TransportContext } from '../transports/transport-logger.js';
import type { MailerModuleOptions } from './mailer.options.js';
import type { MailerTransportOverride } from './mailer.tokens.js';
import { ResolvedTransportCache } from './resolved-transport.cache.js';
import {
  ADD_TRANSPORT_OPTION_SHAPE,
  DEFAULT_TRANSPORT_CACHE_MAX,
  DEFAULT_TRANSPORT_IDLE_TIMEOUT,
  RESOLVED_TRANSPORT_SHAPE,
  type AddTransportOptions,
  type ResolvedTransport,
  type TransportResolver,
} from './transport-resolver.types.js';
import { LiveRoute, type TransportLease, type TransportRoute } from './transport.route.js';
import { checkTransportName, isRateLimiter, isTransportName, transportRateLimiter, transportRetry } from './transport.settings.js';

/** What the registry needs of the runtime built at start-up. */
export interface TransportRegistrySettings {
  options: MailerModuleOptions;
  defaultTransport: string;
  /** The transports of the module's options, in order, with their settings. */
  configured: readonly TransportRoute[];
  /** The module's retry options, with the mailer's clock when one is set. */
  retryOptions: MailerModuleOptions['retry'];
  clock?: RetryClock;
  context: TransportContext;
  override?: MailerTransportOverride;
  suppression?: SuppressionCircuit;
}

/** Where a send is going: what it named, and for whom. */
export interface RouteRequest {
  transport?: string;
  tenant?: string;
}

function isTransport(value: unknown): value is Transport {
  return typeof value === 'object' && value !== null
    && typeof (value as Transport).send === 'function' && typeof (value as Transport).close === 'function';
}

function kindOf(value: unknown): string {
  return value === null ? 'null' : value === '' ? 'an empty string' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
}

/** At most this many names in an error message: a mailer may hold thousands. */
const NAMES_SHOWN = 20;

/**
 * Every transport the mailer can send through, by name: those of the module's options, those
 * added at run time, and those built from a `transportResolver`'s answers (kept in a bounded
 * cache). A send leases its route for as long as it runs — retries included — and a route that is
 * removed or evicted closes its transport only when its last lease is released. Configuration
 * given at run time goes through the checks of start-up configuration and the same errors; a
 * transport that cannot be built registers nothing.
 */
export class TransportRegistry {
  private readonly logger = new Logger('MailerService');
  private readonly named = new Map<string, LiveRoute>();
  private readonly resolver?: TransportResolver;
  private readonly cache?: ResolvedTransportCache;
  private readonly keys = new TransportConfigKeys();
  /** Routes taken out of service and still finishing their sends. */
  private readonly retiring = new Set<LiveRoute>();
  private closed = false;
  readonly defaultTransport: string;

  constructor(private readonly settings: TransportRegistrySettings) {
    this.defaultTransport = settings.defaultTransport;
    for (const route of settings.configured) this.named.set(route.name, new LiveRoute(route));
    this.resolver = settings.options.transportResolver;
    if (this.resolver) {
      const { max = DEFAULT_TRANSPORT_CACHE_MAX, idleTimeout = DEFAULT_TRANSPORT_IDLE_TIMEOUT } = settings.options.transportCache ?? {};
      this.cache = new ResolvedTransportCache(max, idleTimeout, (route, why) => this.retire(route, why));
    }
  }

  /** Names of the configured and added transports (not those a resolver opened). */
  names(): string[] {
    return [...this.named.keys()];
  }

  /** The route of a configured, added or resolver-opened transport, if it is there. */
  find(name: string): TransportRoute | undefined {
    return this.named.get(name) ?? this.cache?.peek(name);
  }

  /** Holds the named route for one send; MailerConfigurationError when there is none. */
  lease(name: string): TransportLease {
    this.assertOpen();
    const route = this.named.get(name) ?? this.cache?.named(name);
    if (!route) throw new MailerConfigurationError(`No transport named "${name}". Configured: ${this.shownNames()}.`);
    return route.lease();
  }

  /** Whether a transportResolver chooses the transport of each send. */
  get resolves(): boolean {
    return this.resolver !== undefined;
  }

  /** The route of a send when there is no resolver: the transport it named, else the default. */
  leaseFor(request: RouteRequest): TransportLease {
    this.checkTenant(request.tenant);
    if (request.tenant !== undefined && !this.resolver) {
      throw new MailerConfigurationError('send(): a tenant was given, but no transportResolver is configured to choose its transport (MailerModule option transportResolver).');
    }
    return this.lease(request.transport ?? this.defaultTransport);
  }

  /**
   * The route of one send: the resolver's answer when there is a resolver, else (or when it
   * answers undefined) the transport the send named, else the default.
   */
  async resolve(mail: Mail, request: RouteRequest): Promise<TransportLease> {
    this.assertOpen();
    if (!this.resolver) return this.leaseFor(request);
    const { tenant, transport } = request;
    this.checkTenant(tenant);
    const context = { ...(tenant !== undefined ? { tenant } : {}), ...(transport !== undefined ? { transport } : {}) };
    const answer = await this.resolver(mail, context);
    this.assertOpen();
    if (answer === undefined || answer === null) return this.lease(transport ?? this.defaultTransport);
    if (isTransportName(answer)) {
      if (this.find(answer)) return this.lease(answer);
      throw new MailerConfigurationError(`transportResolver answered "${answer}", which names no transport. Configured: ${this.shownNames()}. Answer a name, a transport URL, an options object or { name, transport }.`);
    }
    return this.leaseResolved(answer);
  }

  /**
   * Registers a transport under `name`, checked as start-up configuration is. Throws
   * MailerConfigurationError, registering nothing, when the name is taken or invalid, or the
   * configuration or options cannot work. A transport the resolver opened under that name is
   * closed (after its sends in flight).
   */
  add(name: string, config: TransportConfig, options: AddTransportOptions = {}): void {
    this.assertOpen();
    checkTransportName(name);
    const where = `addTransport("${name}")`;
    if (this.named.has(name)) {
      throw new MailerConfigurationError(`${where}: a transport named "${name}" exists already; removeTransport("${name}") first to replace it.`);
    }
    checkOptions(options, ADD_TRANSPORT_OPTION_SHAPE, where);
    const route = this.build(name, config, options, where);
    this.cache?.delete(name, 'a transport of that name was added');
    this.named.set(name, new LiveRoute(route));
  }

  /**
   * Takes a transport out at once — later sends naming it fail — and resolves once its sends in
   * flight are done and it is closed. The default transport stays.
   */
  async remove(name: string): Promise<void> {
    if (name === this.defaultTransport) {
      throw new MailerConfigurationError(`removeTransport("${name}"): "${name}" is the default transport, which sends that name no transport go through; it cannot be removed.`);
    }
    const route = this.named.get(name);
    if (route) {
      this.named.delete(name);
      await this.retire(route, 'removeTransport() was called');
      return;
    }
    const opened = this.cache?.peek(name);
    if (!opened) {
      throw new MailerConfigurationError(`removeTransport("${name}"): no transport named "${name}". Configured: ${this.shownNames()}.`);
    }
    this.cache!.delete(name, 'removeTransport() was called');
    // The same promise the cache's retirement started; a failure to close was logged there.
    await opened.retire().catch(() => undefined);
  }

  /**
   * Closes every transport at once — configured, added, opened by the resolver, retiring — as the
   * mailer shuts down; an SMTP pool still lets a connection in the middle of a message finish it.
   */
  async close(): Promise<void> {
    this.closed = true;
    const routes = [...this.named.values(), ...(this.cache?.clear() ?? []), ...this.retiring];
    this.named.clear();
    this.retiring.clear();
    await Promise.allSettled(routes.map((r) => r.transport.close()));
  }

  private checkTenant(tenant: unknown): void {
    if (tenant !== undefined && (typeof tenant !== 'string' || tenant === '')) {
      throw new MailerConfigurationError(`send(): tenant must be a non-empty string, got ${kindOf(tenant)}.`);
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new MailerConfigurationError('The mailer is closed; the application is shutting down.');
  }

  /** The configured and added names for an error message, the first few when there are many. */
  shownNames(): string {
    const names = this.names();
    const more = names.length - NAMES_SHOWN;
    return more > 0 ? `${names.slice(0, NAMES_SHOWN).join(', ')} and ${more} more` : names.join(', ');
  }

  /** The cached route for a configuration the resolver answered, built and checked when new. */
  private leaseResolved(answer: unknown): TransportLease {
    const where = 'transportResolver';
    let name: string | undefined;
    let config: unknown = answer;
    let options: AddTransportOptions = {};
    if (typeof answer === 'object' && answer !== null && !Array.isArray(answer) && 'transport' in answer) {
      checkOptions(answer, RESOLVED_TRANSPORT_SHAPE, `${where}: the answer`);
      const { name: given, transport, ...rest } = answer as ResolvedTransport;
      if (given !== undefined) checkTransportName(given);
      name = given;
      config = transport;
      options = rest;
    }
    if (isTransport(config)) {
      throw new MailerConfigurationError(`${where} answered a Transport instance; add it once with addTransport(name, transport) and answer its name.`);
    }
    if (typeof config !== 'string' && (typeof config !== 'object' || config === null || Array.isArray(config))) {
      throw new MailerConfigurationError(`${where}: expected a transport name, a transport URL, an options object or { name, transport }, got ${kindOf(config)}.`);
    }
    if (typeof config === 'object') expectOptionsObject(config, where);
    const key = this.keys.key({ name, config, options });
    const cache = this.cache!;
    const cached = cache.byConfig(key);
    if (cached) return cached.lease();
    const chosen = name ?? `resolved-${key.slice(0, 12)}`;
    if (this.named.has(chosen)) {
      throw new MailerConfigurationError(`${where}: the name "${chosen}" is a configured or added transport's; answer "${chosen}" alone to send through it, or give this configuration another name.`);
    }
    const route = new LiveRoute(this.build(chosen, config as TransportConfig, options, `${where} (transport "${chosen}")`), (r) => cache.idle(r));
    cache.insert(key, route);
    this.logger.debug(`Transport "${chosen}" opened for a transportResolver answer (${route.transport.kind}); ${cache.size} open.`);
    return route.lease();
  }

  /**
   * A route's settings and transport. The options are checked before the transport is built, and
   * the transport is built last, so a mistake leaves nothing open.
   */
  private build(name: string, config: TransportConfig, options: AddTransportOptions, where: string): TransportRoute {
    const { retry: retryLayer, rateLimit, suppressionScope } = options;
    if ((retryLayer as unknown) === true) throw new MailerConfigurationError(`${where}: retry must be an options object or false.`);
    if (retryLayer) checkOptions(retryLayer, RETRY_OPTION_SHAPE, `${where}: retry`, RETRY_HINTS);
    if ((rateLimit as unknown) === true) throw new MailerConfigurationError(`${where}: rateLimit must be an options object, a RateLimiter or false.`);
    if (rateLimit && !isRateLimiter(rateLimit)) {
      const { clock: _clock, ...shape } = RATE_LIMIT_OPTION_SHAPE;
      checkOptions(rateLimit, shape, `${where}: rateLimit`, RATE_LIMIT_HINTS);
    }
    if (suppressionScope !== undefined) {
      checkSuppressionScope(suppressionScope, `${where}: suppressionScope`);
      if (!this.settings.suppression) {
        throw new MailerConfigurationError(`${where}: suppressionScope needs the suppression list, which is turned off (suppression: false).`);
      }
      // Refuses a store that keeps no scopes, and opens the scope's list now.
      this.settings.suppression.listOf(suppressionScope);
    }
    const { retry, policy } = transportRetry(this.settings.retryOptions, retryLayer, name);
    const limiter = transportRateLimiter(this.settings.options.rateLimit, rateLimit, name, this.settings.clock);
    const built = createTransport(name, config, this.settings.context);
    const override = this.settings.override;
    const transport = override ? override.replaceTransport(built) : built;
    return { name, transport, limiter, retry, policy, ...(suppressionScope !== undefined ? { suppressionScope } : {}) };
  }

  /** Out of service now; closed once its sends in flight are done. A failure to close is logged. */
  private retire(route: LiveRoute, why: string): Promise<void> {
    this.retiring.add(route);
    return route.retire().then(
      () => {
        this.retiring.delete(route);
        this.logger.debug(`Transport "${route.name}" closed: ${why}.`);
      },
      (error: unknown) => {
        this.retiring.delete(route);
        this.logger.warn(`Transport "${route.name}" could not be closed cleanly (${why}): ${(error as Error)?.message ?? String(error)}`);
      },
    );
  }
}
