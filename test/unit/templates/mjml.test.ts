import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MailerConfigurationError, TemplateRenderError, TemplateSyntaxError } from '../../../lib/errors/mailer.error.js';
import { HandlebarsRenderer, type HandlebarsTemplateOptions } from '../../../lib/templates/index.js';
import { loadMjml } from '../../../lib/templates/mjml.compile.js';
import { parseHtml } from '../../support/html-document.js';
import { eventually } from './template-fixtures.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function folderWith(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mailroom-mjml-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  for (const [name, source] of Object.entries(files)) {
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), source);
  }
  return dir;
}

async function renderer(files: Record<string, string>, options: Partial<HandlebarsTemplateOptions> = {}): Promise<HandlebarsRenderer> {
  const made = new HandlebarsRenderer({ dir: await folderWith(files), ...options });
  await made.init();
  cleanups.push(() => made.close());
  return made;
}

async function initError(files: Record<string, string>, options: Partial<HandlebarsTemplateOptions> = {}): Promise<Error> {
  const dir = await folderWith(files);
  const made = new HandlebarsRenderer({ dir, ...options });
  const error = await made.init().then(() => undefined, (e: unknown) => e as Error);
  expect(error, 'init() should have failed').toBeDefined();
  return error!;
}

/** The text of an element as a reader sees it: no comments (MJML writes Outlook's in them), spaces collapsed. */
function textOf(node: { type?: string; children?: unknown[]; data?: unknown }): string {
  const walk = (n: { type?: string; children?: unknown[]; data?: unknown }): string =>
    n.type === 'comment' ? '' : typeof n.data === 'string' ? n.data : (n.children ?? []).map((c) => walk(c as typeof n)).join('');
  return walk(node).replace(/\s+/g, ' ').trim();
}

const ORDER = `<mjml lang="{{@locale}}" dir="{{@dir}}">
  <mj-head>
    <mj-title>Order {{order.id}}</mj-title>
    <mj-attributes><mj-text font-size="15px" /></mj-attributes>
  </mj-head>
  <mj-body>
    {{!-- shared with every MJML mail --}}
    <mj-include path="./shared/header.mjml" />
    <mj-section>
      <mj-column>
        <mj-text css-class="greeting">Hello {{customer.name}}, your total is {{currency order.total "EUR"}}.</mj-text>
        <mj-table css-class="lines">
          {{#each order.lines}}
          <tr class="line"><td>{{name}}</td><td>{{qty}}</td></tr>
          {{/each}}
        </mj-table>
        <mj-button href="{{order.url}}">View your order</mj-button>
        {{#if coupon}}
        <mj-text css-class="coupon">Your coupon: {{coupon}}</mj-text>
        {{/if}}
      </mj-column>
    </mj-section>
    {{#each promos}}
    <mj-section css-class="promo"><mj-column><mj-text>{{title}}</mj-text></mj-column></mj-section>
    {{/each}}
  </mj-body>
</mjml>
`;

const FILES = {
  'order.mjml.hbs': ORDER,
  'order.subject.hbs': 'Order {{order.id}}',
  'shared/header.mjml': '<mj-section css-class="header"><mj-column><mj-text>Lumen &amp; Co</mj-text></mj-column></mj-section>',
  'layouts/main.hbs': '<html><body class="html-layout">{{{body}}}</body></html>',
};

const context = (overrides: Record<string, unknown> = {}) => ({
  customer: { name: 'Zoé <Z>' },
  order: { id: 'A-7', total: 12.5, url: 'https://shop.test/orders/A-7?tab=1&x=2', lines: [{ name: 'Lamp', qty: 1 }, { name: 'Bulb', qty: 3 }] },
  coupon: 'SAVE10',
  promos: [{ title: 'Lamps -20%' }, { title: 'Free shipping' }],
  ...overrides,
});

