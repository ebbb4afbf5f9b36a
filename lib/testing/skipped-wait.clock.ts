import type { RetryClock } from '../retry/retry.clock.js';

/**
 * A clock whose waits end at once and move its time forward by what they waited: retry backoff
 * and rate limits decide as they would (attempts, Retry-After, deadline) without a test sleeping
 * through them.
 */
export class SkippedWaitClock implements RetryClock {
  private skipped = 0;

  now(): number {
    return Date.now() + this.skipped;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason ?? new DOMException('This operation was aborted', 'AbortError'));
    this.skipped += Math.max(0, ms);
    // A macrotask turn, so that a loop of waits never starves I/O.
    return new Promise<void>((resolve) => setImmediate(resolve));
  }
}
