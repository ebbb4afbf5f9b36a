import { Logger } from '@nestjs/common';
import type { ModuleRef } from '@nestjs/core';
import type { Transport } from '../core/transport.types.js';
import { MailerConfigurationError } from '../errors/mailer.error.js';
import { checkOptions, expectOptionsObject, type OptionHints } from '../errors/option.checker.js';
import { MemorySuppressionStore } from '../suppression/memory-suppression.store.js';
import { RedisSuppressionStore } from '../suppression/redis-suppression.store.js';
import { checkSuppressionCircuitOptions, SuppressionCircuit } from '../suppression/suppression.circuit.js';
import { validateSuppressionPolicy, type SuppressionPolicyOptions } from '../suppression/suppression.policy.js';
import type { SuppressionStore } from '../suppression/suppression.types.js';
import { HandlebarsRenderer } from '../templates/handlebars.renderer.js';
import { HANDLEBARS_TEMPLATE_OPTION_SHAPE } from '../templates/handlebars-renderer.options.js';
import type { TemplateRenderer } from '../templates/template-renderer.types.js';
import { createTransport } from '../transports/transport.config.js';
import { RATE_LIMIT_HINTS, RATE_LIMIT_OPTION_SHAPE, TokenBucketRateLimiter, type RateLimiter } from '../retry/rate-limiter.js';
import type { RetryClock } from '../retry/retry.clock.js';
import { RetryPolicy } from '../retry/retry.policy.js';
import { RETRY_HINTS, RETRY_OPTION_SHAPE, type RetryOptions } from '../retry/retry.options.js';
import { fromIncumbentOptions } from './incumbent-options.compat.js';
import { checkTransportName, isRateLimiter, transportRateLimiter, transportRetry } from './transport.settings.js';
import { TransportRegistry } from './transport.registry.js';
import { TRANSPORT_CACHE_OPTION_SHAPE } from './transport-resolver.types.js';
import { MAILER_RUNTIME, type MailerTransportOverride } from './mailer.tokens.js';
import { checkLocaleOptions } from './mail-locale.js';
import { MailTelemetry } from '../telemetry/mail.telemetry.js';
import { checkTelemetryOptions } from '../telemetry/telemetry.options.js';
import {
  ATTACHMENT_POLICY_SHAPE,
  DEFAULTS_HINTS,
  DEFAULTS_SHAPE,
  MAILER_HINTS,
  MAILER_OPTION_SHAPE,
  SUPPRESSION_OPTION_SHAPE,
  type MailerModuleOptions,
} from './mailer.options.js';

/** Everything the options describe, built and checked once at start-up. */
export interface MailerRuntime {
  options: MailerModuleOptions;
  transports: Map<string, Transport>;
  defaultTransport: string;
  renderer?: TemplateRenderer;
  /** `circuit` guards the send path's calls to `store` (timeouts, outages, the outage buffer). */
  suppression?: { store: SuppressionStore; circuit: SuppressionCircuit; policy?: SuppressionPolicyOptions; owned: boolean };
  /**
   * Per transport: the retry option layers (module, transport) and whether retrying is on; a send
   * that passes its own options lays them over these, even when retrying is off for the transport.
   */
  retry: Map<string, { layers: RetryOptions[]; enabled: boolean }>;
  /** Per transport: the policy of those layers, built and checked at start-up. */
  retryPolicies: Map<string, RetryPolicy | undefined>;
  /** Per transport: its send-rate limiter. */
  limiters: Map<string, RateLimiter>;
  /** True when each OutgoingMail keeps its template context (see MailerTransportOverride). */
  keepTemplateContext?: boolean;
  /**
   * Every transport by name — the configured ones above, those added at run time and those a
   * transportResolver opened — with what governs sends through each. The send path goes through it.
   */
  registry: TransportRegistry;
  /** Spans, metrics and the failure log line (see MailerModuleOptions.telemetry). */
  telemetry: MailTelemetry;
}

function unknownNames(section: string, given: Record<string, unknown> | undefined, names: readonly string[]): void {
  for (const name of Object.keys(given ?? {})) {
    if (!names.includes(name)) {
      throw new MailerConfigurationError(`${section}.transports.${name}: no transport is named "${name}" (configured: ${names.join(', ')}).`);
    }
  }
}

