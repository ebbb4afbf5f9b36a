import type { BounceReason } from '../core/classification.types.js';

/**
 * Matches reply text against the reason patterns without running every pattern on every text.
 *
 * Each pattern is split into its top-level alternatives. For every alternative the literal words it
 * cannot match without are known; those that begin (or end) a word in any matching text, because a
 * non-word character or `\b` stands before (after) them in the pattern, let the alternative be indexed
 * under the first (last) three letters of that word. A text is cut into words once; the words select
 * the few alternatives that can match; each of those is checked with `indexOf` for all its literal
 * words and only then run, in reason order. Alternatives with no such word are checked every time
 * (cheaply, by `indexOf`, when they have any literal word).
 */
export class ReasonMatcher {
  private readonly res: RegExp[] = [];
  private readonly reasons: BounceReason[] = [];
  private readonly priority: number[] = [];
  private readonly needs: string[][] = [];
  /** Keyed by the first (last) three characters of a word, packed into one integer. */
  private readonly byPrefix = new Map<number, number[]>();
  private readonly bySuffix = new Map<number, number[]>();
  private readonly always: number[] = [];
  /** Plain-word alternatives that cannot be indexed, found together by one regex pass. */
  private readonly plain: RegExp | undefined;
  private readonly plainIds = new Map<string, number[]>();
  private readonly mark: Uint8Array;

  constructor(table: ReadonlyArray<readonly [BounceReason, string]>) {
    const alternatives: { reason: BounceReason; rank: number; source: string; lits: Literal[] }[] = [];
    const frequency = new Map<string, number>();
    table.forEach(([reason, source], rank) => {
      for (const alt of splitAlternatives(source)) {
        const lits = literalWords(alt);
        for (const l of lits) {
          if (l.before) frequency.set(`p${l.word.slice(0, 3)}`, (frequency.get(`p${l.word.slice(0, 3)}`) ?? 0) + 1);
          if (l.after) frequency.set(`s${l.word.slice(-3)}`, (frequency.get(`s${l.word.slice(-3)}`) ?? 0) + 1);
        }
        alternatives.push({ reason, rank, source: alt, lits });
      }
    });
    for (const a of alternatives) {
      const id = this.res.length;
      this.res.push(new RegExp(a.source));
      this.reasons.push(a.reason);
      this.priority.push(a.rank);
      this.needs.push(a.lits.map((l) => l.word));
      let key: string | undefined;
      for (const l of a.lits) {
        for (const k of [l.before ? `p${l.word.slice(0, 3)}` : undefined, l.after ? `s${l.word.slice(-3)}` : undefined]) {
          if (k !== undefined && (key === undefined || frequency.get(k)! < frequency.get(key)!)) key = k;
        }
      }
      if (key === undefined && /^[a-z0-9]+$/.test(a.source)) {
        const list = this.plainIds.get(a.source);
        if (list) list.push(id);
        else this.plainIds.set(a.source, [id]);
      } else if (key === undefined) this.always.push(id);
      else {
        const map = key[0] === 'p' ? this.byPrefix : this.bySuffix;
        const packed = pack(key, 1);
        const list = map.get(packed);
        if (list) list.push(id);
        else map.set(packed, [id]);
      }
    }
    // Longest first, and a word contained in another one is checked on its own, so no match hides another.
    const words = [...this.plainIds.keys()].sort((x, y) => y.length - x.length);
    const nested = words.filter((w) => words.some((o) => o !== w && o.includes(w)));
    for (const w of nested) {
      this.always.push(...this.plainIds.get(w)!);
      this.plainIds.delete(w);
    }
    this.always.sort((x, y) => x - y);
    const rest = words.filter((w) => !nested.includes(w));
    this.plain = rest.length > 0 ? new RegExp(rest.join('|'), 'g') : undefined;
    this.mark = new Uint8Array(this.res.length);
  }

