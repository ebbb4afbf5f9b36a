import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import { afterEach, describe, expect, it } from 'vitest';
import {
  MailerConfigurationError,
  TemplateNotFoundError,
  TemplateRenderError,
  TemplateSyntaxError,
} from '../../../lib/errors/mailer.error.js';
import { HandlebarsRenderer, type HandlebarsTemplateOptions } from '../../../lib/templates/index.js';
import { BROKEN, FIXTURES, SHOP, copyFixture, receiptContext, shopHelpers } from './template-fixtures.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function shop(options: Partial<HandlebarsTemplateOptions> = {}): Promise<HandlebarsRenderer> {
  const renderer = new HandlebarsRenderer({ dir: SHOP, helpers: shopHelpers, ...options });
  await renderer.init();
  cleanups.push(() => renderer.close());
  return renderer;
}

async function folderWith(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mailroom-hbs-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  for (const [name, source] of Object.entries(files)) await writeFile(join(dir, name), source);
  return dir;
}

describe('HandlebarsRenderer: templates, layouts, partials', () => {
  it('finds templates below the folder by relative name, and leaves layouts, partials, subjects and text parts out', async () => {
    const renderer = await shop();
    expect(renderer.templateNames()).toEqual(['orders/note', 'orders/receipt', 'orders/status', 'welcome']);
    expect(renderer.has('orders/receipt')).toBe(true);
    expect(renderer.has('layouts/main')).toBe(false);
    expect(renderer.has('line-item')).toBe(false);
    expect(renderer.has('orders/receipt.subject')).toBe(false);
  });

  it('wraps the template in the default layout and expands partials, including nested partial names', async () => {
    const renderer = await shop();
    const { html } = renderer.render('orders/receipt', receiptContext());
    expect(html).toMatch(/^<!DOCTYPE html><html lang="en">/);
    expect(html).toContain('<title>Your receipt</title>');
    expect(html).toContain('Thanks for your order');
    expect(html!.match(/class="line-name"/g)).toHaveLength(3);
    expect(html).toMatch(/<td class="price"[^>]*>\$9\.50<\/td>/);
    expect(html).toContain('Unsubscribe</a>');
    expect(html).toContain('Tom &amp; Jerry · <a href="https://shop.test/unsubscribe?u&#x3D;7"');
  });

  it('lets a render choose another layout or none', async () => {
    const renderer = await shop();
    const plain = renderer.render('welcome', { name: 'Zed', shop: 'S', loginUrl: 'https://s.test' }, { layout: 'plain' }).html!;
    expect(plain).toContain('<div class="plain">');
    expect(plain).not.toContain('class="container"');
    const bare = renderer.render('welcome', { name: 'Zed', shop: 'S', loginUrl: 'https://s.test' }, { layout: false }).html!;
    expect(bare).toContain('Welcome, Zed!');
    expect(bare).not.toContain('class="plain"');
    expect(bare).not.toContain('class="container"');
  });

  it('uses no layout when there is no layouts/main.hbs and none is configured', async () => {
    const dir = await folderWith({ 'hello.hbs': '<p>Hello {{name}}</p>' });
    const renderer = new HandlebarsRenderer({ dir, inlineCss: false });
    await renderer.init();
    expect(renderer.render('hello', { name: 'Ann' }).html).toBe('<p>Hello Ann</p>');
  });

  it('takes inline partials from the options, over the partials folder', async () => {
    const renderer = await shop({ partials: { 'brand/footer': '<p>Custom footer for {{shop}}</p>' } });
    const { html } = renderer.render('orders/receipt', receiptContext());
    expect(html).toContain('Custom footer for Tom &amp; Jerry');
    expect(html).not.toContain('Unsubscribe');
  });

  it('renders the subject without HTML escaping and on one line', async () => {
    const renderer = await shop();
    expect(renderer.render('orders/receipt', receiptContext()).subject).toBe('Your receipt for order #1042 from Tom & Jerry');
    expect(renderer.render('welcome', { name: '<Zed>', shop: 'A & B' }).subject).toBe('Welcome to A & B, <Zed>');
  });

  it('escapes HTML in the body but not in a triple-stash', async () => {
    const renderer = await shop();
    const { html } = renderer.render('orders/receipt', receiptContext());
    expect(html).toContain('Thanks for your order, Ann &lt;Admin&gt;!');
    expect(html).not.toContain('<Admin>');
    const note = renderer.render('orders/note', { orderId: 1, shop: 'S', noteHtml: '<em>fragile</em>' }).html;
    expect(note).toContain('<em>fragile</em>');
  });
});

