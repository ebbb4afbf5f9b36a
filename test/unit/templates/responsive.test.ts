import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HandlebarsRenderer, type HandlebarsTemplateOptions } from '../../../lib/templates/index.js';
import { parseHtml } from '../../support/html-document.js';
import {
  RESPONSIVE_TEMPLATES as RESPONSIVE,
  expectResponsive,
  expectTextWithoutCss,
  newsletterContext,
  offerContext,
} from '../../support/responsive-mail.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function renderer(options: Partial<HandlebarsTemplateOptions> = {}): Promise<HandlebarsRenderer> {
  const made = new HandlebarsRenderer({ dir: RESPONSIVE, ...options });
  await made.init();
  cleanups.push(() => made.close());
  return made;
}

describe('responsive templates: at-rules and non-inlinable rules survive inlining', () => {
  it('keeps them when the stylesheet is inlined at compile time', async () => {
    const made = await renderer();
    expect(made.inlineMode('newsletter')).toEqual({ css: 'compiled', text: 'compiled' });
    const mail = made.render('newsletter', newsletterContext);
    expectResponsive(mail.html!);
    expectTextWithoutCss(mail.text);
    expect(mail.text).toContain('Warm light for long evenings.');
  });

  it('keeps them when the template is inlined on every render', async () => {
    const made = await renderer();
    const mode = made.inlineMode('offer');
    expect(mode.css).toBe('per-render');
    expect(mode.cssFallbackReason).toContain('{{{');
    const mail = made.render('offer', offerContext);
    expectResponsive(mail.html!);
    expectTextWithoutCss(mail.text);
    // HTML from the context is styled too, and keeps its class for the media rules
    const inserted = parseHtml(mail.html!).elements('p').find((p) => p.attribs['class'] === 'btn');
    expect(inserted?.attribs['style']).toContain('background: #2563eb');
  });

  it('keeps a class switched by a block at compile time when only at-rules select it', async () => {
    const made = await renderer();
    expect(made.inlineMode('newsletter').css).toBe('compiled');
    const on = parseHtml(made.render('newsletter', newsletterContext).html!);
    expect(on.withClass('hide-mobile')).toHaveLength(1);
    const off = parseHtml(made.render('newsletter', { ...newsletterContext, promo: '' }).html!);
    expect(off.withClass('hide-mobile')).toHaveLength(0);
    expect(off.withClass('muted')).toHaveLength(1);
  });

  it('drops what cannot be inlined with keepAtRules and removeInlinedSelectors off, on both paths', async () => {
    const made = await renderer({ inlineCss: { keepAtRules: false, removeInlinedSelectors: false } });
    for (const [name, context] of [['newsletter', newsletterContext], ['offer', offerContext]] as const) {
      const doc = parseHtml(made.render(name, context).html!);
      expect(doc.styles()).toEqual([]);
      for (const column of doc.withClass('col')) expect(doc.inlineStyle(column)).toMatchObject({ width: '50%' });
    }
    expect(made.inlineMode('newsletter').css).toBe('compiled');
    expect(made.inlineMode('offer').css).toBe('per-render');
  });

  it('keeps only the at-rules with removeInlinedSelectors off, and only the other rules with keepAtRules off', async () => {
    const atRulesOnly = await renderer({ inlineCss: { removeInlinedSelectors: false } });
    const rulesOnly = await renderer({ inlineCss: { keepAtRules: false } });
    for (const [name, context] of [['newsletter', newsletterContext], ['offer', offerContext]] as const) {
      const atRules = parseHtml(atRulesOnly.render(name, context).html!).styles();
      expect(atRules).toHaveLength(1);
      expect(atRules[0]!.css).toContain('@media (max-width: 600px)');
      expect(atRules[0]!.css).toContain('@import url(');
      expect(atRules[0]!.css).not.toContain(':hover');
      const rules = parseHtml(rulesOnly.render(name, context).html!).styles();
      expect(rules).toHaveLength(1);
      expect(rules[0]!.parent).toBe('head');
      expect(rules[0]!.css).toContain('.btn:hover');
      expect(rules[0]!.css).not.toContain('@');
    }
  });

  it('keeps the style sheet as written with keepStyleTags, and still inlines it', async () => {
    const made = await renderer({ inlineCss: { keepStyleTags: true } });
    for (const [name, context] of [['newsletter', newsletterContext], ['offer', offerContext]] as const) {
      const doc = parseHtml(made.render(name, context).html!);
      const styles = doc.styles();
      expect(styles).toHaveLength(1);
      expect(styles[0]!.css).toContain('.wrapper { width: 600px; margin: 0 auto; }');
      expect(styles[0]!.css.match(/@media \(max-width: 600px\)/g)).toHaveLength(1);
      expect(doc.inlineStyle(doc.withClass('wrapper')[0]!)).toMatchObject({ width: '600px' });
    }
  });
});

