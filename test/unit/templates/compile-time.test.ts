import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inline } from '@css-inline/css-inline';
import { beforeAll, describe, expect, it } from 'vitest';
import { inlineAtCompileTime, textAtCompileTime } from '../../../lib/templates/compile-time.js';
import { createCssInliner } from '../../../lib/templates/css-inliner.js';
import { createTextConverter, tidyText } from '../../../lib/templates/html-to-text.js';
import { HandlebarsRenderer, type HandlebarsTemplateOptions } from '../../../lib/templates/index.js';
import { FIXTURES, SHOP, receiptContext, shopHelpers } from './template-fixtures.js';

/**
 * The reference every compile-time shortcut is held to: render the template, inline the
 * stylesheet into the rendered HTML, convert that HTML to text.
 */
class NaivePipeline {
  private readonly raw: HandlebarsRenderer;
  private readonly convert = createTextConverter();
  private readonly inline = createCssInliner();

  constructor(options: HandlebarsTemplateOptions) {
    this.raw = new HandlebarsRenderer({ ...options, inlineCss: false, text: false });
  }

  init(): Promise<void> {
    return this.raw.init();
  }

  render(name: string, context: Record<string, unknown>, layout?: string | false): { html: string; text: string } {
    const html = this.inline(this.raw.render(name, context, { layout }).html!);
    return { html, text: tidyText(this.convert(html)) };
  }

  rawHtml(name: string, context: Record<string, unknown>, layout?: string | false): string {
    return this.raw.render(name, context, { layout }).html!;
  }
}

/**
 * Parses and serializes again, so both sides are compared as documents, whitespace aside. An
 * empty `<tbody></tbody>` is dropped: compile-time inlining writes out the `<tbody>` the parser
 * would imply, which stays (invisibly) when a block renders no rows.
 */
function canonical(html: string): string {
  return inline(html, { loadRemoteStylesheets: false })
    .replace(/>\s+</g, '><')
    .replace(/\s+/g, ' ')
    .replace(/<tbody><\/tbody>/g, '')
    .trim();
}

/**
 * The kept `<style>`, one rule or group of at-rules per line. Compile-time inlining may keep
 * fewer rules than inlining one rendered mail: a rule for an element inside `{{#each}}` is
 * inlined (and so left out of the `<style>`) even when this render has no rows, while inlining
 * the rendered mail keeps a rule that matched nothing. The at-rules are the same either way.
 */
function keptCss(html: string): { rules: string[]; atRules: string[] } {
  const styles = [...html.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => m[1]!);
  expect(styles.length).toBeLessThanOrEqual(1);
  const lines = (styles[0] ?? '').split('\n').map((line) => line.trim()).filter(Boolean);
  return { rules: lines.filter((line) => !line.startsWith('@')), atRules: lines.filter((line) => line.startsWith('@')) };
}

function expectSameKeptCss(got: string, want: string): void {
  const [g, w] = [keptCss(got), keptCss(want)];
  expect(g.atRules).toEqual(w.atRules);
  for (const rule of g.rules) expect(w.rules).toContain(rule);
}

/** The rows of the first `<table class="items">`, as the parser sees them. */
function itemRows(html: string): string[] {
  const table = /<table class="items"[^>]*>([\s\S]*?)<\/table>/.exec(canonical(html))?.[1] ?? '';
  return [...table.matchAll(/<tr[\s>][\s\S]*?<\/tr>/g)].map((m) => m[0]);
}

const contexts: Array<[string, Record<string, unknown>]> = [
  ['paid, three items, coupon', receiptContext()],
  ['unpaid, no items, no coupon, hostile values', receiptContext({
    paid: false,
    items: [],
    coupon: undefined,
    customer: { name: '</td></tr></table><b>"quoted" & \'single\'' },
    orderUrl: 'javascript:alert("x")',
    shop: '<script>alert(1)</script>',
  })],
  ['one item, empty URLs', receiptContext({ items: [{ name: 'Solo', qty: 1, price: 1 }], orderUrl: '', unsubscribeUrl: '' })],
];

