import { describe, expect, it } from 'vitest';
import { createCssInliner, readStylesheets } from '../../../lib/templates/css-inliner.js';
import { takeStatementRules } from '../../../lib/templates/css-kept-rules.js';
import { parseHtml } from '../../support/html-document.js';

const inline = createCssInliner();

function page(head: string, body: string): string {
  return `<!DOCTYPE html><html><head><meta charset="utf-8">${head}</head><body>${body}</body></html>`;
}

describe('rules kept after inlining', () => {
  it('merges every kept rule into one <style> at the end of <head>: statements, other rules, at-rules', () => {
    const html = inline(
      page(
        '<style type="text/css">@import url("a.css"); .a { color: red; } .a:hover { color: blue; } @media (max-width: 600px) { .a { color: green !important; } }</style>',
        '<p class="a">x</p><style>@layer base, theme; .b::before { content: "»"; } @media print { .a { color: black; } }</style><p class="b">y</p>',
      ),
    );
    const doc = parseHtml(html);
    expect(doc.styles()).toHaveLength(1);
    expect(doc.styles()[0]!.parent).toBe('head');
    const lines = doc.styles()[0]!.css.split('\n');
    expect(lines[0]).toBe('@import url("a.css");');
    expect(lines[1]).toBe('@layer base, theme;');
    expect(lines.slice(2, 4)).toEqual(['.a:hover { color: blue; }', '.b::before { content: "»"; }']);
    expect(lines[4]).toMatch(/^@media \(max-width: 600px\) \{ \.a \{ color: green !important; \} \} @media print \{ \.a \{ color: black; \} \}$/);
    expect(html).toMatch(/<meta charset="utf-8"><style>/);
    expect(doc.inlineStyle(doc.withClass('a')[0]!)).toEqual({ color: 'red' });
  });

  it('leaves a document without kept rules without <style>', () => {
    const doc = parseHtml(inline(page('<style>.a { color: red; }</style>', '<p class="a">x</p>')));
    expect(doc.styles()).toEqual([]);
    expect(doc.inlineStyle(doc.withClass('a')[0]!)).toEqual({ color: 'red' });
  });

  it('never turns text from an attribute value into a <style>', () => {
    const html = inline(page(`<meta name="x" content="</head><style>body{display:none}</style>">`, `<img alt="<style>body{display:none}</style>" src="x.png"><style>a:hover { color: red; }</style>`));
    const doc = parseHtml(html);
    expect(doc.styles().map((style) => style.css)).toEqual(['a:hover { color: red; }']);
    expect(doc.elements('img')[0]!.attribs['alt']).toBe('<style>body{display:none}</style>');
    expect(doc.elements('meta')[1]!.attribs['content']).toBe('</head><style>body{display:none}</style>');
  });

  it("leaves <style> elements in comments (Outlook's [if mso]) and those with a media attribute where they are", () => {
    const html = inline(
      page(
        '<!--[if mso]><style>.a { mso-line-height-rule: exactly; } @media all { .a { x: y; } }</style><![endif]--><style media="print">.b:hover { color: red; }</style>',
        '<style>.a:hover { color: blue; } @media (max-width: 1px) { .a { color: red; } }</style><p class="a b">x</p>',
      ),
    );
    expect(html).toContain('<!--[if mso]><style>.a { mso-line-height-rule: exactly; } @media all { .a { x: y; } }</style><![endif]-->');
    const styles = parseHtml(html).styles();
    expect(styles.map((style) => style.css)).toEqual([
      '.b:hover { color: red; }',
      '.a:hover { color: blue; }\n@media (max-width: 1px) { .a { color: red; } }',
    ]);
  });

  it('keeps @import and the other at-rules without a block whole, which css-inline alone reduces to their name', () => {
    const html = inline(page(`<style>@charset "utf-8"; @import url('https://x.test/a;b.css') screen; @font-face { font-family: F; src: url(f.woff2); }</style>`, '<p>x</p>'));
    const css = parseHtml(html).styles()[0]!.css;
    expect(css).toBe(`@charset "utf-8";\n@import url('https://x.test/a;b.css') screen;\n@font-face { font-family: F; src: url(f.woff2); }`);
  });

  it('takes @import from extraCss too', () => {
    const withExtra = createCssInliner({ extraCss: '@import url(x.css); .a { color: red; } @media print { .a { color: black; } }' });
    const doc = parseHtml(withExtra('<p class="a">x</p>'));
    expect(doc.styles()[0]!.css).toBe('@import url(x.css);\n@media print { .a { color: black; } }');
    expect(doc.inlineStyle(doc.withClass('a')[0]!)).toEqual({ color: 'red' });
  });
});

describe('takeStatementRules', () => {
  it('takes top-level statements only, not text in comments, strings or blocks', () => {
    const css = `/* @import url(no.css); */ @import "yes.css"; .a { content: "@import 'no.css';"; } @media print { @import url(no2.css); } @namespace svg url(http://www.w3.org/2000/svg);`;
    const taken = takeStatementRules(css);
    expect(taken.statements).toEqual(['@import "yes.css";', '@namespace svg url(http://www.w3.org/2000/svg);']);
    expect(taken.css).toBe(`/* @import url(no.css); */  .a { content: "@import 'no.css';"; } @media print { @import url(no2.css); } `);
  });

  it('returns a sheet without statements unchanged', () => {
    const css = '@media (max-width: 600px) { .a { color: red; } } @layer base { .b { color: blue; } }';
    expect(takeStatementRules(css)).toEqual({ css, statements: [] });
  });
});

describe('readStylesheets', () => {
  it('ignores selectors inside at-rules, which are never inlined', () => {
    const facts = readStylesheets([
      '.a { color: red; } @media (max-width: 600px) { .hide { display: none !important; } #m { x: y; } [data-x] td:first-child { x: y; } } @supports (display: grid) { @media print { .deep { x: y; } } } .b { content: "}"; }',
    ]);
    expect([...facts.classes].sort()).toEqual(['a', 'b']);
    expect(facts.ids.size).toBe(0);
    expect(facts.attributes.size).toBe(0);
    expect(facts.structural).toBe(false);
    expect(readStylesheets(['.a + .b { x: y; }']).structural).toBe(true);
  });
});
