import { describe, expect, it } from 'vitest';
import { ResolvedTransportCache } from '../../../lib/nest/resolved-transport.cache.js';
import { LiveRoute } from '../../../lib/nest/transport.route.js';
import { TokenBucketRateLimiter } from '../../../lib/retry/rate-limiter.js';
import { MemoryTransport } from '../../../lib/transports/memory.transport.js';

function route(name: string, cache?: ResolvedTransportCache): LiveRoute {
  return new LiveRoute(
    { name, transport: new MemoryTransport(name), limiter: new TokenBucketRateLimiter(), retry: { layers: [], enabled: false }, policy: undefined },
    cache && ((r) => cache.idle(r)),
  );
}

describe('ResolvedTransportCache', () => {
  it('pushes out the least recently used past max; a use counts, a look does not', () => {
    const retired: string[] = [];
    const cache = new ResolvedTransportCache(2, false, (r, why) => retired.push(`${r.name}: ${why}`));
    cache.insert('ka', route('a'));
    cache.insert('kb', route('b'));
    cache.byConfig('ka');
    cache.peek('b');
    cache.insert('kc', route('c'));
    expect(retired).toEqual(['b: more than 2 transports are open (transportCache.max)']);
    cache.named('a');
    cache.insert('kd', route('d'));
    expect(retired).toHaveLength(2);
    expect(retired[1]).toMatch(/^c: /);
    expect(cache.names().sort()).toEqual(['a', 'd']);
  });

  it('replaces the route of a name whose configuration changed', () => {
    const retired: string[] = [];
    const cache = new ResolvedTransportCache(10, false, (r, why) => retired.push(`${r.name}: ${why}`));
    const first = route('acme');
    cache.insert('k1', first);
    cache.insert('k2', route('acme'));
    expect(retired).toEqual(['acme: its configuration changed']);
    expect(cache.byConfig('k1')).toBeUndefined();
    expect(cache.byConfig('k2')).not.toBe(first);
    expect(cache.size).toBe(1);
  });

  it('a retired route closes its transport only when its last lease is released', async () => {
    const r = route('acme');
    const closed: string[] = [];
    (r.transport as MemoryTransport).close = async () => { closed.push('closed'); };
    const one = r.lease();
    const two = r.lease();
    let done = false;
    const retiring = r.retire().then(() => (done = true));
    one.release();
    one.release();
    await new Promise((resolve) => setImmediate(resolve));
    expect([done, closed]).toEqual([false, []]);
    two.release();
    await retiring;
    expect(closed).toEqual(['closed']);
  });
});
