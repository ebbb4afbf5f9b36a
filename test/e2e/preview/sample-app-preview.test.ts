import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppModule } from '../../../sample-app/src/app.module.js';
import { launchChromium, screenshot } from '../../support/browser.js';

// The sample app's /outbox in Chromium: its receipt previews and a receipt it sends. The
// screenshots double as the README's (docs/images/).

let browser: Browser;
let app: INestApplication;
let base = '';
const saved = process.env.MAILER_URL;

beforeAll(async () => {
  delete process.env.MAILER_URL;
  browser = await launchChromium();
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
  app = moduleRef.createNestApplication({ logger: false });
  await app.listen(0, '127.0.0.1');
  base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
});
afterAll(async () => {
  await browser?.close();
  await app?.close();
  if (saved !== undefined) process.env.MAILER_URL = saved;
});

describe('the sample app\'s outbox in Chromium', () => {
  it('previews the receipt with its sample order, and shows a receipt the app sent', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 760 } });
    await page.goto(`${base}/outbox#/templates/receipt/severalLines`);
    const frame = page.frameLocator('#mail-frame');
    await expect.poll(() => frame.locator('h1').textContent()).toBe('Thanks for your order, Ada Lovelace');
    expect(await frame.locator('img').first().evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth)).toBeGreaterThan(0);
    await screenshot(page, 'sample-app-preview');

    await page.goto(`${base}/outbox#/outbox`);
    await page.locator('#live.on').waitFor();
    const sent = await fetch(`${base}/orders/1002/receipt`, { method: 'POST' });
    expect(sent.status).toBe(202);
    await page.locator('#mail-list li a', { hasText: 'Your receipt for order #1002' }).click();
    await expect.poll(() => frame.locator('h1').textContent()).toBe('Thanks for your order, Grace Hopper');
    await page.locator('[data-tab="attachments"]').click();
    expect(await page.locator('#mail-attachments li a').allTextContents()).toEqual(expect.arrayContaining(['logo.png', 'invoice-1002.pdf']));
    await page.locator('[data-tab="html"]').click();
    await screenshot(page, 'sample-app-outbox');
    await page.close();
  });
});
