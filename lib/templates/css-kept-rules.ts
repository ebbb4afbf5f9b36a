/**
 * What css-inline leaves in `<style>` elements, brought into one place.
 *
 * With `keepAtRules` and `removeInlinedSelectors`, css-inline writes the at-rules into a new
 * `<style>` at the start of `<head>` and leaves the rules it could not inline (`:hover`, selectors
 * that match nothing, client hacks such as `u + .body`) in the `<style>` elements where they were,
 * so a mail ends with several of them, possibly in `<body>`, at-rules before the rules they were
 * written after. It also writes an at-rule without a block (`@import url(…);`, `@layer a, b;`) as
 * its bare name, which breaks the rule that follows. The two functions here take those
 * statements out before css-inline runs and, afterwards, merge the kept rules into one `<style>`
 * in `<head>`: statements first (where `@import` has to be), then the other kept rules, then the
 * at-rules, each group in document order.
 */

/** Comments, strings, `url(…)`, at-keywords and the characters that delimit rules. */
const CSS_TOKENS = /\/\*[\s\S]*?(?:\*\/|$)|"(?:[^"\\\n]|\\[\s\S])*"|'(?:[^'\\\n]|\\[\s\S])*'|url\([^)]*\)|@[\w-]+|[{};]/gi;

/** The at-rules without a block that a style sheet may hold; checked before the exact scan. */
const MAYBE_STATEMENT = /@(?:import|charset|namespace|layer)\b/i;

export interface TakenStatements {
  css: string;
  /** Each `@…;` at the top level of the sheet, in order, as written. */
  statements: string[];
}

/** Removes the top-level at-rules without a block (`@import …;`) from a style sheet. */
export function takeStatementRules(css: string): TakenStatements {
  if (!MAYBE_STATEMENT.test(css)) return { css, statements: [] };
  const statements: string[] = [];
  let depth = 0;
  let start = -1;
  let out = '';
  let copied = 0;
  for (const match of css.matchAll(CSS_TOKENS)) {
    const token = match[0];
    if (token === '{') {
      depth++;
      start = -1;
    } else if (token === '}') {
      depth = Math.max(0, depth - 1);
      start = -1;
    } else if (token === ';') {
      if (start >= 0) {
        statements.push(css.slice(start, match.index + 1));
        out += css.slice(copied, start);
        copied = match.index + 1;
        start = -1;
      }
    } else if (token.startsWith('@') && depth === 0 && start < 0) {
      start = match.index;
    }
  }
  if (statements.length === 0) return { css, statements };
  return { css: out + css.slice(copied), statements };
}

/** `<style>` elements of a source document; comments (Outlook's `<!--[if mso]>`) are skipped. */
const SOURCE_STYLE = /<!--[\s\S]*?-->|(<style\b(?:[^>"']|"[^"]*"|'[^']*')*>)([\s\S]*?)<\/style\s*>/gi;

/**
 * Takes the at-rules without a block out of every `<style>` element css-inline will read (not
 * those marked `data-css-inline="ignore"`, which it drops).
 */
export function takeStatementRulesFromStyles(html: string): { html: string; statements: string[] } {
  if (!MAYBE_STATEMENT.test(html)) return { html, statements: [] };
  const statements: string[] = [];
  let out = '';
  let copied = 0;
  for (const match of html.matchAll(SOURCE_STYLE)) {
    const css = match[2];
    if (css === undefined || /data-css-inline\s*=\s*["']?ignore/i.test(match[1] ?? '')) continue;
    const taken = takeStatementRules(css);
    if (taken.statements.length === 0) continue;
    statements.push(...taken.statements);
    const contentStart = match.index + match[1]!.length;
    out += html.slice(copied, contentStart) + taken.css;
    copied = contentStart + css.length;
  }
  return statements.length === 0 ? { html, statements } : { html: out + html.slice(copied), statements };
}

/**
 * css-inline's output, serialized by html5ever: attribute values are always double-quoted, text
 * never holds a raw `<`. Whole tags are matched so that a value such as `alt="<style>…"` is never
 * taken for an element, and the elements whose text is written raw are skipped as a whole.
 */
const OUTPUT_TOKENS =
  /<!--[\s\S]*?-->|<style((?:\s+[^\s=>]+(?:="[^"]*")?)*)>([\s\S]*?)<\/style>|<(script|xmp|iframe|noembed|noframes)\b(?:[^>"]|"[^"]*")*>[\s\S]*?<\/\3>|<\/head>|<\/?[A-Za-z](?:[^>"]|"[^"]*")*>/g;

/** Attributes a merged `<style>` may have had: none, or the customary `type="text/css"`. */
const PLAIN_STYLE = /^(?:\s+type="text\/css")?$/i;

/**
 * Merges the plain `<style>` elements of css-inline's output into one at the end of `<head>`,
 * with `statements` first. A `<style>` with other attributes (`media`, `id`, …) is left where it
 * is, since merging would change what it applies to.
 */
export function gatherKeptRules(html: string, statements: readonly string[]): string {
  if (statements.length === 0 && !html.includes('<style')) return html;
  const rules: string[] = [];
  const atRules: string[] = [];
  const removed: Array<[number, number]> = [];
  let headEnd = -1;
  for (const match of html.matchAll(OUTPUT_TOKENS)) {
    const token = match[0];
    if (token === '</head>') {
      if (headEnd < 0) headEnd = match.index;
    } else if (match[2] !== undefined && PLAIN_STYLE.test(match[1] ?? '')) {
      const css = match[2].trim();
      // css-inline puts every kept at-rule into the `<style>` it writes, and only at-rules
      if (css.startsWith('@')) atRules.push(css);
      else if (css) rules.push(css);
      removed.push([match.index, match.index + token.length]);
    }
  }
  if (headEnd < 0) return html;
  const kept = [...statements, ...rules, ...atRules];
  // one `<style>` in `<head>` already, nothing to add: leave the document as it is
  if (statements.length === 0 && removed.length === 1 && removed[0]![0] < headEnd && kept.length === 1) return html;

  let out = '';
  let copied = 0;
  for (const [start, end] of removed) {
    if (headEnd >= copied && headEnd < start) {
      out += html.slice(copied, headEnd) + styleElement(kept);
      copied = headEnd;
    }
    out += html.slice(copied, start);
    copied = end;
  }
  if (headEnd >= copied) {
    out += html.slice(copied, headEnd) + styleElement(kept);
    copied = headEnd;
  }
  return out + html.slice(copied);
}

function styleElement(kept: readonly string[]): string {
  return kept.length === 0 ? '' : `<style>${kept.join('\n')}</style>`;
}
