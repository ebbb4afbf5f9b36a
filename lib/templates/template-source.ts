import Handlebars from 'handlebars';

/**
 * A Handlebars source cut into the literal text Handlebars copies to the output (`contents`) and
 * the Handlebars syntax between those pieces (`gaps`). `contents.length === gaps.length + 1`;
 * joining them alternately gives the source back unchanged.
 */
export interface SplitSource {
  contents: string[];
  gaps: string[];
}

export function lineOffsets(source: string): number[] {
  const offsets = [0];
  for (let i = source.indexOf('\n'); i !== -1; i = source.indexOf('\n', i + 1)) offsets.push(i + 1);
  return offsets;
}

export function offsetOf(offsets: number[], position: hbs.AST.Position): number {
  return (offsets[position.line - 1] ?? 0) + position.column;
}

/** Throws Handlebars' own parse error when the source does not parse. */
export function splitSource(source: string): SplitSource {
  const ast = Handlebars.parseWithoutProcessing(source);
  const offsets = lineOffsets(source);
  const ranges: Array<[number, number]> = [];
  class ContentCollector extends Handlebars.Visitor {
    override ContentStatement(node: hbs.AST.ContentStatement): void {
      ranges.push([offsetOf(offsets, node.loc.start), offsetOf(offsets, node.loc.end)]);
    }
  }
  new ContentCollector().accept(ast);
  ranges.sort((a, b) => a[0] - b[0]);

  const contents: string[] = [];
  const gaps: string[] = [];
  let cursor = 0;
  let pending = '';
  for (const [start, end] of ranges) {
    if (start > cursor) {
      contents.push(pending);
      gaps.push(source.slice(cursor, start));
      pending = '';
    }
    pending += source.slice(Math.max(start, cursor), end);
    cursor = Math.max(cursor, end);
  }
  if (cursor < source.length) {
    contents.push(pending);
    gaps.push(source.slice(cursor));
    pending = '';
  }
  contents.push(pending);
  return { contents, gaps };
}

export function joinSource(contents: readonly string[], gaps: readonly string[]): string {
  let out = contents[0] ?? '';
  for (let i = 0; i < gaps.length; i++) out += gaps[i] + (contents[i + 1] ?? '');
  return out;
}

/** What the Handlebars tags inside one gap do. */
export interface GapTags {
  /** Block openers minus closers (`{{#x}}`, `{{^x}}` open; `{{/x}}` closes). */
  balance: number;
  /** Never went below zero while reading the gap from left to right. */
  lowest: number;
  /** Contains a tag that writes something (`{{x}}`, `{{{x}}}`, `{{> p}}`, a helper call). */
  writes: boolean;
  /** Contains `{{{x}}}` or `{{& x}}`: HTML that is not escaped. */
  rawOutput: boolean;
}

const TAG = /\{\{!--[\s\S]*?--\}\}|\{\{![\s\S]*?\}\}|\{\{\{\{[\s\S]*?\}\}\}\}|\{\{\{[\s\S]*?\}\}\}|\{\{[\s\S]*?\}\}/g;

export function readGapTags(gap: string): GapTags {
  let balance = 0;
  let lowest = 0;
  let writes = false;
  let rawOutput = false;
  for (const match of gap.matchAll(TAG)) {
    const tag = match[0];
    if (tag.startsWith('{{!')) continue;
    if (tag.startsWith('{{{{')) {
      // raw block delimiters: `{{{{x}}}}` opens, `{{{{/x}}}}` closes
      balance += tag.startsWith('{{{{/') ? -1 : 1;
      lowest = Math.min(lowest, balance);
      continue;
    }
    if (tag.startsWith('{{{')) {
      writes = true;
      rawOutput = true;
      continue;
    }
    const inner = tag.slice(2, -2).replace(/^~/, '').replace(/~$/, '').trim();
    if (inner.startsWith('#') || (inner.startsWith('^') && inner.length > 1)) {
      balance++;
      if (inner.startsWith('#>')) writes = true;
    } else if (inner.startsWith('/')) {
      balance--;
      lowest = Math.min(lowest, balance);
    } else if (inner === '^' || /^else\b/.test(inner)) {
      // an inverse section separator stays inside the block it belongs to
      lowest = Math.min(lowest, balance - 1);
    } else {
      writes = true;
      if (inner.startsWith('&')) rawOutput = true;
    }
  }
  return { balance, lowest, writes, rawOutput };
}

/** Where a gap sits in the HTML around it. */
export type GapContext =
  | { kind: 'text'; inOrderedList: boolean }
  /** Inside `<title>` or `<textarea>`: text, but no markup. */
  | { kind: 'rcdata'; element: string; region: number }
  /** Inside `<style>` or `<script>`. */
  | { kind: 'rawtext'; element: string; region: number }
  | { kind: 'comment'; region: number }
  | { kind: 'attribute-value'; element: string; attribute: string; region: number }
  /** In a tag where a tag name or an attribute name would be. */
  | { kind: 'tag'; element: string; region: number };

type State =
  | 'text'
  | 'tag-name'
  | 'in-tag'
  | 'attribute-name'
  | 'before-value'
  | 'value-dq'
  | 'value-sq'
  | 'value-unquoted'
  | 'comment'
  | 'declaration'
  | 'raw';

