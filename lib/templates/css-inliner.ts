import { inline, type Options as CssInlineLibraryOptions } from '@css-inline/css-inline';

/** Options passed to @css-inline/css-inline. */
export type CssInlineOptions = CssInlineLibraryOptions;

export type CssInliner = (html: string) => string;

/**
 * css-inline fetches `<link rel="stylesheet">` URLs by default, which would let a template make the
 * server send HTTP requests; here nothing is fetched unless `loadRemoteStylesheets: true` is set.
 * When it is, fetched sheets are cached so a per-send fallback does not fetch on every mail.
 */
export function cssInlineOptions(options: CssInlineOptions = {}): CssInlineOptions {
  const resolved: CssInlineOptions = { ...options, loadRemoteStylesheets: options.loadRemoteStylesheets === true };
  if (resolved.loadRemoteStylesheets && !resolved.cache) resolved.cache = { size: 32 };
  return resolved;
}

export function createCssInliner(options: CssInlineOptions = {}): CssInliner {
  const resolved = cssInlineOptions(options);
  return (html) => inline(html, resolved);
}

/** What the selectors of a stylesheet can look at. */
export interface StylesheetFacts {
  /** Class names used by any selector. */
  classes: Set<string>;
  ids: Set<string>;
  /** Attribute names used in `[attr]` selectors. */
  attributes: Set<string>;
  /**
   * A selector depends on siblings, position or emptiness (`:first-child`, `+`, `:empty`, …),
   * which a block helper changes from one render to the next.
   */
  structural: boolean;
}

const STRUCTURAL = /:(?:nth-|first-|last-|only-|empty|not\(|has\(|is\(|where\(|root)|[+~]/i;

export function readStylesheets(css: readonly string[]): StylesheetFacts {
  const facts: StylesheetFacts = { classes: new Set(), ids: new Set(), attributes: new Set(), structural: false };
  for (const sheet of css) {
    const text = sheet.replace(/\/\*[\s\S]*?\*\//g, '');
    // a prelude is whatever comes right before a `{`
    for (const match of text.matchAll(/([^{};]*)\{/g)) {
      const prelude = (match[1] ?? '').trim();
      if (!prelude || prelude.startsWith('@')) continue;
      const selector = prelude.replace(/"[^"]*"|'[^']*'/g, '""');
      if (STRUCTURAL.test(selector.replace(/\[[^\]]*\]/g, '[]'))) facts.structural = true;
      for (const m of selector.matchAll(/\.(-?[_a-zA-Z][\w-]*)/g)) facts.classes.add(m[1]!);
      for (const m of selector.matchAll(/#(-?[_a-zA-Z][\w-]*)/g)) facts.ids.add(m[1]!);
      for (const m of selector.matchAll(/\[\s*([\w:-]+)/g)) facts.attributes.add(m[1]!.toLowerCase());
    }
  }
  return facts;
}

/** The contents of every `<style>` element of an HTML source. */
export function styleBlocks(html: string): string[] {
  return [...html.matchAll(/<style\b[^>]*>([\s\S]*?)<\/style\s*>/gi)].map((m) => m[1] ?? '');
}
