import { inline, type Options as CssInlineLibraryOptions } from '@css-inline/css-inline';
import { MailerConfigurationError } from '../errors/mailer.error.js';
import { gatherKeptRules, takeStatementRules, takeStatementRulesFromStyles } from './css-kept-rules.js';

/**
 * Options passed to @css-inline/css-inline. Three defaults differ from the library's:
 * `keepAtRules` and `removeInlinedSelectors` are on (so `@media`, `@font-face`, `@supports`,
 * `:hover` and the other rules that cannot be inlined stay in a `<style>`) unless `keepStyleTags`
 * is set, and `loadRemoteStylesheets` is off.
 */
export type CssInlineOptions = CssInlineLibraryOptions;

export type CssInliner = (html: string) => string;

/**
 * css-inline fetches `<link rel="stylesheet">` URLs by default, which would let a template make the
 * server send HTTP requests; here nothing is fetched unless `loadRemoteStylesheets: true` is set.
 * Even then the renderer fetches linked sheets once at start-up and embeds them (see
 * `embedStylesheets`); css-inline is left to fetch only what that could not resolve.
 *
 * A responsive mail needs its `@media` rules after inlining, and `:hover` or a client-specific
 * selector only works from a `<style>`; css-inline drops all of them unless told otherwise.
 * `keepStyleTags` keeps the whole sheet as written, which already includes the at-rules.
 */
export function cssInlineOptions(options: CssInlineOptions = {}): CssInlineOptions {
  const wholeSheets = options.keepStyleTags === true;
  return {
    ...options,
    loadRemoteStylesheets: options.loadRemoteStylesheets === true,
    keepAtRules: options.keepAtRules ?? !wholeSheets,
    removeInlinedSelectors: options.removeInlinedSelectors ?? !wholeSheets,
  };
}

export function createCssInliner(options: CssInlineOptions = {}): CssInliner {
  const resolved = cssInlineOptions(options);
  if (resolved.keepStyleTags || (!resolved.keepAtRules && !resolved.removeInlinedSelectors)) {
    return (html) => inline(html, resolved);
  }
  if (!resolved.keepAtRules) return (html) => gatherKeptRules(inline(html, resolved), []);
  const extra = takeStatementRules(resolved.extraCss ?? '');
  const library = extra.statements.length > 0 ? { ...resolved, extraCss: extra.css } : resolved;
  return (html) => {
    const taken = takeStatementRulesFromStyles(html);
    const statements = extra.statements.length > 0 ? [...taken.statements, ...extra.statements] : taken.statements;
    return gatherKeptRules(inline(taken.html, library), statements);
  };
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

/**
 * Only rules at the top level count: css-inline never inlines a rule inside an at-rule
 * (`@media`, `@supports`, …), which either stays in the `<style>` or is dropped, so which
 * elements it matches cannot change the inlined result.
 */
export function readStylesheets(css: readonly string[]): StylesheetFacts {
  const facts: StylesheetFacts = { classes: new Set(), ids: new Set(), attributes: new Set(), structural: false };
  for (const sheet of css) {
    const text = sheet.replace(/\/\*[\s\S]*?\*\//g, '').replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""');
    // blocks opened and not yet closed; true where an at-rule opened it
    const open: boolean[] = [];
    let inAtRule = 0;
    // a prelude is whatever comes right before a `{`
    for (const match of text.matchAll(/([^{};]*)([{};])/g)) {
      if (match[2] === '}') {
        if (open.pop()) inAtRule--;
        continue;
      }
      if (match[2] === ';') continue;
      const prelude = (match[1] ?? '').trim();
      const atRule = prelude.startsWith('@');
      open.push(atRule);
      if (atRule) inAtRule++;
      if (!prelude || atRule || inAtRule > 0) continue;
      const selector = prelude;
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

const LINK = /<link\b(?:[^>"']|"[^"]*"|'[^']*')*>/gi;

function attributeOf(tag: string, name: string): string | undefined {
  const match = new RegExp(`\\s${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i').exec(tag);
  return match ? (match[1] ?? match[2] ?? match[3]) : undefined;
}

function stylesheetHref(tag: string): string | undefined {
  const rel = attributeOf(tag, 'rel');
  if (!rel || !/(^|\s)stylesheet(\s|$)/i.test(rel)) return undefined;
  const href = attributeOf(tag, 'href');
  return href && !href.includes('{{') ? href : undefined;
}

/** `href`s of the `<link rel="stylesheet">` tags in the sources, as written. */
export function linkedStylesheets(sources: Iterable<string>): Set<string> {
  const hrefs = new Set<string>();
  for (const source of sources) {
    for (const match of source.matchAll(LINK)) {
      const href = stylesheetHref(match[0]);
      if (href) hrefs.add(href);
    }
  }
  return hrefs;
}

/**
 * Fetches each linked stylesheet once, at start-up, so that no send ever waits for one; a sheet
 * that cannot be fetched is a configuration error.
 */
export async function fetchStylesheets(hrefs: Iterable<string>, baseUrl: string | undefined): Promise<Map<string, string>> {
  const sheets = new Map<string, string>();
  await Promise.all(
    [...hrefs].map(async (href) => {
      let url: URL;
      try {
        url = new URL(href, baseUrl);
      } catch {
        return; // a relative href without baseUrl: css-inline cannot load it either
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') return;
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        sheets.set(href, await response.text());
      } catch (error) {
        throw new MailerConfigurationError(
          `The stylesheet ${url.href} linked from a template could not be loaded (${(error as Error).message}). ` +
            'Fix the URL, or leave loadRemoteStylesheets off and put the rules in a <style> element.',
          { cause: error },
        );
      }
    }),
  );
  return sheets;
}

/** Replaces fetched `<link rel="stylesheet">` tags by `<style>` elements with their rules, in place. */
export function embedStylesheets(html: string, sheets: ReadonlyMap<string, string>): string {
  if (sheets.size === 0) return html;
  return html.replace(LINK, (tag) => {
    const href = stylesheetHref(tag);
    const css = href === undefined ? undefined : sheets.get(href);
    return css === undefined ? tag : `<style>${css}</style>`;
  });
}
