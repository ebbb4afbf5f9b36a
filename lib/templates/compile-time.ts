import { randomBytes } from 'node:crypto';
import { readStylesheets, styleBlocks, type CssInliner } from './css-inliner.js';
import type { TextConverter } from './html-to-text.js';
import { PARTIAL_SCOPE_HELPER } from './template-combine.js';
import { classifyGaps, readGapTags, splitSource, type GapContext, type GapTags } from './template-source.js';

/** A derived Handlebars source, or why it could not be derived safely. */
export type Derived = { ok: true; source: string } | { ok: false; reason: string };

interface Analysed {
  contents: string[];
  gaps: string[];
  contexts: GapContext[];
  tags: GapTags[];
}

function analyse(source: string): Analysed {
  const { contents, gaps } = splitSource(source);
  return { contents, gaps, contexts: classifyGaps(contents), tags: gaps.map(readGapTags) };
}

/** A marker that occurs nowhere in the source, so every occurrence in the output is one of ours. */
function markerPrefix(source: string): string {
  for (;;) {
    const prefix = `mr${randomBytes(6).toString('hex')}t`;
    if (!source.includes(prefix)) return prefix;
  }
}

function tokenPattern(prefix: string): RegExp {
  return new RegExp(`${prefix}(\\d+)q`, 'g');
}

/**
 * Inlines the stylesheet into the template source once. Every piece of Handlebars syntax is
 * replaced by a marker the HTML parser leaves in place (an HTML comment in text, because text
 * inside `<table>` would be moved out of it; a plain word inside tags), css-inline runs on that,
 * and the syntax is put back. The result is accepted only if the parser neither moved nor dropped
 * anything and the restored source has exactly the same Handlebars syntax in the same order.
 */
export function inlineAtCompileTime(
  source: string,
  inlineCss: CssInliner,
  options: { extraCss?: string | null; loadRemoteStylesheets?: boolean },
): Derived {
  const a = analyse(source);
  const prefix = markerPrefix(source);
  const token = (i: number): string => `${prefix}${i}q`;
  const staticHtml = a.contents.join('');
  if (options.loadRemoteStylesheets && /<link\b[^>]*stylesheet/i.test(staticHtml)) {
    return { ok: false, reason: 'a remote stylesheet cannot be checked at compile time' };
  }
  const facts = readStylesheets([...styleBlocks(staticHtml), options.extraCss ?? '']);
  if (styleInsideBlock(a)) {
    return { ok: false, reason: 'a <style> element is inside a block, so its rules apply only to some renders' };
  }
  if (facts.structural && a.gaps.length > 0) {
    return { ok: false, reason: 'the stylesheet uses sibling or position selectors, which depend on what blocks render' };
  }

  const replacements: string[] = [];
  for (let i = 0; i < a.gaps.length; i++) {
    const context = a.contexts[i]!;
    const tags = a.tags[i]!;
    switch (context.kind) {
      case 'text':
        if (tags.rawOutput) return { ok: false, reason: 'it outputs unescaped HTML ({{{…}}}) the stylesheet may apply to' };
        replacements.push(`<!--${token(i)}-->`);
        break;
      case 'rcdata':
      case 'comment':
        replacements.push(token(i));
        break;
      case 'rawtext':
        return { ok: false, reason: `a <${context.element}> element contains Handlebars syntax` };
      case 'tag':
        return { ok: false, reason: `a tag name or attribute name of <${context.element || '?'}> is dynamic` };
      case 'attribute-value': {
        const problem = attributeProblem(a, i, context, facts);
        if (problem) return { ok: false, reason: problem };
        replacements.push(token(i));
        break;
      }
    }
  }

  const marked = addImplicitTbody(weave(a.contents, replacements));
  let inlined: string;
  try {
    inlined = inlineCss(marked);
  } catch (error) {
    return { ok: false, reason: `css-inline failed on the template (${(error as Error).message})` };
  }
  const pattern = tokenPattern(prefix);
  const before = skeleton(marked, pattern);
  const after = skeleton(inlined, pattern);
  if (before.join('\u0000') !== after.join('\u0000')) {
    return { ok: false, reason: 'the HTML parser would move or add elements (implied tags or foster parenting)' };
  }
  if (!keptStylesOutsideBlocks(inlined, pattern, a)) {
    return { ok: false, reason: 'the <style> with the rules kept after inlining would land inside a block' };
  }
  const restored = inlined
    .replace(new RegExp(`<!--${prefix}(\\d+)q-->`, 'g'), (_m, n: string) => a.gaps[Number(n)]!)
    .replace(pattern, (_m, n: string) => a.gaps[Number(n)]!);
  return sameSyntax(restored, a.gaps) ? { ok: true, source: restored } : { ok: false, reason: 'the restored template did not match' };
}