/** Retry layers and policies per transport; a bad value stops start-up. */
export function createRetryPolicies(options: MailerModuleOptions['retry'], names: readonly string[]): Pick<MailerRuntime, 'retry' | 'retryPolicies'> {
  const retry = new Map<string, { layers: RetryOptions[]; enabled: boolean }>();
  const retryPolicies = new Map<string, RetryPolicy | undefined>();
  if (options !== undefined && options !== false && (typeof options !== 'object' || options === null)) {
    throw new MailerConfigurationError('retry: expected an options object or false.');
  }
  const own = options ? options.transports : undefined;
  if (options) checkOptions(options, { ...RETRY_OPTION_SHAPE, transports: 'object' }, 'MailerModule: retry', RETRY_HINTS);
  unknownNames('retry', own, names);
  for (const [name, layer] of Object.entries(own ?? {})) {
    if (layer !== false) checkOptions(layer, RETRY_OPTION_SHAPE, `MailerModule: retry.transports.${name}`, RETRY_HINTS);
  }
  for (const name of names) {
    const { retry: settings, policy } = transportRetry(options, own?.[name], name);
    retry.set(name, settings);
    retryPolicies.set(name, policy);
  }
  return { retry, retryPolicies };
}

/** A limiter per transport: configured rates, a given RateLimiter, or one that only honours penalties. */
export function createRateLimiters(options: MailerModuleOptions['rateLimit'], names: readonly string[], retryClock?: RetryClock): Map<string, RateLimiter> {
  const limiters = new Map<string, RateLimiter>();
  const own = options?.transports;
  if (options !== undefined) checkOptions(options, { ...RATE_LIMIT_OPTION_SHAPE, transports: 'object' }, 'MailerModule: rateLimit', RATE_LIMIT_HINTS);
  unknownNames('rateLimit', own, names);
  for (const [name, layer] of Object.entries(own ?? {})) {
    if (layer !== false && !isRateLimiter(layer)) {
      const { clock: _clock, ...shape } = RATE_LIMIT_OPTION_SHAPE;
      checkOptions(layer, shape, `MailerModule: rateLimit.transports.${name}`, RATE_LIMIT_HINTS);
    }
  }
  for (const name of names) limiters.set(name, transportRateLimiter(options, own?.[name], name, retryClock));
  return limiters;
}

async function createSuppression(options: MailerModuleOptions['suppression'] | true): Promise<MailerRuntime['suppression']> {
  if (options === false) return undefined;
  if (options !== undefined && options !== true) checkOptions(options, SUPPRESSION_OPTION_SHAPE, 'MailerModule: suppression');
  const { store, redis, policy, onUnavailable, circuit } = options === true ? {} : options ?? {};
  validateSuppressionPolicy(policy);
  checkSuppressionCircuitOptions(circuit, onUnavailable);
  if (store && redis) throw new MailerConfigurationError('suppression: give either store or redis, not both.');
  const guard = (s: SuppressionStore) => new SuppressionCircuit(s, onUnavailable, circuit);
  if (store) return { store, circuit: guard(store), policy, owned: false };
  if (redis) {
    const made = await RedisSuppressionStore.create(redis);
    return { store: made, circuit: guard(made), policy, owned: true };
  }
  const memory = new MemorySuppressionStore();
  return { store: memory, circuit: guard(memory), policy, owned: true };
}

const TEMPLATES_HINTS: OptionHints = {
  adapter: "is @nestjs-modules/mailer's: templates are Handlebars, compiled by this module; remove it (helpers go in templates.helpers).",
  options: "is @nestjs-modules/mailer's: write strict: true in templates itself.",
  layout: 'is written defaultLayout here (the layout lives in layoutsDir, <dir>/layouts by default).',
  dirs: 'is not supported: templates come from one folder (dir); move the other folders below it.',
};

/** `transportCache` bounds what `transportResolver` opens: refused without one, like a value out of range. */
function checkTransportCache(options: MailerModuleOptions): void {
  const cache = options.transportCache;
  if (cache === undefined) return;
  checkOptions(cache, TRANSPORT_CACHE_OPTION_SHAPE, 'MailerModule: transportCache');
  if (options.transportResolver === undefined) {
    throw new MailerConfigurationError('MailerModule: transportCache bounds the transports opened for transportResolver\'s answers; set transportResolver too, or leave transportCache out.');
  }
  if (cache.max !== undefined && !(Number.isInteger(cache.max) && cache.max >= 1)) {
    throw new MailerConfigurationError(`MailerModule: transportCache.max must be a whole number, 1 or more, got ${String(cache.max)}.`);
  }
  const idle = cache.idleTimeout;
  if (idle !== undefined && idle !== false && !(Number.isInteger(idle) && (idle as number) >= 1)) {
    throw new MailerConfigurationError(`MailerModule: transportCache.idleTimeout must be a whole number of milliseconds, 1 or more, or false, got ${String(idle)}.`);
  }
}

/**
 * The options as given — by forRoot or by a forRootAsync factory — checked against their declared
 * shapes, with `@nestjs-modules/mailer`'s names turned into this module's. Transports, retry and
 * rate-limit layers and the suppression store are checked where they are built.
 */
