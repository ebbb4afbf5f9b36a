import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MailerConfigurationError } from '../../../lib/errors/mailer.error.js';
import { HandlebarsRenderer } from '../../../lib/templates/index.js';

/**
 * css-inline fetches stylesheets synchronously, blocking this thread's event loop, so the HTTP
 * server runs in a worker thread of its own. It counts requests in shared memory.
 */
const SERVER = `
const { createServer } = require('node:http');
const { parentPort, workerData } = require('node:worker_threads');
const counter = new Int32Array(workerData);
const server = createServer((req, res) => {
  Atomics.add(counter, 0, 1);
  res.writeHead(200, { 'content-type': 'text/css' });
  res.end('.remote { color: #ff0000; }');
});
server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));
parentPort.on('message', () => server.close(() => process.exit(0)));
`;

describe('remote stylesheets', () => {
  const shared = new SharedArrayBuffer(4);
  const requests = new Int32Array(shared);
  let worker: Worker;
  let dir: string;

  beforeAll(async () => {
    worker = new Worker(SERVER, { eval: true, workerData: shared });
    const port = await new Promise<number>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    dir = await mkdtemp(join(tmpdir(), 'mailroom-remote-css-'));
    await writeFile(
      join(dir, 'linked.hbs'),
      `<html><head><link rel="stylesheet" href="http://127.0.0.1:${port}/x.css"></head>` +
        '<body><p class="remote">Hello {{name}}</p></body></html>',
    );
  });

  afterAll(async () => {
    worker.postMessage('stop');
    await new Promise((resolve) => worker.once('exit', resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it('are not fetched by default', async () => {
    Atomics.store(requests, 0, 0);
    const renderer = new HandlebarsRenderer({ dir });
    await renderer.init();
    const { html } = renderer.render('linked', { name: 'Ann' });
    renderer.render('linked', { name: 'Bob' });
    expect(html).toContain('<p class="remote">Hello Ann</p>');
    expect(html).not.toContain('#ff0000');
    expect(Atomics.load(requests, 0)).toBe(0);
  });

  it('are fetched, once, when loadRemoteStylesheets is true', async () => {
    Atomics.store(requests, 0, 0);
    const renderer = new HandlebarsRenderer({ dir, inlineCss: { loadRemoteStylesheets: true } });
    await renderer.init();
    expect(Atomics.load(requests, 0)).toBe(1);
    expect(renderer.inlineMode('linked').css).toBe('compiled');
    const first = renderer.render('linked', { name: 'Ann' }).html;
    const second = renderer.render('linked', { name: 'Bob' }).html;
    expect(first).toContain('<p class="remote" style="color: #ff0000;">Hello Ann</p>');
    expect(second).toContain('<p class="remote" style="color: #ff0000;">Hello Bob</p>');
    expect(Atomics.load(requests, 0)).toBe(1);
  });

  it('that cannot be loaded stop start-up with a configuration error', async () => {
    const broken = await mkdtemp(join(tmpdir(), 'mailroom-remote-css-'));
    try {
      await writeFile(join(broken, 'linked.hbs'), '<link rel="stylesheet" href="http://127.0.0.1:9/missing.css"><p>Hi</p>');
      const renderer = new HandlebarsRenderer({ dir: broken, inlineCss: { loadRemoteStylesheets: true } });
      await expect(renderer.init()).rejects.toBeInstanceOf(MailerConfigurationError);
      await expect(renderer.init()).rejects.toThrow('http://127.0.0.1:9/missing.css');
    } finally {
      await rm(broken, { recursive: true, force: true });
    }
  });
});