describe('responsive templates: where compile-time inlining must step aside', () => {
  async function folderWith(files: Record<string, string>): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'mailroom-responsive-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    for (const [name, source] of Object.entries(files)) await writeFile(join(dir, name), source);
    return dir;
  }

  it('inlines per render when a <style> is inside a block, so its rules apply only when it renders', async () => {
    const dir = await folderWith({
      'alert.hbs':
        '<html><head>{{#if dark}}<style>@media (prefers-color-scheme: dark) { .box { color: #fff !important; } } .box { border: 1px solid red; }</style>{{/if}}</head>' +
        '<body><div class="box">{{message}}</div></body></html>',
    });
    const made = new HandlebarsRenderer({ dir });
    await made.init();
    cleanups.push(() => made.close());
    expect(made.inlineMode('alert')).toMatchObject({ css: 'per-render', cssFallbackReason: expect.stringContaining('<style>') });
    const dark = parseHtml(made.render('alert', { dark: true, message: 'x' }).html!);
    expect(dark.styles().map((style) => style.css).join('')).toContain('prefers-color-scheme: dark');
    expect(dark.inlineStyle(dark.withClass('box')[0]!)).toMatchObject({ border: '1px solid red' });
    const light = parseHtml(made.render('alert', { dark: false, message: 'x' }).html!);
    expect(light.styles()).toEqual([]);
    expect(light.withClass('box')[0]!.attribs['style']).toBeUndefined();
  });

  it('keeps a template compiled when its <style> comes from a partial called with arguments', async () => {
    const dir = await folderWith({
      'card.hbs':
        '<html><head>{{> head title=subject}}</head><body><p class="n">{{text}}</p></body></html>',
    });
    await mkdir(join(dir, 'partials'));
    await writeFile(
      join(dir, 'partials', 'head.hbs'),
      '<title>{{title}}</title><style>.n { color: red; } @media (max-width: 600px) { .n { font-size: 18px !important; } }</style>',
    );
    const made = new HandlebarsRenderer({ dir });
    await made.init();
    cleanups.push(() => made.close());
    expect(made.inlineMode('card').css).toBe('compiled');
    const doc = parseHtml(made.render('card', { subject: 'Hi', text: 'x' }).html!);
    expect(doc.styles().map((style) => style.css.trim())).toEqual(['@media (max-width: 600px) { .n { font-size: 18px !important; } }']);
    expect(doc.inlineStyle(doc.withClass('n')[0]!)).toEqual({ color: 'red' });
    expect(doc.elements('title')[0]!.children).toHaveLength(1);
  });

  it('keeps a template whose only conditional part is outside <head> compiled', async () => {
    const dir = await folderWith({
      'note.hbs':
        '<html><head><style>.n { color: red; } @media (max-width: 600px) { .n { font-size: 18px !important; } }</style></head>' +
        '<body>{{#if show}}<p class="n">{{text}}</p>{{/if}}</body></html>',
    });
    const made = new HandlebarsRenderer({ dir });
    await made.init();
    cleanups.push(() => made.close());
    expect(made.inlineMode('note').css).toBe('compiled');
    for (const show of [true, false]) {
      const doc = parseHtml(made.render('note', { show, text: 'hi' }).html!);
      expect(doc.styles()).toHaveLength(1);
      expect(doc.styles()[0]!.css).toContain('@media (max-width: 600px)');
      expect(doc.withClass('n')).toHaveLength(show ? 1 : 0);
    }
  });
});