const RAW_ELEMENTS = new Set(['style', 'script', 'title', 'textarea']);
const NAME_CHAR = /[A-Za-z0-9_:.-]/;

/**
 * A small HTML lexer that is only precise enough to say where each gap sits: in text, inside a
 * tag, in which attribute value, or inside an element whose content is not markup.
 */
export function classifyGaps(contents: readonly string[]): GapContext[] {
  let state: State = 'text';
  let element = '';
  let endTag = false;
  let attribute = '';
  let region = 0;
  let rawRegion = 0;
  let orderedLists = 0;
  const contexts: GapContext[] = [];

  const finishTag = (): void => {
    if (!endTag && RAW_ELEMENTS.has(element)) {
      state = 'raw';
      rawRegion = region;
    } else {
      state = 'text';
    }
    if (element === 'ol') orderedLists += endTag ? -1 : 1;
    if (orderedLists < 0) orderedLists = 0;
  };

  for (let c = 0; c < contents.length; c++) {
    const chunk = contents[c]!;
    let i = 0;
    while (i < chunk.length) {
      const ch = chunk[i]!;
      switch (state as State) {
        case 'text': {
          const next = chunk.indexOf('<', i);
          if (next === -1) {
            i = chunk.length;
            break;
          }
          i = next;
          if (chunk.startsWith('<!--', i)) {
            state = 'comment';
            region++;
            i += 4;
          } else if (chunk[i + 1] === '!' || chunk[i + 1] === '?') {
            state = 'declaration';
            i += 2;
          } else if (chunk[i + 1] === '/' && /[A-Za-z]/.test(chunk[i + 2] ?? '')) {
            endTag = true;
            element = '';
            region++;
            state = 'tag-name';
            i += 2;
          } else if (/[A-Za-z]/.test(chunk[i + 1] ?? '')) {
            endTag = false;
            element = '';
            region++;
            state = 'tag-name';
            i += 1;
          } else if (i + 1 === chunk.length) {
            // `<` right before a gap: the tag name itself is dynamic
            endTag = false;
            element = '';
            region++;
            state = 'tag-name';
            i += 1;
          } else {
            i += 1;
          }
          break;
        }
        case 'tag-name':
          if (NAME_CHAR.test(ch)) {
            element += ch.toLowerCase();
            i++;
          } else {
            state = 'in-tag';
          }
          break;
        case 'in-tag':
          if (ch === '>') {
            i++;
            finishTag();
          } else if (/\s|\//.test(ch)) {
            i++;
          } else {
            attribute = '';
            state = 'attribute-name';
          }
          break;
        case 'attribute-name':
          if (ch === '=') {
            state = 'before-value';
            i++;
          } else if (ch === '>' || /\s|\//.test(ch)) {
            state = 'in-tag';
          } else {
            attribute += ch.toLowerCase();
            i++;
          }
          break;
        case 'before-value':
          if (ch === '"') {
            state = 'value-dq';
            i++;
          } else if (ch === "'") {
            state = 'value-sq';
            i++;
          } else if (/\s/.test(ch)) {
            i++;
          } else {
            state = 'value-unquoted';
          }
          break;
        case 'value-dq':
        case 'value-sq': {
          const close = chunk.indexOf(state === 'value-dq' ? '"' : "'", i);
          if (close === -1) {
            i = chunk.length;
          } else {
            i = close + 1;
            state = 'in-tag';
          }
          break;
        }
        case 'value-unquoted':
          if (ch === '>') {
            state = 'in-tag';
          } else if (/\s/.test(ch)) {
            state = 'in-tag';
            i++;
          } else {
            i++;
          }
          break;
        case 'comment': {
          const close = chunk.indexOf('-->', i);
          if (close === -1) {
            i = chunk.length;
          } else {
            i = close + 3;
            state = 'text';
          }
          break;
        }
        case 'declaration': {
          const close = chunk.indexOf('>', i);
          if (close === -1) {
            i = chunk.length;
          } else {
            i = close + 1;
            state = 'text';
          }
          break;
        }
        case 'raw': {
          const lower = chunk.toLowerCase();
          const close = lower.indexOf(`</${element}`, i);
          if (close === -1) {
            i = chunk.length;
          } else {
            i = close + 2;
            endTag = true;
            region++;
            state = 'tag-name';
            element = '';
          }
          break;
        }
      }
    }
    if (c === contents.length - 1) break;
    switch (state as State) {
      case 'text':
        contexts.push({ kind: 'text', inOrderedList: orderedLists > 0 });
        break;
      case 'raw':
        contexts.push(
          element === 'title' || element === 'textarea'
            ? { kind: 'rcdata', element, region: rawRegion }
            : { kind: 'rawtext', element, region: rawRegion },
        );
        break;
      case 'comment':
      case 'declaration':
        contexts.push({ kind: 'comment', region });
        break;
      case 'before-value':
        state = 'value-unquoted';
        contexts.push({ kind: 'attribute-value', element, attribute, region });
        break;
      case 'value-dq':
      case 'value-sq':
      case 'value-unquoted':
        contexts.push({ kind: 'attribute-value', element, attribute, region });
        break;
      default:
        contexts.push({ kind: 'tag', element, region });
    }
  }
  return contexts;
}
