import type { LiveRoute } from './transport.route.js';

interface Cached {
  key: string;
  route: LiveRoute;
  idleTimer?: NodeJS.Timeout;
}

/**
 * The transports built from a resolver's answers, by configuration key and by name: at most `max`
 * of them, the one used least recently pushed out first, and each closed after `idleTimeout`
 * milliseconds without a send. What leaves the cache is handed to `retire`, which closes it once
 * its sends in flight are done.
 */
export class ResolvedTransportCache {
  /** In order of use, least recent first (a Map keeps insertion order; a use re-inserts). */
  private readonly byKey = new Map<string, Cached>();
  private readonly byName = new Map<string, Cached>();

  constructor(
    private readonly max: number,
    private readonly idleTimeout: number | false,
    private readonly retire: (route: LiveRoute, why: string) => void,
  ) {}

  get size(): number {
    return this.byKey.size;
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  /** The route built for this configuration key, marked as just used. */
  byConfig(key: string): LiveRoute | undefined {
    const cached = this.byKey.get(key);
    return cached && this.use(cached);
  }

  /** The route of this name, left as it is (a look, not a use: its idle time goes on). */
  peek(name: string): LiveRoute | undefined {
    return this.byName.get(name)?.route;
  }

  /** The route of this name, marked as just used. */
  named(name: string): LiveRoute | undefined {
    const cached = this.byName.get(name);
    return cached && this.use(cached);
  }

  /**
   * Adds a route. One already there under its name (the resolver answered another configuration
   * for it) and, past `max`, the least recently used ones leave.
   */
  insert(key: string, route: LiveRoute): void {
    this.delete(route.name, 'its configuration changed');
    const cached: Cached = { key, route };
    this.byKey.set(key, cached);
    this.byName.set(route.name, cached);
    for (const [, oldest] of this.byKey) {
      if (this.byKey.size <= this.max) break;
      this.drop(oldest, `more than ${this.max} transports are open (transportCache.max)`);
    }
  }

  /** Takes the route of this name out and retires it; false when there is none. */
  delete(name: string, why: string): boolean {
    const cached = this.byName.get(name);
    if (!cached) return false;
    this.drop(cached, why);
    return true;
  }

  /** The last send in flight through `route` is done: it is closed unless used again in time. */
  idle(route: LiveRoute): void {
    const cached = this.byName.get(route.name);
    if (!cached || cached.route !== route || this.idleTimeout === false) return;
    clearTimeout(cached.idleTimer);
    const timeout = this.idleTimeout;
    cached.idleTimer = setTimeout(() => {
      if (this.byName.get(route.name) === cached && !route.busy) this.drop(cached, `unused for ${timeout} ms (transportCache.idleTimeout)`);
    }, timeout);
    // An idle transport does not keep the process alive.
    cached.idleTimer.unref();
  }

  /** Empties the cache without retiring anything; the caller closes what it gets. */
  clear(): LiveRoute[] {
    const routes = [...this.byKey.values()].map((c) => {
      clearTimeout(c.idleTimer);
      return c.route;
    });
    this.byKey.clear();
    this.byName.clear();
    return routes;
  }

  private use(cached: Cached): LiveRoute {
    clearTimeout(cached.idleTimer);
    cached.idleTimer = undefined;
    this.byKey.delete(cached.key);
    this.byKey.set(cached.key, cached);
    return cached.route;
  }

  private drop(cached: Cached, why: string): void {
    clearTimeout(cached.idleTimer);
    this.byKey.delete(cached.key);
    if (this.byName.get(cached.route.name) === cached) this.byName.delete(cached.route.name);
    this.retire(cached.route, why);
  }
}
