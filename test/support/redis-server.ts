import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { answersPing, freePort } from './redis.js';

/*
 * A redis-server that a test starts for itself, on a free port, so that it can kill, freeze and
 * restart it without disturbing any other test. Unlike redisUrl(), this never uses a Redis that
 * is already running: an outage test needs one it owns. When redis-server is not on the PATH the
 * start fails with an error saying so; the test fails, it is never skipped.
 */

const HOST = '127.0.0.1';
const START_TIMEOUT_MS = 10_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Every redis-server started here and still running, killed if the test process exits first. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export interface OwnRedisOptions {
  /**
   * Keep the data across kill() and restart() (an append-only file fsynced on every write, in a
   * temporary folder), as a production Redis for BullMQ is set up. Default false: a restart
   * comes back empty.
   */
  persistent?: boolean;
}

export class OwnRedisServer {
  private child?: ChildProcess;
  private readonly dir?: string;

  private constructor(readonly port: number, private readonly options: OwnRedisOptions) {
    if (options.persistent) this.dir = mkdtempSync(join(tmpdir(), 'mailroom-redis-'));
  }

  static async start(options: OwnRedisOptions = {}): Promise<OwnRedisServer> {
    const server = new OwnRedisServer(await freePort(), options);
    await server.spawn();
    return server;
  }

  get url(): string {
    return `redis://${HOST}:${this.port}`;
  }

  /** SIGKILL, as a crash or an OOM kill would: no goodbye to the clients. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await gone;
  }

  /** SIGSTOP: connections stay open and nothing answers, as with a Redis stuck or a network black hole. */
  freeze(): void {
    this.child?.kill('SIGSTOP');
  }

  thaw(): void {
    this.child?.kill('SIGCONT');
  }

  /** Starts redis-server again on the same port (with the same data when persistent). */
  async restart(): Promise<void> {
    await this.kill();
    await this.spawn();
  }

  async stop(): Promise<void> {
    this.thaw();
    await this.kill();
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }

  private async spawn(): Promise<void> {
    const args = ['--port', String(this.port), '--bind', HOST, '--save', ''];
    if (this.dir) args.push('--dir', this.dir, '--appendonly', 'yes', '--appendfsync', 'always');
    else args.push('--appendonly', 'no');
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    let failure: NodeJS.ErrnoException | undefined;
    child.once('error', (error) => (failure = error));
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      await sleep(30);
      if (failure) {
        throw new Error(failure.code === 'ENOENT'
          ? 'This test starts and kills a redis-server of its own, and redis-server is not on the PATH. Install Redis (e.g. `apt-get install redis-server`).'
          : `Could not start redis-server: ${failure.message}`);
      }
      if (child.exitCode !== null) throw new Error(`redis-server exited at start-up on port ${this.port}:\n${output}`);
      if (await answersPing(HOST, this.port, 200)) break;
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`redis-server did not answer on port ${this.port} within ${START_TIMEOUT_MS} ms:\n${output}`);
      }
    }
    this.child = child;
    running.add(child);
    child.once('exit', () => running.delete(child));
  }
}
