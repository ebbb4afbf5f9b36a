import type { BounceReason } from '../core/classification.types.js';

/**
 * Matches reply text against the reason patterns without running every pattern on every text.
 *
 * Each pattern is split into its top-level alternatives. For every alternative the literal words it
 * cannot match without are known; those that begin (or end) a word in any matching text, because a
 * non-word character or `\b` stands before (after) them in the pattern, let the alternative be indexed
 * under the first (last) four letters of that word (three for a three-letter word), choosing the word
 * least shared with other alternatives and not one most replies contain. A text is cut into words once;
 * the words select the few alternatives that can match; each of those is checked for all its literal
 * words (a whole word against the set of the text's words, part of a word with `indexOf`) and only then
 * run, in reason order. Alternatives with no such word are checked every time (cheaply, by `indexOf`,
 * when they have any literal word).
 */
export class ReasonMatcher {
  private readonly res: RegExp[] = [];
  private readonly reasons: BounceReason[] = [];
  private readonly priority: number[] = [];
  private readonly needs: string[][] = [];
  /** Per need: the hash of a whole word (a word bounded on both sides), or -1 for part of a word. */
  private readonly needHashes: number[][] = [];
  /** Hashes of the current text's words, one bit each, and which bits to clear after the call. */
  private readonly words = new Uint8Array(WORD_BITS);
  private readonly wordsSet = new Int32Array(1024);
  private wordCount = 0;
  /** Keyed by the first (last) four or three characters of a word, packed into one integer (see `pack`). */
  private readonly byPrefix = new Map<number, number[]>();
  private readonly bySuffix = new Map<number, number[]>();
  private readonly always: number[] = [];
  /** Plain-word alternatives that cannot be indexed, found together by one regex pass. */
  private readonly plain: RegExp | undefined;
  private readonly plainIds = new Map<string, number[]>();
  private readonly mark: Uint8Array;
  /** One bit per hashed key of both maps: most words of a text are in neither, and this says so cheaply. */
  private readonly seen = new Uint8Array(BLOOM_SIZE);
  /** Candidate ids of the current call (reused, so a call allocates nothing). */
  private readonly cand: Int32Array;