describe('MJML templates', () => {
  it('are compiled to responsive HTML at start-up and rendered with their Handlebars kept: blocks in mj-table, around mj-text and sections, attribute values', async () => {
    const r = await renderer(FILES);
    expect(r.templateNames()).toEqual(['order']);
    const mail = r.render('order', context());
    const doc = parseHtml(mail.html!);

    expect(mail.subject).toBe('Order A-7');
    expect(mail.html).toMatch(/^<!doctype html>/i);
    expect(doc.elements('title').map(textOf)).toEqual(['Order A-7']);
    expect(doc.styles().some((s) => s.css.includes('@media only screen and (min-width:480px)'))).toBe(true);
    expect(doc.withClass('header').map(textOf).join('')).toContain('Lumen & Co');
    expect(doc.withClass('greeting').map(textOf).join('')).toContain('Hello Zoé <Z>, your total is €12.50.');
    expect(mail.html).toContain('Zoé &lt;Z&gt;');
    expect(doc.elements('tr').filter((tr) => tr.attribs.class === 'line').map(textOf)).toEqual(['Lamp1', 'Bulb3']);
    expect(doc.elements('tr').filter((tr) => tr.attribs.class === 'line').map((tr) => tr.children.length)).toEqual([2, 2]);
    expect(doc.elements('a').find((a) => textOf(a).includes('View your order'))?.attribs.href).toBe('https://shop.test/orders/A-7?tab=1&x=2');
    expect(doc.withClass('coupon').map(textOf).join('')).toContain('Your coupon: SAVE10');
    expect(doc.withClass('promo').map(textOf)).toEqual(['Lamps -20%', 'Free shipping']);
    // an MJML template is a whole document: the HTML layout is not put around it
    expect(mail.html).not.toContain('html-layout');

    const bare = parseHtml(r.render('order', context({ coupon: undefined, promos: [], order: { ...context().order as object, lines: [] } })).html!);
    expect(bare.withClass('coupon')).toHaveLength(0);
    expect(bare.withClass('promo')).toHaveLength(0);
    expect(bare.elements('tr').filter((tr) => tr.attribs.class === 'line')).toHaveLength(0);
  });

  it('get a text part derived once from the HTML, and no CSS inlining of their own', async () => {
    const r = await renderer(FILES);
    expect(r.inlineMode('order')).toEqual({ css: 'off', text: 'compiled' });
    const text = r.render('order', context()).text!;
    expect(text).toContain('Hello Zoé <Z>, your total is €12.50.');
    expect(text).toContain('Lamp  1');
    expect(text).toContain('View your order [https://shop.test/orders/A-7?tab=1&x=2]');
  });

  it('are localized like any template, with lang and dir on the document', async () => {
    const r = await renderer({
      ...FILES,
      'order.ar.mjml.hbs': '<mjml lang="{{@locale}}" dir="{{@dir}}"><mj-body><mj-section><mj-column><mj-text css-class="greeting">مرحبا {{customer.name}}، المجموع {{currency order.total "EUR"}}</mj-text></mj-column></mj-section></mj-body></mjml>',
    });
    const arabic = parseHtml(r.render('order', context({ customer: { name: 'ليلى' } }), { locale: 'ar-EG' }).html!);
    expect(arabic.elements('html')[0]!.attribs).toMatchObject({ lang: 'ar-EG', dir: 'rtl' });
    expect(arabic.withClass('greeting').map(textOf).join('')).toContain(`مرحبا ليلى، المجموع ${new Intl.NumberFormat('ar-EG', { style: 'currency', currency: 'EUR' }).format(12.5)}`.replace(/\s+/g, ' '));
    const french = parseHtml(r.render('order', context(), { locale: 'fr' }).html!);
    expect(french.elements('html')[0]!.attribs).toMatchObject({ lang: 'fr', dir: 'ltr' });
    expect(french.withClass('greeting').map(textOf).join('')).toContain('12,50');
    expect(r.locales('order')).toEqual(['ar']);
  });

  it('stop start-up on an MJML validation error, with the file and line', async () => {
    const source = '<mjml>\n  <mj-body>\n    <mj-section>\n      <mj-column>\n        <mj-text padding="wide">{{greeting}}</mj-text>\n      </mj-column>\n    </mj-section>\n  </mj-body>\n</mjml>\n';
    const error = await initError({ 'welcome.mjml.hbs': source });
    expect(error).toBeInstanceOf(TemplateSyntaxError);
    expect((error as TemplateSyntaxError).file).toMatch(/welcome\.mjml\.hbs$/);
    expect(error.message).toMatch(/welcome\.mjml\.hbs does not compile: line 5: Attribute padding has invalid value: wide/);
  });

  it('count lines as written, past multi-line Handlebars, and name an unknown element', async () => {
    const source = '<mjml>\n<mj-body>\n{{#each\n  items}}\n<mj-section><mj-colum><mj-text>{{this}}</mj-text></mj-colum></mj-section>\n{{/each}}\n</mj-body>\n</mjml>';
    const error = await initError({ 'list.mjml.hbs': source });
    expect(error).toBeInstanceOf(TemplateSyntaxError);
    expect(error.message).toMatch(/line 5: Element mj-colum doesn't exist or is not registered/);
  });

  it('say when a value MJML checks comes from the context', async () => {
    const source = '<mjml><mj-body><mj-section background-color="{{brand.color}}"><mj-column><mj-text>x</mj-text></mj-column></mj-section></mj-body></mjml>';
    const error = await initError({ 'brand.mjml.hbs': source });
    expect(error.message).toMatch(/line 1: Attribute background-color has invalid value: \{\{brand\.color\}\}.*cannot come from the context/);
  });

  it('refuse Handlebars where an attribute name goes', async () => {
    const source = '<mjml><mj-body><mj-section>\n<mj-column><mj-text {{#if big}}font-size="20px"{{/if}}>x</mj-text></mj-column></mj-section></mj-body></mjml>';
    const error = await initError({ 'big.mjml.hbs': source });
    expect(error).toBeInstanceOf(TemplateSyntaxError);
    expect(error.message).toMatch(/line 2: \{\{#if big\}\} stands where an attribute name of <mj-text> goes/);
  });

  it('render nothing wrong with soft validation: the error is not reported', async () => {
    const r = await renderer({ 'soft.mjml.hbs': '<mjml><mj-body><mj-section><mj-column><mj-text padding="wide">{{x}}</mj-text></mj-column></mj-section></mj-body></mjml>' }, { mjml: { validationLevel: 'soft' } });
    expect(r.render('soft', { x: 'kept' }).html).toContain('kept');
  });

  it('refuse a layout asked for explicitly, and fail a strict render on a missing value like any template', async () => {
    const r = await renderer(FILES, { strict: true });
    expect(() => r.render('order', context(), { layout: 'main' })).toThrow(/MJML template, a whole document that takes no layout/);
    expect(() => r.render('order', context({ customer: {} }))).toThrow(TemplateRenderError);
    expect(() => r.render('order', context({ customer: {} }))).toThrow(/missing variable "customer\.name"/);
  });

  it('may not sit next to a .hbs HTML part of the same name', async () => {
    const error = await initError({ 'x.hbs': '<p>x</p>', 'x.mjml.hbs': '<mjml><mj-body></mj-body></mjml>' });
    expect(error).toBeInstanceOf(MailerConfigurationError);
    expect(error.message).toMatch(/are both the HTML of "x"/);
  });

  it('refuse unknown mjml options at construction', () => {
    expect(() => new HandlebarsRenderer({ dir: '.', mjml: { validation: 'strict' } as never })).toThrow(/templates: mjml: unknown option "validation"/);
    expect(() => new HandlebarsRenderer({ dir: '.', mjml: { validationLevel: 'lenient' as never } })).toThrow(/validationLevel must be 'strict', 'soft' or 'skip'/);
  });

  it('name the install command when the mjml package is missing', async () => {
    const error = await loadMjml(['/t/welcome.mjml.hbs'], 'nestjs-mailroom-absent-mjml').then(() => undefined, (e: unknown) => e as Error);
    expect(error).toBeInstanceOf(MailerConfigurationError);
    expect(error!.message).toBe('MJML templates (/t/welcome.mjml.hbs) need the mjml package: run `npm install mjml`.');
  });

  it('in watch mode, pick up a changed included file, and report an MJML error with its line while the last good version stays', async () => {
    const dir = await folderWith(FILES);
    const heard: Array<Error | undefined> = [];
    const r = new HandlebarsRenderer({ dir, watch: true, watchDebounceMs: 20, onError: () => undefined });
    await r.init();
    cleanups.push(() => r.close());
    r.onReload((error) => heard.push(error));

    await writeFile(join(dir, 'shared/header.mjml'), '<mj-section css-class="header"><mj-column><mj-text>Lumen &amp; Sons</mj-text></mj-column></mj-section>');
    await eventually(() => r.render('order', context()).html!.includes('Lumen &amp; Sons'));

    await writeFile(join(dir, 'order.mjml.hbs'), ORDER.replace('<mj-button href', '<mj-button padding="lots" href'));
    await eventually(() => heard.some((error) => error !== undefined));
    const error = heard.find((e) => e !== undefined)!;
    expect(error).toBeInstanceOf(TemplateSyntaxError);
    expect(error.message).toMatch(/order\.mjml\.hbs does not compile: line 17: Attribute padding has invalid value: lots/);
    expect(r.render('order', context()).html).toContain('View your order');
  });
});
