import type { RetryClock } from '../../../lib/retry/retry.clock.js';

/** A clock that never waits: each sleep is recorded and moves `now` forward by its length. */
export class FakeClock implements RetryClock {
  readonly sleeps: number[] = [];

  constructor(public time = 1_000_000) {}

  now(): number {
    return this.time;
  }

  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw signal.reason;
    this.sleeps.push(ms);
    this.time += ms;
    await Promise.resolve();
    if (signal?.aborted) throw signal.reason;
  }
}
