import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURES = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../fixtures/templates');
export const SHOP = join(FIXTURES, 'shop');
export const BROKEN = join(FIXTURES, 'broken');

export const shopHelpers = {
  money: (value: unknown) => `$${Number(value).toFixed(2)}`,
};

export function receiptContext(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    title: 'Your receipt',
    shop: 'Tom & Jerry',
    customer: { name: 'Ann <Admin>' },
    orderId: 1042,
    paid: true,
    items: [
      { name: 'Mug', qty: 2, price: 9.5 },
      { name: 'Green tea', qty: 1, price: 4 },
      { name: 'Cake', qty: 3, price: 2.25 },
    ],
    total: 29.75,
    coupon: 'SPRING',
    orderUrl: 'https://shop.test/orders/1042?ref=mail&lang=en',
    unsubscribeUrl: 'https://shop.test/unsubscribe?u=7',
    ...overrides,
  };
}

/** A copy of a fixture folder the test may change. */
export async function copyFixture(name: string): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'mailroom-templates-'));
  await cp(join(FIXTURES, name), dir, { recursive: true });
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Polls until `check` returns true or the timeout passes. */
export async function eventually(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((done) => setTimeout(done, 20));
  }
}
