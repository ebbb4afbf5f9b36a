import { afterEach, beforeEach, expect, vi } from 'vitest';
import { OwnRedisServer } from './redis-server.js';

/**
 * For tests that kill, freeze and restart Redis under the module: each test gets a redis-server of
 * its own (append-only, so a killed one comes back with its data). After each test: no unhandled
 * rejection or exception, and no "[ioredis] Unhandled error event" on the console — ioredis prints it
 * for every failed reconnection of a client without an error listener, and none of the module's
 * clients may be one. Returns the running server of the current test.
 */
export function useOutageRedis(): () => OwnRedisServer {
  let server: OwnRedisServer | undefined;
  let consoleErrors: unknown[][] = [];
  let unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  beforeEach(async () => {
    server = await OwnRedisServer.start({ persistent: true });
    consoleErrors = [];
    unhandled = [];
    vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void consoleErrors.push(args));
    process.on('unhandledRejection', onUnhandled);
    process.on('uncaughtException', onUnhandled);
  });

  afterEach(async () => {
    process.off('unhandledRejection', onUnhandled);
    process.off('uncaughtException', onUnhandled);
    vi.restoreAllMocks();
    await server?.stop();
    server = undefined;
    expect(consoleErrors.map((a) => a.join(' ')).filter((l) => l.includes('ioredis'))).toEqual([]);
    expect(unhandled).toEqual([]);
  });

  return () => {
    if (!server) throw new Error('useOutageRedis(): no Redis outside a test');
    return server;
  };
}
