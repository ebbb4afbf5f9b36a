import type { Transport } from '../core/transport.types.js';
import type { RateLimiter } from '../retry/rate-limiter.js';
import type { RetryPolicy } from '../retry/retry.policy.js';
import type { TransportRetry } from './transport.settings.js';

/** One name the mailer sends through: the transport and what governs sends through it. */
export interface TransportRoute {
  readonly name: string;
  readonly transport: Transport;
  readonly limiter: RateLimiter;
  /** The retry layers (module, transport); a send's own retry options go over them. */
  readonly retry: TransportRetry;
  /** The policy of those layers; undefined when retrying is off for the transport. */
  readonly policy: RetryPolicy | undefined;
  /** The suppression list of this scope; the shared list when undefined. */
  readonly suppressionScope?: string;
}

/** A send's hold on a route: the route is not closed before every lease on it is released. */
export interface TransportLease {
  readonly route: TransportRoute;
  /** Safe to call more than once. */
  release(): void;
}

/**
 * A route and the sends in flight through it. Retired — removed, evicted, replaced — it takes no
 * more sends and closes its transport once the last one in flight is done, so that a pool is never
 * closed under a mail it is delivering, nor under the retries of one.
 */
export class LiveRoute implements TransportRoute {
  readonly name: string;
  readonly transport: Transport;
  readonly limiter: RateLimiter;
  readonly retry: TransportRetry;
  readonly policy: RetryPolicy | undefined;
  readonly suppressionScope?: string;
  private inflight = 0;
  private retiring?: Promise<void>;
  private drained?: () => void;

  /** `onIdle` hears each time the last send in flight is done (while the route is not retired). */
  constructor(route: TransportRoute, private readonly onIdle?: (route: LiveRoute) => void) {
    this.name = route.name;
    this.transport = route.transport;
    this.limiter = route.limiter;
    this.retry = route.retry;
    this.policy = route.policy;
    if (route.suppressionScope !== undefined) this.suppressionScope = route.suppressionScope;
  }

  /** Whether sends are in flight. */
  get busy(): boolean {
    return this.inflight > 0;
  }

  get retired(): boolean {
    return this.retiring !== undefined;
  }

  /** The caller checks `retired` first: a retired route takes no new sends. */
  lease(): TransportLease {
    this.inflight++;
    let released = false;
    return {
      route: this,
      release: () => {
        if (released) return;
        released = true;
        if (--this.inflight > 0) return;
        if (this.drained) this.drained();
        else if (!this.retiring) this.onIdle?.(this);
      },
    };
  }

  /** Takes no more sends; resolves once the sends in flight are done and the transport is closed. */
  retire(): Promise<void> {
    this.retiring ??= (async () => {
      if (this.inflight > 0) await new Promise<void>((resolve) => (this.drained = resolve));
      await this.transport.close();
    })();
    return this.retiring;
  }
}
