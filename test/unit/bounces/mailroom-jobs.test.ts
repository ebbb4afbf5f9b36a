import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { main } from '../../../lib/cli/mailroom.js';
import { ParsePool } from '../../../lib/cli/parse.pool.js';
import { compileLib } from '../../e2e/queue/fixtures/compile-lib.js';

const run = promisify(execFile);
const fixtures = fileURLToPath(new URL('../../fixtures/bounces/', import.meta.url));

async function serial(args: string[]): Promise<string> {
  let out = '';
  await main(args, (s) => (out += s), () => undefined);
  return out;
}

describe('mailroom bounce --jobs', () => {
  it('prints what one thread prints, line for line and in the same order, from worker threads', async () => {
    const cli = path.join(path.dirname(await compileLib()), 'cli', 'mailroom.js');
    const dir = mkdtempSync(path.join(tmpdir(), 'mailroom-jobs-'));
    // An mbox as well as single files: its messages are spread over the threads and must come back in order.
    const { readFileSync } = await import('node:fs');
    const a = readFileSync(path.join(fixtures, 'qmail.eml'), 'utf8');
    const b = readFileSync(path.join(fixtures, 'exim.eml'), 'utf8');
    writeFileSync(path.join(dir, 'box'), Array.from({ length: 12 }, (_, i) => `From MAILER-DAEMON Mon Mar  3 10:00:0${i % 10} 2025\n${i % 2 ? a : b}\n`).join(''));
    const args = ['bounce', fixtures, dir, '--path-prefix', fixtures];
    const expected = await serial(args);
    expect(expected.split('\n').length).toBeGreaterThan(30);
    for (const jobs of ['3', 'auto']) {
      const { stdout, stderr } = await run(process.execPath, [cli, ...args, '--jobs', jobs], { maxBuffer: 1 << 26 });
      expect(stderr).toBe('');
      expect(stdout).toBe(expected);
    }
  }, 120_000);

  it('refuses a job count that is not a whole number from 1', async () => {
    for (const bad of [['--jobs', '0'], ['--jobs', 'two'], ['-j', '-1'], ['--jobs=1.5'], ['--jobs']]) {
      let err = '';
      const code = await main(['bounce', fixtures, ...bad], () => undefined, (s) => (err += s));
      expect(code, bad.join(' ')).toBe(2);
      expect(err).toMatch(/--jobs/);
    }
  });

  it('says so and exits 1, printing nothing, when its threads cannot start', async () => {
    // Run from the TypeScript sources, the compiled worker script beside this module does not exist.
    let out = '';
    let err = '';
    const code = await main(['bounce', fixtures, '--jobs', '2'], (s) => (out += s), (s) => (err += s));
    expect(code).toBe(1);
    expect(out).toBe('');
    expect(err).toMatch(/cannot start 2 parser threads/);
    const pool = new ParsePool(2, pathToFileURL(path.join(tmpdir(), 'no-such-mailroom-worker.js')));
    await expect(pool.ready()).rejects.toThrow();
    await expect(pool.parse(Buffer.from('x'))).resolves.toMatchObject({ results: [], error: expect.any(String) });
    await pool.close();
  });

  it('reports the messages of a thread that dies as errors, and goes on with a new thread', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mailroom-pool-'));
    const script = path.join(dir, 'worker.mjs');
    // A stand-in worker: dies on a message starting with "X", answers the others.
    writeFileSync(script, [
      "import { parentPort } from 'node:worker_threads';",
      'parentPort.on("message", ({ id, data }) => {',
      '  if (data[0] === 88) process.exit(7);',
      '  parentPort.postMessage({ id, report: { results: [{ recipient: Buffer.from(data).toString() }] } });',
      '});',
      'parentPort.postMessage({ ready: true });',
    ].join('\n'));
    const pool = new ParsePool(1, pathToFileURL(script));
    await pool.ready();
    const reports = await Promise.all(['a', 'X', 'b'].map((s) => pool.parse(Buffer.from(s))));
    expect(reports[0]).toEqual({ results: [{ recipient: 'a' }] });
    expect(reports[1]!.error).toMatch(/exited with code 7/);
    // "b" was in flight on the same thread when it died: reported, not lost or hung.
    expect(reports[2]!.error ?? reports[2]!.results[0]).toBeDefined();
    await expect(pool.parse(Buffer.from('c'))).resolves.toEqual({ results: [{ recipient: 'c' }] });
    await pool.close();
  });
});