  constructor(table: ReadonlyArray<readonly [BounceReason, string]>) {
    const alternatives: { reason: BounceReason; rank: number; source: string; lits: Literal[] }[] = [];
    const frequency = new Map<string, number>();
    table.forEach(([reason, source], rank) => {
      for (const alt of splitAlternatives(source)) {
        const lits = literalWords(alt);
        for (const l of lits) {
          if (l.before) frequency.set(prefixKey(l.word), (frequency.get(prefixKey(l.word)) ?? 0) + 1);
          if (l.after) frequency.set(suffixKey(l.word), (frequency.get(suffixKey(l.word)) ?? 0) + 1);
        }
        alternatives.push({ reason, rank, source: alt, lits });
      }
    });
    // A key that most replies contain selects its alternatives for nearly every text: prefer any other.
    const cost = (k: string): number => frequency.get(k)! + (COMMON_KEYS.has(k) ? 1000 : 0);
    for (const a of alternatives) {
      const id = this.res.length;
      this.res.push(new RegExp(a.source));
      this.reasons.push(a.reason);
      this.priority.push(a.rank);
      // Longest first: a long word is the least likely to occur, so it rules an alternative out soonest.
      const lits = [...a.lits].sort((x, y) => y.word.length - x.word.length);
      this.needs.push(lits.map((l) => l.word));
      this.needHashes.push(lits.map((l) => (l.before && l.after ? wordHash(l.word, 0, l.word.length) : -1)));
      let key: string | undefined;
      for (const l of a.lits) {
        for (const k of [l.before ? prefixKey(l.word) : undefined, l.after ? suffixKey(l.word) : undefined]) {
          if (k !== undefined && (key === undefined || cost(k) < cost(key))) key = k;
        }
      }
      if (key === undefined && /^[a-z0-9]+$/.test(a.source)) {
        const list = this.plainIds.get(a.source);
        if (list) list.push(id);
        else this.plainIds.set(a.source, [id]);
      } else if (key === undefined) this.always.push(id);
      else {
        const map = key[0] === 'p' ? this.byPrefix : this.bySuffix;
        const packed = pack(key, 1, key.length - 1);
        this.seen[bloom(packed)] = 1;
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
    this.cand = new Int32Array(this.res.length);
  }

  /**
   * Calls `accept` with each matching reason in priority order until it returns a reason; returns that
   * reason, or undefined. `text` must be lower case with white space collapsed.
   */
  /** Notes a word of the text that ends here (its hash, its keys) and collects what its keys select. */
  private wordEnd(len: number, h: number, first3: number, first4: number, last: number, count: number): number {
    const bit = h >>> WORD_SHIFT;
    const words = this.words;
    if (words[bit] === 0 && this.wordCount < this.wordsSet.length) {
      words[bit] = 1;
      this.wordsSet[this.wordCount++] = bit;
    }
    if (len < 3) return count;
    const seen = this.seen;
    if (seen[bloom(first3)] === 1) count = this.collect(this.byPrefix.get(first3), count);
    let k = last & 0x1fffff;
    if (seen[bloom(k)] === 1) count = this.collect(this.bySuffix.get(k), count);
    if (len >= 4) {
      if (seen[bloom(first4)] === 1) count = this.collect(this.byPrefix.get(first4), count);
      k = last;
      if (seen[bloom(k)] === 1) count = this.collect(this.bySuffix.get(k), count);
    }
    return count;
  }

  private collect(ids: number[] | undefined, count: number): number {
    if (ids === undefined) return count;
    const mark = this.mark;
    const cand = this.cand;
    for (let k = 0; k < ids.length; k++) {
      const id = ids[k]!;
      if (mark[id] === 0) {
        mark[id] = 1;
        cand[count++] = id;
      }
    }
    return count;
  }

  find(text: string, accept: (reason: BounceReason) => BounceReason | undefined): BounceReason | undefined {
    const mark = this.mark;
    const cand = this.cand;
    let count = 0;
    for (const id of this.always) {
      mark[id] = 1;
      cand[count++] = id;
    }
    if (this.plain !== undefined) {
      const re = this.plain;
      re.lastIndex = 0;
      for (let m = re.exec(text); m !== null; m = re.exec(text)) {
        for (const id of this.plainIds.get(m[0])!) {
          if (mark[id] === 0) {
            mark[id] = 1;
            cand[count++] = id;
          }
        }
      }
    }
    const n = text.length;
    const words = this.words;
    const wordsSet = this.wordsSet;
    this.wordCount = 0;
    let h = 0;
    let len = 0;
    // The keys are built as the characters go by: the last four characters packed (see `pack`), and
    // the first three and four of the current word once it has them.
    let last = 0;
    let first3 = 0;
    let first4 = 0;
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      if ((c >= 97 && c <= 122) || (c >= 48 && c <= 57)) {
        if (len === 0) h = WORD_SEED;
        h = Math.imul(h ^ c, WORD_PRIME);
        last = ((last << 7) | c) & 0xfffffff;
        len++;
        if (len === 3) first3 = last & 0x1fffff;
        else if (len === 4) first4 = last;
        continue;
      }
      if (len > 0) {
        count = this.wordEnd(len, h, first3, first4, last, count);
        len = 0;
      }
    }
    if (len > 0) count = this.wordEnd(len, h, first3, first4, last, count);
    // Alternatives are numbered in reason order, so ascending ids are priority order. The candidates
    // are few (tens), so an insertion sort is the cheapest.
    for (let i = 1; i < count; i++) {
      const v = cand[i]!;
      let j = i - 1;
      while (j >= 0 && cand[j]! > v) {
        cand[j + 1] = cand[j]!;
        j--;
      }
      cand[j + 1] = v;
    }
    let result: BounceReason | undefined;
    let rejectedRank = -1;
    for (let c = 0; c < count; c++) {
      const id = cand[c]!;
      mark[id] = 0;
      if (result !== undefined) continue;
      const rank = this.priority[id]!;
      if (rank === rejectedRank) continue;
      const needs = this.needs[id]!;
      const hashes = this.needHashes[id]!;
      let missing = false;
      for (let k = 0; k < needs.length; k++) {
        // A whole word is looked up among the text's words (a hash collision only costs the regex run);
        // part of a word is searched for.
        const wh = hashes[k]!;
        if (wh >= 0 ? words[wh] === 0 : text.indexOf(needs[k]!) < 0) {
          missing = true;
          break;
        }
      }
      if (missing || !this.res[id]!.test(text)) continue;
      const r = accept(this.reasons[id]!);
      if (r !== undefined) result = r;
      else rejectedRank = rank;
    }
    const wordCount = this.wordCount;
    for (let k = 0; k < wordCount; k++) words[wordsSet[k]!] = 0;
    if (wordCount === wordsSet.length) words.fill(0);
    return result;
  }
}

const BLOOM_SIZE = 1 << 14;

function bloom(packed: number): number {
  return Math.imul(packed, 0x9e3779b1) >>> 18;
}

const WORD_BITS = 1 << 16;
const WORD_SHIFT = 16;
const WORD_SEED = 0x811c9dc5 | 0;
const WORD_PRIME = 0x01000193;

/** FNV-1a of a word, reduced to WORD_BITS (the same fold as in `find`'s scan). */
function wordHash(s: string, from: number, to: number): number {
  let h = WORD_SEED;
  for (let i = from; i < to; i++) h = Math.imul(h ^ s.charCodeAt(i), WORD_PRIME);
  return h >>> WORD_SHIFT;
}

/** Words found in most SMTP replies and bounce texts, whatever the cause. */
const COMMON_WORDS = [
  'recipient', 'address', 'mail', 'email', 'message', 'user', 'the', 'not', 'sender', 'delivery', 'server', 'rejected',
  'please', 'domain', 'account', 'mailbox', 'from', 'your', 'this', 'that', 'with', 'for', 'error', 'host', 'smtp',
  'try', 'again', 'later', 'service', 'see', 'more', 'information', 'has', 'been', 'was', 'are', 'you', 'our',
  'remote', 'connection', 'because', 'permanent', 'temporary', 'failed', 'requested', 'action', 'taken', 'reply',
];
const COMMON_KEYS = new Set(COMMON_WORDS.flatMap((w) => [prefixKey(w), suffixKey(w)]));

/**
 * Three or four word characters (all below 128) packed seven bits each into one integer below 2^28, so
 * that it stays a small integer for V8 (a larger key would be a heap number and allocate on each map
 * lookup). A four-character key is at least 48·2^21 and a three-character one below 2^21: they never
 * collide.
 */
function pack(s: string, at: number, len: 3 | 4 | number): number {
  const three = (s.charCodeAt(at) << 14) | (s.charCodeAt(at + 1) << 7) | s.charCodeAt(at + 2);
  return len === 3 ? three : (three << 7) | s.charCodeAt(at + 3);
}

/** Index key of a word a matching text has a word starting with: its first four (or three) letters. */
function prefixKey(word: string): string {
  return `p${word.slice(0, Math.min(4, word.length))}`;
}

/** Index key of a word a matching text has a word ending with: its last four (or three) letters. */
function suffixKey(word: string): string {
  return `s${word.slice(-Math.min(4, word.length))}`;
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
