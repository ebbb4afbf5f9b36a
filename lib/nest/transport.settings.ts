import { MailerConfigurationError } from '../errors/mailer.error.js';
import { TokenBucketRateLimiter, type RateLimiter } from '../retry/rate-limiter.js';
import type { RetryClock } from '../retry/retry.clock.js';
import { RetryPolicy } from '../retry/retry.policy.js';
import type { RetryOptions } from '../retry/retry.options.js';
import type { MailerModuleOptions } from './mailer.options.js';

/** The same rule for names given at start-up, to `addTransport` and by a resolver. */
const NAME = /^[A-Za-z0-9_.-]+$/;

export function isTransportName(name: unknown): name is string {
  return typeof name === 'string' && NAME.test(name);
}

export function checkTransportName(name: unknown): asserts name is string {
  if (!isTransportName(name)) {
    const shown = typeof name === 'string' ? `"${name.length > 100 ? `${name.slice(0, 100)}…` : name}"` : `of type ${typeof name}`;
    throw new MailerConfigurationError(`Transport name ${shown} may use only letters, digits, dot, dash and underscore.`);
  }
}

export function isRateLimiter(value: unknown): value is RateLimiter {
  return typeof value === 'object' && value !== null
    && typeof (value as RateLimiter).acquire === 'function' && typeof (value as RateLimiter).penalize === 'function';
}

/** The retry option layers (module, transport) of one transport and whether retrying is on. */
export interface TransportRetry {
  layers: RetryOptions[];
  enabled: boolean;
}

/**
 * The retry settings of one transport: the module's options underneath, the transport's layer
 * over them. The policy is built (and so checked) even when retrying is off: a send may turn it on
 * with these values underneath. Throws MailerConfigurationError.
 */
export function transportRetry(
  options: MailerModuleOptions['retry'],
  layer: RetryOptions | false | undefined,
  name: string,
): { retry: TransportRetry; policy: RetryPolicy | undefined } {
  const { transports: _own, ...base } = options || {};
  const layers = [base, ...(layer ? [layer] : [])];
  const enabled = layer === false ? false : layer !== undefined || options !== false;
  const policy = RetryPolicy.merge(layers, `retry (transport "${name}")`);
  return { retry: { layers, enabled }, policy: enabled ? policy : undefined };
}

/**
 * The limiter of one transport: the layer's own RateLimiter, or a token bucket with the module's
 * top-level rate and the layer over it (`false`: no rate, penalties only). One clock for the
 * mailer: a clock given for retries serves the limiters too.
 */
export function transportRateLimiter(
  options: MailerModuleOptions['rateLimit'],
  layer: NonNullable<NonNullable<MailerModuleOptions['rateLimit']>['transports']>[string] | undefined,
  name: string,
  retryClock?: RetryClock,
): RateLimiter {
  const { transports: _own, clock: given, ...base } = options ?? {};
  const clock = given ?? retryClock;
  const where = `rateLimit (transport "${name}")`;
  if (isRateLimiter(layer)) return layer;
  if (layer === false) return new TokenBucketRateLimiter({ clock }, where);
  return new TokenBucketRateLimiter({ ...base, ...layer, clock }, where);
}
