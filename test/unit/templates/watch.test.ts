import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TemplateSyntaxError } from '../../../lib/errors/mailer.error.js';
import { HandlebarsRenderer } from '../../../lib/templates/index.js';
import { copyFixture, eventually, receiptContext, shopHelpers } from './template-fixtures.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function watched(): Promise<{ dir: string; renderer: HandlebarsRenderer; errors: Error[] }> {
  const copy = await copyFixture('shop');
  const errors: Error[] = [];
  const renderer = new HandlebarsRenderer({
    dir: copy.dir,
    helpers: shopHelpers,
    watch: true,
    watchDebounceMs: 20,
    onError: (error) => errors.push(error),
  });
  await renderer.init();
  cleanups.push(copy.remove, () => renderer.close());
  return { dir: copy.dir, renderer, errors };
}

const welcome = { name: 'Zed', shop: 'S', loginUrl: 'https://s.test' };

describe('watch mode', () => {
  it('picks up a changed template, a changed partial and a new template', async () => {
    const { dir, renderer } = await watched();
    await writeFile(join(dir, 'welcome.hbs'), '<h1>Hello again, {{name}}!</h1>');
    await eventually(() => renderer.render('welcome', welcome).html!.includes('Hello again, Zed!'));

    await writeFile(join(dir, 'partials', 'line-item.hbs'), '<tr><td class="line-name">Item: {{name}}</td></tr>');
    await eventually(() => renderer.render('orders/receipt', receiptContext()).html!.includes('Item: Mug'));
    expect(renderer.inlineMode('orders/receipt').css).toBe('compiled');

    await writeFile(join(dir, 'orders', 'shipped.hbs'), '<p>Order {{orderId}} shipped</p>');
    await eventually(() => renderer.has('orders/shipped'));
    expect(renderer.render('orders/shipped', { orderId: 9 }).html).toContain('Order 9 shipped');
  });

  it('keeps the last good version when a change does not compile, and reports it', async () => {
    const { dir, renderer, errors } = await watched();
    await writeFile(join(dir, 'welcome.hbs'), '<h1>{{#if name}}Broken</h1>');
    await eventually(() => errors.length > 0);
    expect(errors[0]).toBeInstanceOf(TemplateSyntaxError);
    expect(errors[0]!.message).toContain('welcome.hbs');
    expect(renderer.render('welcome', welcome).html).toContain('Welcome, Zed!');

    await writeFile(join(dir, 'welcome.hbs'), '<h1>Fixed, {{name}}</h1>');
    await eventually(() => renderer.render('welcome', welcome).html!.includes('Fixed, Zed'));
  });

  it('tells onReload listeners about each recompile: the error when it failed, nothing when it took over', async () => {
    const { dir, renderer } = await watched();
    const heard: Array<Error | undefined> = [];
    const stop = renderer.onReload((error) => heard.push(error));
    await writeFile(join(dir, 'welcome.hbs'), '<h1>{{#if name}}Broken</h1>');
    await eventually(() => heard.length > 0);
    expect(heard[0]).toBeInstanceOf(TemplateSyntaxError);
    expect((heard[0] as TemplateSyntaxError).file).toBe(join(dir, 'welcome.hbs'));

    await writeFile(join(dir, 'welcome.hbs'), '<h1>Fixed, {{name}}</h1>');
    await eventually(() => heard.length > 1 && heard.at(-1) === undefined);
    expect(renderer.render('welcome', welcome).html).toContain('Fixed, Zed');

    stop();
    const count = heard.length;
    await writeFile(join(dir, 'welcome.hbs'), '<h1>Again, {{name}}</h1>');
    await eventually(() => renderer.render('welcome', welcome).html!.includes('Again, Zed'));
    expect(heard).toHaveLength(count);
  });

  it('stops watching on close()', async () => {
    const { dir, renderer } = await watched();
    await renderer.close();
    await writeFile(join(dir, 'welcome.hbs'), '<h1>Changed after close</h1>');
    await new Promise((done) => setTimeout(done, 300));
    expect(renderer.render('welcome', welcome).html).toContain('Welcome, Zed!');
  });
});