/**
 * Derives the text template once: the HTML with markers runs through the compiled converter, and
 * the markers are turned back into the Handlebars syntax they stand for. Syntax that only affects
 * attributes the text never shows is dropped, provided it opens and closes within the same tag.
 */
export function textAtCompileTime(source: string, convert: TextConverter): Derived {
  const a = analyse(source);
  const prefix = markerPrefix(source);
  const kept: number[] = [];
  const replacements: string[] = [];
  const dropped = new Map<string, { balance: number; lowest: number; keptInRegion: boolean }>();

  for (let i = 0; i < a.gaps.length; i++) {
    const context = a.contexts[i]!;
    const tags = a.tags[i]!;
    if (context.kind === 'text') {
      if (tags.rawOutput) return { ok: false, reason: 'it outputs unescaped HTML ({{{…}}})' };
      if (context.inOrderedList) return { ok: false, reason: 'a numbered list has dynamic items' };
      kept.push(i);
      replacements.push(`${prefix}${i}q`);
      continue;
    }
    const shown =
      context.kind === 'attribute-value' &&
      ((context.element === 'a' && context.attribute === 'href') || (context.element === 'img' && context.attribute === 'alt'));
    const key = `${context.kind === 'comment' ? 'c' : 'r'}${context.region}`;
    const group = dropped.get(key) ?? { balance: 0, lowest: 0, keptInRegion: false };
    if (shown) {
      if (tags.rawOutput) return { ok: false, reason: 'it outputs unescaped HTML ({{{…}}}) into a link' };
      group.keptInRegion = true;
      kept.push(i);
      replacements.push(`${prefix}${i}q`);
    } else {
      group.lowest = Math.min(group.lowest, group.balance + tags.lowest);
      group.balance += tags.balance;
      replacements.push('');
    }
    dropped.set(key, group);
  }
  for (const group of dropped.values()) {
    if (group.balance !== 0 || group.lowest < 0) return { ok: false, reason: 'a block opens in one tag and closes elsewhere' };
    if (group.keptInRegion && group.lowest < 0) return { ok: false, reason: 'a link target is conditional' };
  }
  // a tag whose attributes are switched by a block and which also carries a shown value
  for (let i = 0; i < a.gaps.length; i++) {
    const context = a.contexts[i]!;
    if (context.kind === 'tag') {
      const group = dropped.get(`r${context.region}`);
      if (group?.keptInRegion && a.tags[i]!.balance !== 0) return { ok: false, reason: 'a link target is conditional' };
    }
  }

  let text: string;
  try {
    text = convert(weave(a.contents, replacements));
  } catch (error) {
    return { ok: false, reason: `html-to-text failed on the template (${(error as Error).message})` };
  }
  // `{{~x~}}` trimmed whitespace of the HTML, which the conversion has already normalized; in the
  // text template it would eat the line breaks the conversion produced
  const gaps = a.gaps.map(withoutWhitespaceControl);
  const seen: number[] = [];
  const restored = text.replace(tokenPattern(prefix), (_m, n: string) => {
    seen.push(Number(n));
    return gaps[Number(n)]!;
  });
  if (seen.length !== kept.length || [...seen].sort((x, y) => x - y).some((n, i) => n !== kept[i])) {
    return { ok: false, reason: 'the text conversion dropped or repeated dynamic parts' };
  }
  // html-to-text writes a link's URL after its text; only plain values may change places like that
  for (let p = 0; p < seen.length; p++) {
    for (let q = p + 1; q < seen.length; q++) {
      if (seen[q]! < seen[p]!) {
        for (const moved of [seen[p]!, seen[q]!]) {
          const tags = a.tags[moved]!;
          if (tags.balance !== 0 || tags.lowest < 0) return { ok: false, reason: 'the text conversion reordered a block' };
        }
      }
    }
  }
  const seenGaps = seen.map((i) => gaps[i]!);
  return sameSyntax(restored, seenGaps) ? { ok: true, source: restored } : { ok: false, reason: 'the restored text template did not match' };
}

