export { systemClock, type RetryClock } from './retry.clock.js';
export {
  DEFAULT_RETRY,
  resolveRetryOptions,
  type RetryOptions,
  type RetryBackoff,
  type RetryJitter,
  type RetryEvent,
  type ResolvedRetryOptions,
} from './retry.options.js';
export { RetryPolicy, type RetryDecision, type RetryRunOptions } from './retry.policy.js';
export { isRetryableFailure, isRateLimitFailure } from './retry.decision.js';
export { sendWithRetry, type RetrySendOptions } from './retry-send.js';
export { limitedTransport } from './rate-limited.transport.js';
export {
  TokenBucketRateLimiter,
  DEFAULT_RATE_COOLDOWN,
  type RateLimiter,
  type RateLimitOptions,
} from './rate-limiter.js';
