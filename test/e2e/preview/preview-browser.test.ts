import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, screenshot } from '../../support/browser.js';
import { startPreviewApp, type PreviewApp } from '../../support/preview-app.js';

// The preview UI driven in a real Chromium: what a developer sees and clicks. Screenshots are left
// in .tmp/screenshots/.

let browser: Browser;
let context: BrowserContext;
let shared: PreviewApp;
const pages: Page[] = [];
const cleanup: Array<() => Promise<void>> = [];

beforeAll(async () => {
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  shared = await startPreviewApp();
});
afterAll(async () => {
  await browser?.close();
  await shared?.close();
});
afterEach(async () => {
  for (const page of pages.splice(0)) await page.close();
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function open(url: string): Promise<Page> {
  const page = await context.newPage();
  pages.push(page);
  await page.goto(url);
  return page;
}

/** What the functions run in the browser use of it (the project's types have no DOM). */
interface InBrowser {
  getComputedStyle(node: unknown): { paddingTop: string };
  document: { readyState: string };
  pwned?: unknown;
}

/** The width of an image that has loaded, 0 for one that has not (run in the page). */
function LOADED_WIDTH(img: unknown): number {
  const image = img as { complete: boolean; naturalWidth: number };
  return image.complete ? image.naturalWidth : 0;
}

const receipt = (preview: string): string => `#/templates/orders%2Freceipt/${preview}`;

describe('the preview UI in Chromium', () => {
  it('lists every template with the previews of its @MailPreview class, and the previews that name no template', async () => {
    const page = await open(shared.url);
    const receiptPreviews = page.locator('#template-list li[data-template="orders/receipt"] a');
    await expect.poll(() => receiptPreviews.allTextContents()).toEqual(['twoItems', 'refunded', 'broken']);
    expect(await page.locator('#template-list li[data-template="welcome"] a').allTextContents()).toEqual(['empty context']);
    expect(await page.locator('#orphans').textContent()).toContain('OrphanPreviews.sample() previews "orders/missing"');
    await screenshot(page, 'preview-templates');
  });

  it('renders a preview\'s HTML in the iframe, with its inline image, subject and render time', async () => {
    const page = await open(shared.url);
    await page.locator('#template-list a', { hasText: 'twoItems' }).click();
    const frame = page.frameLocator('#mail-frame');
    await expect.poll(() => frame.locator('#greeting').textContent()).toBe('Thank you, Ada!');
    expect(await frame.locator('td.item').allTextContents()).toEqual(['Lamp', 'Bulb']);
    // The cid: logo, served as a data: URL the frame's policy allows, has loaded.
    expect(await frame.locator('img[alt="logo"]').evaluate(LOADED_WIDTH)).toBe(1);
    expect(await page.locator('#mail-subject').textContent()).toBe('Receipt for order #A-1');
    expect(await page.locator('#render-time').textContent()).toMatch(/^Rendered in \d+\.\d\d ms$/);
    await screenshot(page, 'preview-html');
  });

  it('shows the text part, the source, the headers and the attachments in their tabs', async () => {
    const page = await open(shared.url + receipt('twoItems'));
    await page.frameLocator('#mail-frame').locator('#greeting').waitFor();

    await page.locator('[data-tab="text"]').click();
    const text = page.locator('#mail-text');
    await text.waitFor();
    expect(await text.textContent()).toMatch(/Thank you, Ada!\s+Lamp\s+1\s+Bulb\s+2\s+Total: €12\.00/);
    expect(await page.locator('#mail-frame').isVisible()).toBe(false);

    await page.locator('[data-tab="source"]').click();
    await expect.poll(() => page.locator('#mail-source').textContent()).toContain('MIME-Version: 1.0');
    const parsed = await simpleParser(Buffer.from((await page.locator('#mail-source').textContent())!));
    expect(parsed.subject).toBe('Receipt for order #A-1');
    expect(parsed.attachments.map((a) => a.cid)).toEqual(['logo@preview.test']);

    await page.locator('[data-tab="headers"]').click();
    expect(await page.locator('#mail-headers th').allTextContents()).toEqual(expect.arrayContaining(['From', 'To', 'Subject', 'Message-ID', 'Date']));

    await page.locator('[data-tab="attachments"]').click();
    expect(await page.locator('#mail-attachments li').allTextContents()).toEqual([expect.stringContaining('logo.png')]);
    expect(await page.locator('#mail-attachments img').evaluate(LOADED_WIDTH)).toBe(1);
    await screenshot(page, 'preview-attachments');
  });

  it('narrows the frame to a phone\'s width, where the mail\'s media queries apply', async () => {
    const page = await open(shared.url + receipt('twoItems'));
    const card = page.frameLocator('#mail-frame').locator('.card');
    await card.waitFor();
    const padding = (): Promise<string> => card.evaluate((node) => (globalThis as unknown as InBrowser).getComputedStyle(node).paddingTop);
    const frameWidth = (): Promise<number> => page.locator('#mail-frame').evaluate((node) => (node as unknown as { getBoundingClientRect(): { width: number } }).getBoundingClientRect().width);
    expect(await padding()).toBe('16px');
    expect(await frameWidth()).toBeGreaterThan(800);

    await page.locator('[data-width="mobile"]').click();
    await expect.poll(frameWidth).toBe(375);
    await expect.poll(padding).toBe('4px');
    await screenshot(page, 'preview-mobile');

    await page.locator('[data-width="desktop"]').click();
    await expect.poll(padding).toBe('16px');
  });

  it('shows the error of a preview method that throws', async () => {
    const page = await open(shared.url + receipt('broken'));
    const error = page.locator('#render-error');
    await error.waitFor();
    expect(await page.locator('#render-error-title').textContent()).toBe('The preview method threw');
    expect(await page.locator('#render-error-where').textContent()).toBe('ReceiptPreviews.broken()');
    expect(await page.locator('#render-error-message').textContent()).toBe('the sample order could not be loaded');
    expect(await page.locator('#mail').isVisible()).toBe(false);
  });

  it('shows a mail in the outbox as the application sends it, without a reload', async () => {
    const page = await open(`${shared.url}#/outbox`);
    await page.locator('#live.on').waitFor();
    const before = await page.locator('#mail-list li').count();
    await shared.mailer.send({
      to: 'Ada <ada@example.org>',
      template: 'orders/receipt',
      context: { shop: 'Lumen', customer: { name: 'Live Ada' }, order: { id: 'L-9', total: '€1.00', items: [{ name: 'Fuse', qty: 4 }] } },
    });
    const item = page.locator('#mail-list li').first();
    await expect.poll(() => item.locator('.subject').textContent()).toBe('Receipt for order #L-9');
    expect(await page.locator('#mail-list li').count()).toBe(before + 1);
    expect(await page.locator('#outbox-count').textContent()).toBe(String(before + 1));
    await item.locator('a').click();
    await expect.poll(() => page.frameLocator('#mail-frame').locator('#greeting').textContent()).toBe('Thank you, Live Ada!');
    expect(await page.locator('#summary').textContent()).toContain('Ada <ada@example.org>');
    await screenshot(page, 'preview-outbox');
  });

  it('runs no script of a mail and loads nothing from elsewhere', async () => {
    let fetched = 0;
    const elsewhere: Server = createServer((_req, res) => {
      fetched++;
      res.end('');
    });
    await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
    cleanup.push(() => new Promise((resolve) => {
      elsewhere.closeAllConnections();
      elsewhere.close(() => resolve());
    }));
    const remote = `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}`;

    const page = await open(`${shared.url}#/outbox`);
    await page.locator('#live.on').waitFor();
    await shared.mailer.send({
      to: 'eve@example.org',
      subject: 'Hostile',
      html: `<html><head><link rel="stylesheet" href="${remote}/style.css"><meta http-equiv="refresh" content="0;url=${remote}/refresh"></head>`
        + `<body><p id="hostile">Hello</p>`
        + `<script>document.body.setAttribute('data-ran', 'script'); try { parent.pwned = true; } catch (e) {} fetch('${remote}/script');</script>`
        + `<img src="data:image/png;base64,AAAA" onerror="document.body.setAttribute('data-ran', 'onerror'); try { parent.pwned = true; } catch (e) {}">`
        + `<img src="${remote}/pixel.png"><iframe src="${remote}/frame"></iframe><form action="${remote}/form"><button>x</button></form>`
        + `<svg onload="document.body.setAttribute('data-ran', 'svg')"></svg></body></html>`,
    });
    await page.locator('#mail-list li', { hasText: 'Hostile' }).locator('a').click();
    const body = page.frameLocator('#mail-frame').locator('body');
    await page.frameLocator('#mail-frame').locator('#hostile').waitFor();
    // Scripts and handlers that could run have run once the document and its images have loaded.
    await expect.poll(() => body.evaluate(() => (globalThis as unknown as InBrowser).document.readyState)).toBe('complete');
    expect(await body.getAttribute('data-ran')).toBeNull();
    expect(await page.evaluate(() => (globalThis as unknown as InBrowser).pwned)).toBeUndefined();
    expect(await page.locator('#mail-frame').getAttribute('sandbox')).toBe('');
    expect(fetched).toBe(0);
  });

  it('shows a template that no longer compiles with its file and line, and reloads when it is fixed', async () => {
    const watched = await startPreviewApp({ copyTemplates: true });
    cleanup.push(() => watched.close());
    const page = await open(`${watched.url}#/templates/welcome`);
    const frame = page.frameLocator('#mail-frame');
    await expect.poll(() => frame.locator('#welcome').textContent()).toBe('Welcome, !');

    await writeFile(join(watched.templates, 'welcome.hbs'), '<p id="welcome">\n{{#if name}}Welcome back</p>\n');
    const error = page.locator('#template-error');
    await error.waitFor();
    expect(await page.locator('#template-error-file').textContent()).toBe('welcome.hbs');
    expect(await page.locator('#template-error-line').textContent()).toMatch(/^, line \d+$/);
    expect(await page.locator('#template-error-message').textContent()).toContain('welcome.hbs does not compile');
    await screenshot(page, 'preview-template-error');

    await writeFile(join(watched.templates, 'welcome.hbs'), '<p id="welcome">Hello again, {{name}}!</p>\n');
    await expect.poll(() => frame.locator('#welcome').textContent()).toBe('Hello again, !');
    expect(await error.isVisible()).toBe(false);
  });
});