describe('HandlebarsRenderer: text part', () => {
  it('uses <name>.text.hbs when it exists, without HTML escaping', async () => {
    const renderer = await shop();
    const { text } = renderer.render('welcome', { name: 'Zed', shop: 'Tom & Jerry', loginUrl: 'https://s.test/login?a=1&b=2' });
    expect(text).toBe('Welcome, Zed!\n\nYour account at Tom & Jerry is ready. Sign in: https://s.test/login?a=1&b=2\n');
  });

  it('derives a readable text part from the HTML otherwise', async () => {
    const renderer = await shop();
    const { text } = renderer.render('orders/receipt', receiptContext());
    expect(text).toContain('Thanks for your order, Ann <Admin>!');
    expect(text).toMatch(/^Mug\s+× 2\s+\$9\.50$/m);
    expect(text).toMatch(/^Green tea\s+× 1\s+\$4\.00$/m);
    expect(text).toMatch(/^Total\s+\$29\.75$/m);
    expect(text).toContain('View your order [https://shop.test/orders/1042?ref=mail&lang=en]');
    expect(text).toContain('Coupon SPRING applied.');
    expect(text).not.toContain('logo.png');
    expect(text).not.toMatch(/<[a-z]|&amp;|\{\{/);
    expect(text).not.toMatch(/\n\n\n/);
  });

  it("gives no text for 'template' unless a text template exists, and none at all for false", async () => {
    const onlyTemplates = await shop({ text: 'template' });
    expect(onlyTemplates.render('orders/receipt', receiptContext()).text).toBeUndefined();
    expect(onlyTemplates.render('welcome', { name: 'Z', shop: 'S', loginUrl: 'u' }).text).toContain('Welcome, Z!');
    const none = await shop({ text: false });
    expect(none.render('welcome', { name: 'Z', shop: 'S', loginUrl: 'u' }).text).toBeUndefined();
    expect(none.render('orders/receipt', receiptContext()).text).toBeUndefined();
  });
});

describe('HandlebarsRenderer: CSS inlining switch', () => {
  it('inlines the stylesheet by default and keeps it as is when inlineCss is false', async () => {
    const inlined = (await shop()).render('orders/receipt', receiptContext()).html!;
    expect(inlined).not.toContain('<style>');
    expect(inlined).toMatch(/<h1 style="font-size: 22px;color: #1f2937;">/);
    const kept = (await shop({ inlineCss: false })).render('orders/receipt', receiptContext()).html!;
    expect(kept).toContain('<style>');
    expect(kept).toContain('<h1>Thanks');
  });
});

describe('HandlebarsRenderer: strict mode', () => {
  it('fails a render that prints a missing variable, naming the whole path', async () => {
    const renderer = await shop({ strict: true });
    const context = receiptContext({ customer: {} });
    expect(() => renderer.render('orders/receipt', context)).toThrow(TemplateRenderError);
    expect(() => renderer.render('orders/receipt', context)).toThrow(/missing variable "customer\.name"/);
    const noCustomer = receiptContext();
    delete noCustomer['customer'];
    expect(() => renderer.render('orders/receipt', noCustomer)).toThrow(/missing variable "customer\.name"/);
  });

  it('still lets {{#if}}, {{#each}} and {{#with}} test keys that are absent', async () => {
    const dir = await folderWith({
      'account.hbs':
        '<p>{{name}}{{#if account.vip}} (VIP){{/if}}{{#if coupon}} {{coupon}}{{/if}}</p>' +
        '{{#each orders}}<i>{{id}}{{#if meta.gift}} (gift){{/if}}</i>{{/each}}{{#with address}}<b>{{city}}</b>{{/with}}',
    });
    const renderer = new HandlebarsRenderer({ dir, strict: true, inlineCss: false, text: false });
    await renderer.init();
    expect(renderer.render('account', { name: 'Ann' }).html).toBe('<p>Ann</p>');
    expect(renderer.render('account', { name: 'Ann', account: { vip: true }, orders: [{ id: 1 }, { id: 2, meta: { gift: true } }] }).html).toBe(
      '<p>Ann (VIP)</p><i>1</i><i>2 (gift)</i>',
    );
    expect(() => renderer.render('account', {})).toThrow(/missing variable "name"/);
  });

  it('renders complete contexts in strict mode exactly as without it, expanded partials included', async () => {
    const strict = await shop({ strict: true });
    const lenient = await shop();
    const context = receiptContext({ coupon: undefined });
    delete context['coupon'];
    expect(strict.inlineMode('orders/receipt')).toEqual({ css: 'compiled', text: 'compiled' });
    expect(strict.render('orders/receipt', context)).toEqual(lenient.render('orders/receipt', context));
    const status = { title: 'T', shop: 'S', unsubscribeUrl: 'u', orderId: 5, paid: false, lines: [{ name: 'A', qty: 1, price: 2 }] };
    expect(strict.render('orders/status', status)).toEqual(lenient.render('orders/status', status));
  });

  it('prints nothing for a missing variable when not strict', async () => {
    const renderer = await shop();
    const context = receiptContext({ customer: undefined });
    expect(renderer.render('orders/receipt', context).html).toContain('Thanks for your order, !');
  });

  it('reports a throwing helper as TemplateRenderError with the cause', async () => {
    const boom = new Error('price service down');
    const renderer = await shop({ helpers: { money: () => { throw boom; } } });
    let caught: unknown;
    try {
      renderer.render('orders/receipt', receiptContext());
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(TemplateRenderError);
    expect((caught as TemplateRenderError).code).toBe('MAILER_TEMPLATE_RENDER');
    expect((caught as TemplateRenderError).template).toBe('orders/receipt');
    expect((caught as Error).message).toContain('price service down');
    expect((caught as Error).cause).toBe(boom);
  });
});

describe('HandlebarsRenderer: errors', () => {
  it('throws TemplateNotFoundError synchronously for an unknown template, listing known ones', async () => {
    const renderer = await shop();
    let caught: unknown;
    try {
      renderer.render('orders/invoice', {});
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(TemplateNotFoundError);
    expect((caught as TemplateNotFoundError).code).toBe('MAILER_TEMPLATE_NOT_FOUND');
    expect((caught as TemplateNotFoundError).template).toBe('orders/invoice');
    expect((caught as Error).message).toContain('orders/receipt');
    expect(renderer.has('orders/invoice')).toBe(false);
  });

  it('throws TemplateNotFoundError for an unknown layout', async () => {
    const renderer = await shop();
    expect(() => renderer.render('welcome', {}, { layout: 'fancy' })).toThrow(TemplateNotFoundError);
  });

  it('refuses to start on a folder that does not exist, saying which option to fix', async () => {
    const missing = join(FIXTURES, 'no-such-folder');
    const renderer = new HandlebarsRenderer({ dir: missing });
    const failure = renderer.init();
    await expect(failure).rejects.toBeInstanceOf(MailerConfigurationError);
    await expect(renderer.init()).rejects.toThrow(missing);
    await expect(renderer.init()).rejects.toThrow(/"dir" option/);
    const badLayouts = new HandlebarsRenderer({ dir: SHOP, layoutsDir: join(SHOP, 'layoutz') });
    await expect(badLayouts.init()).rejects.toThrow(/"layoutsDir" option/);
  });

  const NEST_ASSETS = '"compilerOptions": { "assets": [{ "include": "**/*.hbs", "watchAssets": true }] }';

  async function initError(options: HandlebarsTemplateOptions): Promise<Error> {
    try {
      await new HandlebarsRenderer(options).init();
    } catch (error) {
      return error as Error;
    }
    throw new Error('init() succeeded');
  }

  it('names the absolute path, the working directory and the Nest CLI assets setting for a relative folder that is missing', async () => {
    const error = await initError({ dir: 'dist/mail/templates' });
    expect(error).toBeInstanceOf(MailerConfigurationError);
    expect(error.message).toContain(`Template folder ${join(process.cwd(), 'dist/mail/templates')} (the "dir" option) does not exist`);
    expect(error.message).toContain(`resolved against the working directory, ${process.cwd()}`);
    expect(error.message).toContain("join(__dirname, 'templates')");
    expect(error.message).toContain(NEST_ASSETS);
  });

  it('names the Nest CLI assets setting, and no working directory, for an absolute folder that is missing', async () => {
    const missing = join(tmpdir(), 'mailroom-no-such-build', 'dist', 'templates');
    const error = await initError({ dir: missing });
    expect(error).toBeInstanceOf(MailerConfigurationError);
    expect(error.message).toContain(`Template folder ${missing} (the "dir" option) does not exist`);
    expect(error.message).not.toContain('working directory');
    expect(error.message).toContain(NEST_ASSETS);
  });

  it('refuses a folder that exists but holds no template (a build that copied the code and not the .hbs files)', async () => {
    const compiledOnly = await folderWith({ 'index.js': 'export {};', 'index.js.map': '{}' });
    const error = await initError({ dir: compiledOnly });
    expect(error).toBeInstanceOf(MailerConfigurationError);
    expect(error.message).toContain(`Template folder ${compiledOnly} (the "dir" option) holds no template: 2 files, none ending in .hbs.`);
    expect(error.message).toContain(NEST_ASSETS);

    const empty = await folderWith({});
    await expect(new HandlebarsRenderer({ dir: empty }).init()).rejects.toThrow(`Template folder ${empty} (the "dir" option) holds no template: it is empty.`);

    const layoutsOnly = await folderWith({});
    await mkdir(join(layoutsOnly, 'layouts'));
    await writeFile(join(layoutsOnly, 'layouts', 'main.hbs'), '<html>{{{body}}}</html>');
    await expect(new HandlebarsRenderer({ dir: layoutsOnly }).init()).rejects.toThrow(/holds no template: only layouts and partials \(1 \.hbs file\)\./);
  });

  it('refuses a default layout that does not exist', async () => {
    const renderer = new HandlebarsRenderer({ dir: SHOP, helpers: shopHelpers, defaultLayout: 'fancy' });
    await expect(renderer.init()).rejects.toThrow(MailerConfigurationError);
    await expect(renderer.init()).rejects.toThrow(/"fancy"/);
  });

  it('reports a syntax error at start-up with the file and the line', async () => {
    const renderer = new HandlebarsRenderer({ dir: BROKEN });
    let caught: unknown;
    try {
      await renderer.init();
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(TemplateSyntaxError);
    expect((caught as TemplateSyntaxError).file).toBe(join(BROKEN, 'bad', 'unclosed.hbs'));
    expect((caught as Error).message).toMatch(/unclosed\.hbs does not compile: line \d+/);
  });

  it('refuses to render before init()', () => {
    const renderer = new HandlebarsRenderer({ dir: SHOP });
    expect(() => renderer.render('welcome', {})).toThrow(MailerConfigurationError);
  });
});

describe('HandlebarsRenderer: isolation and I/O', () => {
  it('keeps helpers private to each renderer', async () => {
    const dollars = await shop({ helpers: { money: (v: unknown) => `$${String(v)}` } });
    const euros = await shop({ helpers: { money: (v: unknown) => `${String(v)} €` } });
    const context = receiptContext({ total: 5 });
    expect(dollars.render('orders/receipt', context).html).toMatch(/>\$5<\/td>/);
    expect(euros.render('orders/receipt', context).html).toMatch(/>5 €<\/td>/);
    expect(dollars.render('orders/receipt', context).html).not.toContain('€');
    expect(Handlebars.helpers['money']).toBeUndefined();
    expect(Handlebars.partials['line-item']).toBeUndefined();
  });

  it('renders without touching the files once init() is done', async () => {
    const copy = await copyFixture('shop');
    const renderer = new HandlebarsRenderer({ dir: copy.dir, helpers: shopHelpers });
    await renderer.init();
    await copy.remove();
    for (const layout of [undefined, 'plain', false] as const) {
      expect(renderer.render('orders/receipt', receiptContext(), { layout }).html).toContain('Thanks for your order');
    }
    expect(renderer.render('welcome', { name: 'Z', shop: 'S', loginUrl: 'u' }).subject).toBe('Welcome to S, Z');
  });
});