export function checkMailerOptions(given: MailerModuleOptions): MailerModuleOptions {
  if (!given || typeof given !== 'object') {
    throw new MailerConfigurationError('MailerModule needs an options object with at least a transport.');
  }
  const options = fromIncumbentOptions(given);
  checkOptions(options, MAILER_OPTION_SHAPE, 'MailerModule', MAILER_HINTS);
  if (options.defaults !== undefined) checkOptions(options.defaults, DEFAULTS_SHAPE, 'MailerModule: defaults', DEFAULTS_HINTS);
  if (options.attachments !== undefined) checkOptions(options.attachments, ATTACHMENT_POLICY_SHAPE, 'MailerModule: attachments');
  checkLocaleOptions(options.locale);
  if (options.templates !== undefined) {
    expectOptionsObject(options.templates, 'MailerModule: templates');
    if ('renderer' in options.templates) checkOptions(options.templates, { renderer: 'object' }, 'MailerModule: templates');
    else checkOptions(options.templates, HANDLEBARS_TEMPLATE_OPTION_SHAPE, 'MailerModule: templates', TEMPLATES_HINTS);
  }
  checkTransportCache(options);
  checkTelemetryOptions(options.telemetry);
  return options;
}

/**
 * Builds transports and compiles templates; any mistake stops start-up with a MailerConfigurationError.
 * With an `override` (nestjs-mailroom/testing), each transport is built and checked as usual, then
 * replaced by what the override returns.
 */
export async function createMailerRuntime(given: MailerModuleOptions, override?: MailerTransportOverride): Promise<MailerRuntime> {
  const options = checkMailerOptions(given);
  const context = { logger: new Logger('MailerTransport') };
  const configs = new Map<string, MailerModuleOptions['transport']>();
  if (options.transport !== undefined) configs.set('default', options.transport);
  for (const [name, config] of Object.entries(options.transports ?? {})) {
    checkTransportName(name);
    if (configs.has(name)) throw new MailerConfigurationError(`Transport "${name}" is configured twice (transport and transports.${name}).`);
    configs.set(name, config);
  }
  if (!configs.size) {
    throw new MailerConfigurationError('MailerModule has no transport. Set `transport: "smtp://user:pass@host:587"` or `transports: { default: … }`.');
  }
  const defaultTransport = options.defaultTransport ?? (configs.has('default') ? 'default' : [...configs.keys()][0]!);
  if (!configs.has(defaultTransport)) {
    throw new MailerConfigurationError(`defaultTransport "${defaultTransport}" is not among the configured transports (${[...configs.keys()].join(', ')}).`);
  }
  const telemetry = await MailTelemetry.create(options.telemetry);
  const transports = new Map<string, Transport>();
  let renderer: TemplateRenderer | undefined;
  try {
    for (const [name, config] of configs) {
      const built = createTransport(name, config!, context);
      transports.set(name, override ? override.replaceTransport(built) : built);
    }
    if (options.templates) {
      const made: TemplateRenderer = 'renderer' in options.templates ? options.templates.renderer : new HandlebarsRenderer(options.templates);
      await made.init();
      renderer = made;
    }
    const names = [...configs.keys()];
    const ownRetry = options.retry;
    const clock = (ownRetry ? ownRetry.clock : undefined) ?? override?.clock;
    const retryOptions = clock && (ownRetry === undefined || (typeof ownRetry === 'object' && ownRetry !== null)) ? { ...ownRetry, clock } : ownRetry;
    const { retry, retryPolicies } = createRetryPolicies(retryOptions, names);
    const limiters = createRateLimiters(options.rateLimit, names, clock);
    const suppression = await createSuppression(options.suppression);
    const keepTemplateContext = override?.keepTemplateContext === true;
    const registry = new TransportRegistry({
      options,
      defaultTransport,
      configured: names.map((name) => ({
        name,
        transport: transports.get(name)!,
        limiter: limiters.get(name)!,
        retry: retry.get(name)!,
        policy: retryPolicies.get(name),
      })),
      retryOptions,
      clock,
      context,
      override,
      suppression: suppression?.circuit,
    });
    return { options, transports, defaultTransport, renderer, suppression, retry, retryPolicies, limiters, keepTemplateContext, registry, telemetry };
  } catch (error) {
    await Promise.allSettled([...transports.values()].map((t) => t.close()));
    await renderer?.close();
    throw error;
  }
}

/**
 * The telemetry of the application's MailerModule (its options), or one with the defaults when the
 * application has none (a webhook receiver or a queue producer on its own).
 */
export async function findMailerTelemetry(moduleRef: ModuleRef): Promise<MailTelemetry> {
  try {
    const runtime = moduleRef.get<MailerRuntime>(MAILER_RUNTIME as never, { strict: false });
    if (runtime?.telemetry) return runtime.telemetry;
  } catch {
    // No MailerModule in this application.
  }
  return MailTelemetry.create(undefined);
}