  /**
   * Calls `accept` with each matching reason in priority order until it returns a reason; returns that
   * reason, or undefined. `text` must be lower case with white space collapsed.
   */
  find(text: string, accept: (reason: BounceReason) => BounceReason | undefined): BounceReason | undefined {
    const mark = this.mark;
    let lo = mark.length;
    let hi = -1;
    for (const id of this.always) {
      mark[id] = 1;
      if (id < lo) lo = id;
      if (id > hi) hi = id;
    }
    if (this.plain !== undefined) {
      const re = this.plain;
      re.lastIndex = 0;
      for (let m = re.exec(text); m !== null; m = re.exec(text)) {
        for (const id of this.plainIds.get(m[0])!) {
          mark[id] = 1;
          if (id < lo) lo = id;
          if (id > hi) hi = id;
        }
      }
    }
    let start = -1;
    const n = text.length;
    for (let i = 0; i <= n; i++) {
      const c = i < n ? text.charCodeAt(i) : 32;
      if ((c >= 97 && c <= 122) || (c >= 48 && c <= 57)) {
        if (start < 0) start = i;
        continue;
      }
      if (start >= 0) {
        if (i - start >= 3) {
          const p = this.byPrefix.get(pack(text, start));
          if (p !== undefined) {
            for (const id of p) {
              mark[id] = 1;
              if (id < lo) lo = id;
              if (id > hi) hi = id;
            }
          }
          const s = this.bySuffix.get(pack(text, i - 3));
          if (s !== undefined) {
            for (const id of s) {
              mark[id] = 1;
              if (id < lo) lo = id;
              if (id > hi) hi = id;
            }
          }
        }
        start = -1;
      }
    }
    // Alternatives are numbered in reason order, so scanning the marks in order is priority order.
    let result: BounceReason | undefined;
    let rejectedRank = -1;
    for (let id = lo; id <= hi; id++) {
      if (mark[id] === 0) continue;
      mark[id] = 0;
      if (result !== undefined) continue;
      const rank = this.priority[id]!;
      if (rank === rejectedRank) continue;
      const needs = this.needs[id]!;
      let missing = false;
      for (let k = 0; k < needs.length; k++) {
        if (text.indexOf(needs[k]!) < 0) {
          missing = true;
          break;
        }
      }
      if (missing || !this.res[id]!.test(text)) continue;
      const r = accept(this.reasons[id]!);
      if (r !== undefined) result = r;
      else rejectedRank = rank;
    }
    return result;
  }
}

function pack(s: string, at: number): number {
  return (s.charCodeAt(at) << 16) | (s.charCodeAt(at + 1) << 8) | s.charCodeAt(at + 2);
}

function isWordCode(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || (c >= 65 && c <= 90);
}

interface Literal {
  word: string;
  /** A non-word character (or \b) necessarily precedes the word in a matching text. */
  before: boolean;
  /** A non-word character (or \b) necessarily follows it. */
  after: boolean;
}

/** Splits a pattern at its top-level `|`. */
export function splitAlternatives(source: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let inClass = false;
  let from = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) {
      out.push(source.slice(from, i));
      from = i + 1;
    }
  }
  out.push(source.slice(from));
  return out;
}

const QUANTIFIER = new Set(['?', '*', '+', '{']);

/**
 * The literal words (3+ of [a-z0-9], top level, last letter not optional) of one alternative: every
 * text the alternative matches contains each of them.
 */
export function literalWords(alt: string): Literal[] {
  const out: Literal[] = [];
  let depth = 0;
  let inClass = false;
  let i = 0;
  // Is the character just before the current position a literal non-word character, or \b?
  let boundary = false;
  while (i < alt.length) {
    const c = alt[i]!;
    if (inClass) {
      if (c === '\\') i++;
      else if (c === ']') inClass = false;
      i++;
      boundary = false;
      continue;
    }
    if (c === '\\') {
      const next = alt[i + 1] ?? '';
      boundary = depth === 0 && (next === 'b' || !/\w/.test(next)) && !QUANTIFIER.has(alt[i + 2] ?? '');
      i += 2;
      continue;
    }
    if (c === '[' || c === '(' || c === ')') {
      if (c === '[') inClass = true;
      else if (c === '(') depth++;
      else depth--;
      boundary = false;
      i++;
      continue;
    }
    if (depth > 0) {
      i++;
      continue;
    }
    if (isWordCode(c.charCodeAt(0))) {
      let j = i;
      while (j < alt.length && isWordCode(alt.charCodeAt(j))) j++;
      let word = alt.slice(i, j);
      const after = alt[j];
      if (after !== undefined && QUANTIFIER.has(after)) word = word.slice(0, -1);
      const afterLiteral = after === '\\' ? alt[j + 1] === 'b' || !/\w/.test(alt[j + 1] ?? '') : after !== undefined && !QUANTIFIER.has(after) && !'([.|^$'.includes(after);
      const optionalAfter = after !== undefined && QUANTIFIER.has(alt[after === '\\' ? j + 2 : j + 1] ?? '');
      if (word.length >= 3) {
        out.push({ word, before: boundary, after: word.length === j - i && afterLiteral && !optionalAfter });
      }
      boundary = false;
      i = j;
      continue;
    }
    boundary = !QUANTIFIER.has(c) && !'.^$|'.includes(c) && !QUANTIFIER.has(alt[i + 1] ?? '');
    i++;
  }
  return out;
}