describe('compile-time inlining and text, against render → inline → html-to-text', () => {
  let fast: HandlebarsRenderer;
  let naive: NaivePipeline;

  beforeAll(async () => {
    fast = new HandlebarsRenderer({ dir: SHOP, helpers: shopHelpers });
    naive = new NaivePipeline({ dir: SHOP, helpers: shopHelpers });
    await Promise.all([fast.init(), naive.init()]);
  });

  it('does the receipt (layout <style>, partials, each in a table, attribute mustaches) entirely at compile time', () => {
    for (const layout of [undefined, 'plain', false] as const) {
      expect(fast.inlineMode('orders/receipt', { layout })).toEqual({ css: 'compiled', text: 'compiled' });
    }
  });

  for (const layout of [undefined, 'plain', false] as const) {
    for (const [label, context] of contexts) {
      it(`receipt with layout ${String(layout)}, ${label}: same HTML and text as the naive pipeline`, () => {
        const got = fast.render('orders/receipt', context, { layout });
        const want = naive.render('orders/receipt', context, layout);
        expect(canonical(got.html!)).toBe(canonical(want.html));
        expectSameKeptCss(got.html!, want.html);
        expect(got.text).toBe(want.text);
      });
    }
  }

  it('would notice if the stylesheet were not inlined', () => {
    const context = receiptContext();
    const html = fast.render('orders/receipt', context).html!;
    expect(canonical(naive.rawHtml('orders/receipt', context))).not.toBe(canonical(naive.render('orders/receipt', context).html));
    // a rule from the layout applied to an element that comes from a partial
    expect(html).toMatch(/<td class="line-name" style="font-weight: bold;padding: 6px 0;border-bottom: 1px solid #e5e7eb;">Mug<\/td>/);
    // a descendant rule of the layout applied to the template's own table
    expect(html).toMatch(/<tr class="total">\s*<td colspan="2" style="[^"]*font-size: 16px;font-weight: bold;/);
    expect(html).not.toContain('<style');
  });

  it('keeps every repeated row inside its table (nothing foster-parented out of <table>)', () => {
    const rows = itemRows(fast.render('orders/receipt', receiptContext()).html!);
    expect(rows).toHaveLength(4);
    expect(rows.slice(0, 3).map((row) => /class="line-name"[^>]*>([^<]*)</.exec(row)?.[1])).toEqual(['Mug', 'Green tea', 'Cake']);
    expect(rows[3]).toContain('class="total"');
    expect(itemRows(fast.render('orders/receipt', receiptContext({ items: [] })).html!)).toHaveLength(1);
  });

  it('keeps mustaches in attributes working', () => {
    const paid = canonical(fast.render('orders/receipt', receiptContext()).html!);
    expect(paid).toContain('href="https://shop.test/orders/1042?ref=mail&amp;lang=en"');
    expect(paid).toMatch(/<span class="status paid" style="text-transform: uppercase;letter-spacing: 1px;">paid<\/span>/);
    const unpaid = canonical(fast.render('orders/receipt', receiptContext({ paid: false })).html!);
    expect(unpaid).toMatch(/<span class="status "[^>]*>awaiting payment<\/span>/);
  });

  it('falls back to inlining per render when a block switches a class the stylesheet styles, and stays correct', () => {
    const mode = fast.inlineMode('orders/status');
    expect(mode.css).toBe('per-render');
    expect(mode.cssFallbackReason).toContain('badge-paid');
    for (const paid of [true, false]) {
      const context = { orderId: 7, paid, lines: [{ name: 'A', qty: 1, price: 2 }] };
      const got = fast.render('orders/status', context);
      const want = naive.render('orders/status', context);
      expect(canonical(got.html!)).toBe(canonical(want.html));
      expect(got.text).toBe(want.text);
      expect(/<span class="badge [^"]*" style="[^"]*background: #16a34a/.test(got.html!)).toBe(paid);
    }
  });

  it('falls back to inlining per render for a triple-stash, so inserted HTML is styled too', () => {
    const mode = fast.inlineMode('orders/note');
    expect(mode).toMatchObject({ css: 'per-render', text: 'per-render' });
    const context = { orderId: 3, shop: 'S', noteHtml: '<p class="muted">Handle with <b>care</b></p><table><tr><td>x</td></tr></table>' };
    const got = fast.render('orders/note', context);
    const want = naive.render('orders/note', context);
    expect(canonical(got.html!)).toBe(canonical(want.html));
    expect(got.text).toBe(want.text);
    expect(got.html).toMatch(/<p class="muted" style="color: #6b7280;font-size: 12px;">Handle with <b>care<\/b><\/p>/);
  });
});

