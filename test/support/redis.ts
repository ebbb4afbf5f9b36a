import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createConnection, createServer, type AddressInfo } from 'node:net';

/*
 * A real Redis for the e2e tests. In order:
 *   1. REDIS_URL, when set (it must answer);
 *   2. redis://127.0.0.1:6379, when something answers PING there (local service, CI service);
 *   3. a throwaway `redis-server` on a free port, when the binary is on the PATH (no persistence),
 *      stopped by stopRedis() or when the process exits.
 * Otherwise redisUrl() rejects with an error that says what to do: tests that need Redis fail,
 * they are never skipped.
 */

const DEFAULT_HOST = '127.0.0.1';
const DEFAULT_PORT = 6379;
const START_TIMEOUT_MS = 10_000;

let located: Promise<string> | undefined;
let server: ChildProcess | undefined;

/** Resolves when a RESP reply comes back to PING within `timeoutMs`; any reply (even -NOAUTH) counts. */
export function answersPing(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (chunk) => done(chunk.length > 0 && (chunk[0] === 0x2b /* + */ || chunk[0] === 0x2d /* - */)));
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, DEFAULT_HOST, () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function startRedisServer(): Promise<string | undefined> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', DEFAULT_HOST, '--save', '', '--appendonly', 'no'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const spawnError = new Promise<NodeJS.ErrnoException>((resolve) => child.once('error', resolve));
  let exited = false;
  child.once('exit', () => (exited = true));

  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const failure = await Promise.race([spawnError, sleep(50).then(() => undefined)]);
    if (failure) {
      if (failure.code === 'ENOENT') return undefined;
      throw new Error(`Could not start redis-server: ${failure.message}`);
    }
    if (exited) throw new Error(`redis-server exited at start-up on port ${port}:\n${output}`);
    if (await answersPing(DEFAULT_HOST, port, 200)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`redis-server did not answer on port ${port} within ${START_TIMEOUT_MS} ms:\n${output}`);
    }
  }
  server = child;
  process.once('exit', () => server?.kill('SIGKILL'));
  return `redis://${DEFAULT_HOST}:${port}`;
}

async function locate(): Promise<string> {
  const fromEnv = process.env.REDIS_URL;
  if (fromEnv) {
    const url = new URL(fromEnv);
    if (!(await answersPing(url.hostname, Number(url.port || DEFAULT_PORT)))) {
      throw new Error(`REDIS_URL is set to ${url.protocol}//${url.host} but nothing answers there. Start Redis or unset REDIS_URL.`);
    }
    return fromEnv;
  }
  if (await answersPing(DEFAULT_HOST, DEFAULT_PORT)) return `redis://${DEFAULT_HOST}:${DEFAULT_PORT}`;
  const started = await startRedisServer();
  if (started) return started;
  throw new Error(
    `These tests need Redis and none was found: nothing answers at ${DEFAULT_HOST}:${DEFAULT_PORT}, REDIS_URL is not set, ` +
      'and redis-server is not on the PATH. Start one (e.g. `docker run --rm -p 6379:6379 redis:7`, or install redis-server) ' +
      'or point REDIS_URL at one.',
  );
}

/** The URL of a Redis the tests may use (see the top of this file). Resolved once per process. */
export function redisUrl(): Promise<string> {
  located ??= locate().catch((error: unknown) => {
    located = undefined;
    throw error;
  });
  return located;
}

/** Stops the redis-server this process started, if it started one. Call from afterAll. */
export async function stopRedis(): Promise<void> {
  const child = server;
  server = undefined;
  located = undefined;
  if (!child || child.exitCode !== null) return;
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  await Promise.race([gone, sleep(5_000).then(() => child.kill('SIGKILL'))]);
}

/** A key prefix no other run uses: `mailroom-test:<name>:<uuid>:`. */
export function uniqueKeyPrefix(name: string): string {
  return `mailroom-test:${name}:${randomUUID()}:`;
}

/** The commands deleteKeysByPrefix sends; an ioredis client has them. */
export interface KeyDeletingClient {
  scan(cursor: string, matchToken: 'MATCH', pattern: string, countToken: 'COUNT', count: number): Promise<[string, string[]]>;
  del(...keys: string[]): Promise<number>;
}

/** Deletes every key that starts with `prefix` (SCAN + DEL). Resolves to how many were deleted. */
export async function deleteKeysByPrefix(client: KeyDeletingClient, prefix: string): Promise<number> {
  const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) deleted += await client.del(...keys);
  } while (cursor !== '0');
  return deleted;
}