/**
 * Whether a `<style>` element of the source (outside comments) sits inside a block: its rules
 * would be inlined or kept for every render, not only for those where the block renders it.
 */
function styleInsideBlock(a: Analysed): boolean {
  let depth = 0;
  for (let i = 0; i < a.contents.length; i++) {
    if (depth !== 0 && /<style\b/i.test(a.contents[i]!.replace(/<!--[\s\S]*?(?:-->|$)/g, ''))) return true;
    if (i < a.gaps.length) depth += conditionalBalance(a.gaps[i]!, a.tags[i]!);
  }
  return false;
}

const PARTIAL_SCOPE_OPEN = `{{#${PARTIAL_SCOPE_HELPER}`;
const PARTIAL_SCOPE_CLOSE = `{{/${PARTIAL_SCOPE_HELPER}}}`;

/**
 * Blocks a gap opens minus those it closes, not counting the block an expanded partial call is
 * wrapped in: that one renders exactly once.
 */
function conditionalBalance(gap: string, tags: GapTags): number {
  if (!gap.includes(PARTIAL_SCOPE_HELPER)) return tags.balance;
  return tags.balance - gap.split(PARTIAL_SCOPE_OPEN).length + gap.split(PARTIAL_SCOPE_CLOSE).length;
}

/**
 * Whether every `<style>` css-inline left (the kept at-rules and rules) is outside any block, so
 * that every render has it: it is, when the gaps before it open as many blocks as they close.
 */
function keptStylesOutsideBlocks(inlined: string, marker: RegExp, a: Analysed): boolean {
  let depth = 0;
  let cursor = 0;
  for (const match of inlined.matchAll(/<!--[\s\S]*?-->|<style\b/gi)) {
    if (match[0].startsWith('<!--')) continue;
    for (const m of inlined.slice(cursor, match.index).matchAll(marker)) {
      const n = Number(m[1]);
      depth += conditionalBalance(a.gaps[n]!, a.tags[n]!);
    }
    cursor = match.index;
    if (depth !== 0) return false;
  }
  return true;
}

function withoutWhitespaceControl(gap: string): string {
  return gap.replace(/\{\{(\{*)~/g, '{{$1').replace(/~(\}*)\}\}/g, '$1}}');
}

function weave(contents: readonly string[], replacements: readonly string[]): string {
  let out = contents[0] ?? '';
  for (let i = 0; i < replacements.length; i++) out += replacements[i]! + (contents[i + 1] ?? '');
  return out;
}

function sameSyntax(source: string, gaps: readonly string[]): boolean {
  try {
    const again = splitSource(source).gaps;
    return again.length === gaps.length && again.every((gap, i) => gap === gaps[i]);
  } catch {
    return false;
  }
}

/**
 * Whether a dynamic attribute value could change which selectors match: a class or id built from
 * output (`class="{{kind}}"`) when the stylesheet selects on classes or ids, or words switched by
 * a block (`class="{{#if paid}}paid{{/if}}"`) that the stylesheet names.
 */