describe('compile-time derivation on a template that uses more of Handlebars', () => {
  const dir = join(FIXTURES, 'digest');
  const fast = new HandlebarsRenderer({ dir });
  const naive = new NaivePipeline({ dir });
  beforeAll(() => Promise.all([fast.init(), naive.init()]));

  const digestContexts: Array<[string, Record<string, unknown>]> = [
    ['full', {
      title: 'Digest',
      user: { first: 'Ann', last: 'Lee', email: 'ann@x.test' },
      tags: ['news', 'b & c'],
      rows: [{ label: 'x', amount: 1 }, { label: 'y', amount: 2 }],
      currency: '€',
      vip: true,
      groups: [{ name: 'G1', items: [1, 2] }, { name: 'G2', items: [] }],
      avatar: 'https://x.test/a.png',
      link: 'https://x.test/l?a=1&b=2',
      total: 5,
    }],
    ['empty', { title: '', user: { first: '', last: '' }, tags: [], rows: [], vip: false, groups: [], link: '', total: 0 }],
    ['whitespace and line breaks in values', {
      title: 'x',
      user: { first: '  spaced   name ', last: 'multi\nline' },
      tags: ['  '],
      rows: [{ label: '', amount: '' }],
      groups: [{ name: '', items: [''] }],
    }],
  ];

  it('derives both at compile time (each/else, with, ~, ../, @index, @root in a partial, mailto, MSO comments)', () => {
    expect(fast.inlineMode('digest')).toEqual({ css: 'compiled', text: 'compiled' });
  });

  for (const [label, context] of digestContexts) {
    it(`${label}: same HTML and text as the naive pipeline`, () => {
      const got = fast.render('digest', context);
      const want = naive.render('digest', context);
      expect(canonical(got.html!)).toBe(canonical(want.html));
      expectSameKeptCss(got.html!, want.html);
      expect(got.text).toBe(want.text);
    });
  }
});

describe('compile-time derivation: when it must refuse', () => {
  const inliner = createCssInliner();
  const style = '<style>td { color: red; } p { margin: 0; } tr:nth-child(even) td { background: #eee; }</style>';
  const plainStyle = '<style>td { color: red; } p { margin: 0; }</style>';

  it('refuses text that the parser would move out of a table', () => {
    const result = inlineAtCompileTime(`${plainStyle}<table>{{#each rows}}Row: <tr><td>{{this}}</td></tr>{{/each}}</table>`, inliner, {});
    expect(result).toMatchObject({ ok: false, reason: expect.stringContaining('move') });
  });

  it('refuses a block element inside <p>, which the parser would close early', () => {
    const result = inlineAtCompileTime(`${plainStyle}<p>{{#if x}}<div>y</div>{{/if}}</p>`, inliner, {});
    expect(result.ok).toBe(false);
  });

  it('refuses position-dependent selectors, style attributes with mustaches and dynamic tag names', () => {
    expect(inlineAtCompileTime(`${style}<table>{{#each rows}}<tr><td>{{this}}</td></tr>{{/each}}</table>`, inliner, {}).ok).toBe(false);
    expect(inlineAtCompileTime(`${plainStyle}<p style="color: {{color}}">x</p>`, inliner, {}).ok).toBe(false);
    expect(inlineAtCompileTime(`${plainStyle}<{{tag}}>x</{{tag}}>`, inliner, {}).ok).toBe(false);
    expect(inlineAtCompileTime(`<style>.a { color: red }</style><p class="{{cls}}">x</p>`, inliner, {}).ok).toBe(false);
  });

  it('accepts rows repeated straight inside <table> and writes the implied <tbody> itself', () => {
    const result = inlineAtCompileTime(`${plainStyle}<table>{{#each rows}}<tr><td>{{this}}</td></tr>{{/each}}</table>`, inliner, {});
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.source).toContain('<table><tbody>{{#each rows}}<tr><td style="color: red;">{{this}}</td></tr>{{/each}}</tbody></table>');
  });

  it('derives text with link targets and repeated rows, and refuses numbered lists with dynamic items', () => {
    const convert = createTextConverter();
    const text = textAtCompileTime('<p>Hi {{name}}, <a href="{{url}}">open</a></p><table>{{#each rows}}<tr><td>{{a}}</td><td>{{b}}</td></tr>{{/each}}</table>', convert);
    expect(text.ok).toBe(true);
    if (text.ok) {
      expect(text.source).toContain('Hi {{name}}, open [{{url}}]');
      expect(text.source).toMatch(/\{\{#each rows\}\}\n?\{\{a\}\}[\s\u0001]+\{\{b\}\}/);
    }
    expect(textAtCompileTime('<ol>{{#each steps}}<li>{{this}}</li>{{/each}}</ol>', convert).ok).toBe(false);
  });

  it('renders refused templates per render with the same result', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mailroom-refused-'));
    try {
      await writeFile(join(dir, 'rows.hbs'), `${style}<table>{{#each rows}}<tr><td>{{this}}</td></tr>{{/each}}</table><ol>{{#each rows}}<li>{{this}}</li>{{/each}}</ol>`);
      const fast = new HandlebarsRenderer({ dir });
      const naive = new NaivePipeline({ dir });
      await Promise.all([fast.init(), naive.init()]);
      expect(fast.inlineMode('rows')).toMatchObject({ css: 'per-render', text: 'per-render' });
      const context = { rows: ['one', 'two', 'three'] };
      const got = fast.render('rows', context);
      const want = naive.render('rows', context);
      expect(canonical(got.html!)).toBe(canonical(want.html));
      expect(got.text).toBe(want.text);
      expect(got.text).toMatch(/^2\. two$/m);
      expect(got.html!.match(/background: #eee/g)).toHaveLength(1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

