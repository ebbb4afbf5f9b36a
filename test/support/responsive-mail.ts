import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { parseHtml } from './html-document.js';

/**
 * A responsive newsletter: a layout whose `<style>` holds plain rules, `@import`, `@font-face`,
 * `:hover`, an Outlook.com selector, `@media` for narrow screens and for dark mode, `@supports`.
 * `newsletter` is inlined at compile time, `offer` (which prints HTML from the context) per render.
 */
export const RESPONSIVE_TEMPLATES = fileURLToPath(new URL('../fixtures/templates/responsive', import.meta.url));

export const newsletterContext = {
  title: 'Weekly',
  heading: 'This week at Lumen',
  promo: 'free shipping',
  articles: [
    { title: 'Lamps', summary: 'Warm light for long evenings.', url: 'https://shop.test/lamps' },
    { title: 'Bulbs', summary: 'Everything about E27.', url: 'https://shop.test/bulbs' },
  ],
};

export const offerContext = {
  title: 'Offer',
  heading: 'Only today',
  offerHtml: '<p class="btn">-20% on lamps</p>',
  url: 'https://shop.test/offer',
};

/**
 * What every responsive mail must keep after inlining: the plain rules are in `style`
 * attributes, the rules that cannot be inlined are in one `<style>` in `<head>`, and the
 * classes those rules select are still on the elements.
 */
export function expectResponsive(html: string): void {
  const doc = parseHtml(html);
  const styles = doc.styles();
  expect(styles).toHaveLength(1);
  expect(styles[0]!.parent).toBe('head');
  const css = styles[0]!.css;

  // at-rules, verbatim; @import whole and first, where CSS requires it
  expect(css.trimStart()).toMatch(/^@import url\("https:\/\/fonts\.example\.com\/css2\?family=Inter&display=swap"\);/);
  expect(css).toContain('@font-face { font-family: "Brand"; src: url("https://cdn.example.com/brand.woff2") format("woff2"); }');
  expect(css).toMatch(/@media \(max-width: 600px\) \{[^@]*\.col \{ width: 100% !important; display: block !important; \}/);
  expect(css).toMatch(/@media \(prefers-color-scheme: dark\) \{[^@]*\.btn \{ background: #60a5fa !important;/);
  expect(css).toContain('@supports (display: grid)');
  // rules that cannot be inlined, before the at-rules that were written after them
  expect(css).toMatch(/\.btn:hover \{ background: #1d4ed8; \}/);
  expect(css).toContain('#MessageViewBody a.btn { color: #ffffff; }');
  expect(css.indexOf('.btn:hover')).toBeLessThan(css.indexOf('@media'));
  // the rules that were inlined are not repeated
  expect(css).not.toMatch(/\.wrapper \{ width: 600px/);
  expect(css).not.toMatch(/(^|\})\s*body \{ margin: 0/);

  const [body] = doc.elements('body');
  expect(doc.inlineStyle(body!)).toMatchObject({ margin: '0', background: '#ffffff' });
  const [wrapper] = doc.withClass('wrapper');
  expect(doc.inlineStyle(wrapper!)).toMatchObject({ width: '600px' });
  const columns = doc.withClass('col');
  expect(columns.length).toBeGreaterThanOrEqual(2);
  for (const column of columns) expect(doc.inlineStyle(column)).toMatchObject({ width: '50%', display: 'inline-block' });
  const buttons = doc.withClass('btn');
  expect(buttons.length).toBeGreaterThanOrEqual(1);
  for (const button of buttons) expect(doc.inlineStyle(button)).toMatchObject({ background: '#2563eb', color: '#ffffff' });
}

export function expectTextWithoutCss(text: string | undefined): void {
  expect(text).toBeTruthy();
  expect(text).not.toMatch(/@media|@font-face|@import|!important|\{|\}|:hover|MessageViewBody/);
}