function attributeProblem(
  a: Analysed,
  index: number,
  context: Extract<GapContext, { kind: 'attribute-value' }>,
  facts: ReturnType<typeof readStylesheets>,
): string | undefined {
  const { attribute, element } = context;
  if (attribute === 'style') return `a style attribute of <${element}> is dynamic`;
  const names = attribute === 'class' ? facts.classes : attribute === 'id' ? facts.ids : undefined;
  if (facts.attributes.has(attribute)) return `the stylesheet selects on [${attribute}], which is dynamic`;
  if (!names || names.size === 0) return undefined;

  // the run of gaps inside this one attribute value
  let first = index;
  while (first > 0 && sameAttribute(a.contexts[first - 1], context)) first--;
  let last = index;
  while (last + 1 < a.gaps.length && sameAttribute(a.contexts[last + 1], context)) last++;
  if (index !== first) return undefined;

  const what = `the ${attribute} of <${element}>`;
  for (let i = first; i <= last; i++) {
    if (a.tags[i]!.writes) return `${what} is computed and the stylesheet selects on ${attribute === 'class' ? 'classes' : 'ids'}`;
  }
  const before = a.contents[first] ?? '';
  const after = a.contents[last + 1] ?? '';
  if (!/[\s"'=]$/.test(before) || !/^[\s"'>]/.test(after)) {
    return `${what} joins static and dynamic parts in one word`;
  }
  const inner = a.contents.slice(first + 1, last + 1).join(' ');
  for (const word of inner.split(/[\s"']+/)) {
    if (word && names.has(word)) return `${what} switches "${word}", which the stylesheet styles`;
  }
  return undefined;
}

function sameAttribute(other: GapContext | undefined, context: Extract<GapContext, { kind: 'attribute-value' }>): boolean {
  return other?.kind === 'attribute-value' && other.region === context.region && other.attribute === context.attribute;
}

/**
 * The HTML parser puts rows written straight into `<table>` into an implied `<tbody>`, after any
 * marker that precedes the first row; a block around the rows would then repeat the `<tbody>`.
 * Writing the `<tbody>` out beforehand gives the same document without that move.
 */
export function addImplicitTbody(html: string): string {
  const frames: Array<{ open: number; sections: boolean; depth: number; directRow: boolean }> = [];
  const inserts: Array<{ at: number; text: string }> = [];
  const pattern = /<!--[\s\S]*?-->|<(\/?)(table|tr|thead|tbody|tfoot|caption|colgroup)\b(?:[^>"']|"[^"]*"|'[^']*')*>/gi;
  for (const match of html.matchAll(pattern)) {
    if (match[0].startsWith('<!--')) continue;
    const closing = match[1] === '/';
    const name = (match[2] ?? '').toLowerCase();
    const frame = frames[frames.length - 1];
    if (name === 'table') {
      if (!closing) {
        frames.push({ open: match.index + match[0].length, sections: false, depth: 0, directRow: false });
      } else if (frame) {
        frames.pop();
        if (frame.directRow && !frame.sections) {
          inserts.push({ at: frame.open, text: '<tbody>' }, { at: match.index, text: '</tbody>' });
        }
      }
    } else if (!frame) {
      continue;
    } else if (name === 'tr') {
      if (!closing && frame.depth === 0) frame.directRow = true;
    } else if (!closing) {
      frame.sections = true;
      frame.depth++;
    } else {
      frame.depth = Math.max(0, frame.depth - 1);
    }
  }
  let out = html;
  for (const { at, text } of inserts.sort((x, y) => y.at - x.at)) out = out.slice(0, at) + text + out.slice(at);
  return out;
}

const SKIPPED_TAGS = new Set(['html', 'head', 'body', 'link']);

/**
 * The shape of an HTML document for comparing before and after the parser saw it: elements with
 * their attribute names, markers, and runs of text, without the parts css-inline legitimately
 * adds or removes (`html`/`head`/`body` wrappers, `<style>`, `<link>`, `style` attributes).
 */
function skeleton(html: string, marker: RegExp): string[] {
  const items: string[] = [];
  const pushMarkers = (text: string): void => {
    for (const m of text.matchAll(marker)) items.push(`#${m[1]}`);
  };
  const pushText = (text: string): void => {
    const parts = text.split(marker);
    // split with one capture group alternates text, index, text, …
    for (let i = 0; i < parts.length; i++) {
      if (i % 2 === 1) items.push(`#${parts[i]}`);
      else if (parts[i]!.trim() && items[items.length - 1] !== 'T') items.push('T');
    }
  };
  const pattern = /<!--([\s\S]*?)-->|<(\/?)([A-Za-z][\w:-]*)((?:[^>"']|"[^"]*"|'[^']*')*)>|([^<]+)|</g;
  let skipUntil: string | undefined;
  for (const m of html.matchAll(pattern)) {
    if (skipUntil) {
      if (m[3]?.toLowerCase() === skipUntil && m[2] === '/') skipUntil = undefined;
      continue;
    }
    if (m[1] !== undefined) {
      pushMarkers(m[1]);
    } else if (m[3] !== undefined) {
      const name = m[3].toLowerCase();
      if (name === 'style' && m[2] !== '/') {
        skipUntil = 'style';
        continue;
      }
      if (SKIPPED_TAGS.has(name) || name === 'style') continue;
      if (m[2] === '/') {
        items.push(`</${name}>`);
        continue;
      }
      const attributes = [...(m[4] ?? '').matchAll(/([^\s=/"'>]+)(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+))?/g)]
        .map((x) => x[1]!.toLowerCase())
        .filter((x) => x !== 'style')
        .sort();
      items.push(`<${name} ${attributes.join(' ')}>`);
      pushMarkers(m[4] ?? '');
    } else {
      pushText(m[5] ?? m[0]);
    }
  }
  return items;
}
