import type { BounceReason } from '../core/classification.types.js';

/**
 * Matches reply text against the reason patterns without running every pattern on every text.
 *
 * Each pattern is split into its top-level alternatives. For every alternative the literal words it
 * cannot match without are known; those that begin (or end) a word in any matching text, because a
 * non-word character or `\b` stands before (after) them in the pattern, let the alternative be indexed
 * under the first (last) five letters of that word (all of a shorter one, down to three), choosing the word
 * least shared with other alternatives and not one most replies contain. A text is cut into words once;
 * the words select the few alternatives that can match; each of those is checked for all its literal
 * words (a whole word against the set of the text's words, part of a word with `indexOf`) and only then
 * run, in reason order. An alternative that is one plain word (`spamhaus`) is keyed by its first four
 * letters and looked for at every position of the scan; the few with no usable word are checked every
 * time.
 */
export class ReasonMatcher {
  private readonly res: RegExp[] = [];
  private readonly reasons: BounceReason[] = [];
  private readonly priority: number[] = [];
  private readonly needs: string[][] = [];
  /** Per need: the hash of a whole word (a word bounded on both sides), or -1 for part of a word. */
  private readonly needHashes: number[][] = [];
  /** Hashes of the current text's words, one bit each, and which 32-bit words to clear after the call. */
  private readonly words = new Int32Array(WORD_BITS >>> 5);
  private readonly wordsSet = new Int32Array(1024);
  private wordCount = 0;
  /** Keyed by the first (last) five, four or three characters of a word, packed into one integer (see `pack`). */
  private readonly byPrefix = new Map<number, number[]>();
  private readonly bySuffix = new Map<number, number[]>();
  private readonly always: number[] = [];
  /**
   * Plain-word alternatives (`spamhaus`, `throttl`): they match anywhere inside a word, so they are
   * keyed by their first four characters and looked for at every position of the scan, behind a bloom
   * filter of those keys.
   */
  private readonly plainByKey = new Map<number, { word: string; ids: number[] }[]>();
  private readonly plainSeen = new Int32Array(BLOOM_SIZE >>> 5);
  /** Candidate alternatives of the current call, one bit per id: reading the set bits gives them in id order. */
  private readonly candBits: Int32Array;
  private readonly alwaysBits: Int32Array;
  /** One bit per hashed key of both maps: most words of a text are in neither, and this says so cheaply. */
  private readonly seen = new Int32Array(BLOOM_SIZE >>> 5);

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
    const plainIds = new Map<string, number[]>();
    for (const a of alternatives) {
      const id = this.res.length;
      this.res.push(new RegExp(a.source));
      this.reasons.push(a.reason);
      this.priority.push(a.rank);
      // Whole words first (a lookup in the text's words costs less than a search), then longest first:
      // a long word is the least likely to occur, so it rules an alternative out soonest.
      const whole = (l: Literal): number => (l.before && l.after ? 1 : 0);
      const lits = [...a.lits].sort((x, y) => whole(y) - whole(x) || y.word.length - x.word.length);
      this.needs.push(lits.map((l) => l.word));
      this.needHashes.push(lits.map((l) => (l.before && l.after ? wordHash(l.word, 0, l.word.length) : -1)));
      let key: string | undefined;
      for (const l of a.lits) {
        for (const k of [l.before ? prefixKey(l.word) : undefined, l.after ? suffixKey(l.word) : undefined]) {
          if (k !== undefined && (key === undefined || cost(k) < cost(key))) key = k;
        }
      }
      if (key === undefined && /^[a-z0-9]+$/.test(a.source)) {
        const list = plainIds.get(a.source);
        if (list) list.push(id);
        else plainIds.set(a.source, [id]);
      } else if (key === undefined) this.always.push(id);
      else {
        const map = key[0] === 'p' ? this.byPrefix : this.bySuffix;
        const packed = pack(key, 1, key.length - 1);
        setBit(this.seen, bloom(packed));
        const list = map.get(packed);
        if (list) list.push(id);
        else map.set(packed, [id]);
      }
    }
    // Every position of the text is looked at, so a word inside another one is found as well. Found
    // there, the word needs no further check.
    for (const [w, ids] of plainIds) {
      for (const id of ids) {
        this.needs[id] = [];
        this.needHashes[id] = [];
      }
      if (w.length < 4) {
        this.always.push(...ids);
        continue;
      }
      const packed = pack(w, 0, 4);
      setBit(this.plainSeen, bloom(packed));
      const list = this.plainByKey.get(packed);
      if (list) list.push({ word: w, ids });
      else this.plainByKey.set(packed, [{ word: w, ids }]);
    }
    this.always.sort((x, y) => x - y);
    this.candBits = new Int32Array((this.res.length + 31) >>> 5);
    this.alwaysBits = new Int32Array(this.candBits.length);
    for (const id of this.always) this.alwaysBits[id >>> 5]! |= 1 << (id & 31);
  }

  /**
   * Calls `accept` with each matching reason in priority order until it returns a reason; returns that
   * reason, or undefined. `text` must be lower case with white space collapsed.
   */
  /** Notes a word of the text that ends here (its hash, its keys) and collects what its keys select. */
  private wordEnd(len: number, h: number, first3: number, first4: number, first5: number, last: number): void {
    const bit = h >>> WORD_SHIFT;
    const words = this.words;
    const at = bit >>> 5;
    const v = words[at]!;
    if (v === 0 && this.wordCount < this.wordsSet.length) this.wordsSet[this.wordCount++] = at;
    words[at] = v | (1 << (bit & 31));
    if (len < 3) return;
    const seen = this.seen;
    if (hasBit(seen, bloom(first3))) this.collect(this.byPrefix.get(first3));
    let k = last & KEY3;
    if (hasBit(seen, bloom(k))) this.collect(this.bySuffix.get(k));
    if (len >= 4) {
      if (hasBit(seen, bloom(first4))) this.collect(this.byPrefix.get(first4));
      k = last & KEY4;
      if (hasBit(seen, bloom(k))) this.collect(this.bySuffix.get(k));
      if (len >= 5) {
        if (hasBit(seen, bloom(first5))) this.collect(this.byPrefix.get(first5));
        if (hasBit(seen, bloom(last))) this.collect(this.bySuffix.get(last));
      }
    }
  }

  /** Collects the plain words whose first four characters are `packed` and that start at `at`. */
  private plainAt(text: string, at: number, packed: number): void {
    const list = this.plainByKey.get(packed);
    if (list === undefined) return;
    for (let k = 0; k < list.length; k++) {
      const e = list[k]!;
      if (text.startsWith(e.word, at)) this.collect(e.ids);
    }
  }

  private collect(ids: number[] | undefined): void {
    if (ids === undefined) return;
    const bits = this.candBits;
    for (let k = 0; k < ids.length; k++) {
      const id = ids[k]!;
      bits[id >>> 5] |= 1 << (id & 31);
    }
  }

  find(text: string, accept: (reason: BounceReason) => BounceReason | undefined): BounceReason | undefined {
    const bits = this.candBits;
    bits.set(this.alwaysBits);
    const n = text.length;
    const plainSeen = this.plainSeen;
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
    let first5 = 0;
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      const code = c >= 97 && c <= 122 ? c - 96 : c >= 48 && c <= 57 ? c - 21 : 0;
      if (code !== 0) {
        if (len === 0) h = WORD_SEED;
        h = Math.imul(h ^ c, WORD_PRIME);
        last = ((last << 6) | code) & KEY5;
        len++;
        if (len === 3) first3 = last & KEY3;
        else if (len >= 4) {
          const four = last & KEY4;
          if (len === 4) first4 = four;
          else if (len === 5) first5 = last;
          if (hasBit(plainSeen, bloom(four))) this.plainAt(text, i - 3, four);
        }
        continue;
      }
      if (len > 0) {
        this.wordEnd(len, h, first3, first4, first5, last);
        len = 0;
      }
    }
    if (len > 0) this.wordEnd(len, h, first3, first4, first5, last);
    // Alternatives are numbered in reason order, so the set bits read from the lowest up are the
    // candidates in priority order.
    let result: BounceReason | undefined;
    let rejectedRank = -1;
    for (let w = 0; w < bits.length && result === undefined; w++) {
      let v = bits[w]!;
      if (v === 0) continue;
      bits[w] = 0;
      while (v !== 0) {
        const low = v & -v;
        v ^= low;
        const id = (w << 5) + 31 - Math.clz32(low);
        const rank = this.priority[id]!;
        if (rank === rejectedRank) continue;
        const needs = this.needs[id]!;
        const hashes = this.needHashes[id]!;
        let missing = false;
        for (let k = 0; k < needs.length; k++) {
          // A whole word is looked up among the text's words (a hash collision only costs the regex
          // run); part of a word is searched for.
          const wh = hashes[k]!;
          if (wh >= 0 ? !hasBit(words, wh) : text.indexOf(needs[k]!) < 0) {
            missing = true;
            break;
          }
        }
        if (missing || !this.res[id]!.test(text)) continue;
        const r = accept(this.reasons[id]!);
        if (r !== undefined) {
          result = r;
          break;
        }
        rejectedRank = rank;
      }
    }
    if (result !== undefined) bits.fill(0);
    const wordCount = this.wordCount;
    for (let k = 0; k < wordCount; k++) words[wordsSet[k]!] = 0;
    if (wordCount === wordsSet.length) words.fill(0);
    return result;
  }
}

const BLOOM_SIZE = 1 << 14;

/** Bit sets in Int32Arrays: a few kilobytes that stay in the first-level cache. */
function setBit(bits: Int32Array, i: number): void {
  bits[i >>> 5]! |= 1 << (i & 31);
}

function hasBit(bits: Int32Array, i: number): boolean {
  return (bits[i >>> 5]! & (1 << (i & 31))) !== 0;
}

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

/** Six bits per key character: a–z are 1–26, 0–9 are 27–36 (never 0, so keys of different lengths differ). */
function code6(c: number): number {
  return c >= 97 ? c - 96 : c - 21;
}

const KEY3 = (1 << 18) - 1;
const KEY4 = (1 << 24) - 1;
const KEY5 = (1 << 30) - 1;

/**
 * Three to five word characters packed six bits each into one integer below 2^30, so that it stays a
 * small integer for V8 (a larger key would be a heap number and allocate on each map lookup). The first
 * character is never 0, so a key of n characters is at least 2^(6(n-1)) and keys of different lengths
 * never collide.
 */
function pack(s: string, at: number, len: number): number {
  let v = 0;
  for (let k = 0; k < len; k++) v = (v << 6) | code6(s.charCodeAt(at + k));
  return v;
}

/** Index key of a word a matching text has a word starting with: its first five (or all, if fewer) letters. */
function prefixKey(word: string): string {
  return `p${word.slice(0, Math.min(5, word.length))}`;
}

/** Index key of a word a matching text has a word ending with: its last five (or all, if fewer) letters. */
function suffixKey(word: string): string {
  return `s${word.slice(-Math.min(5, word.length))}`;
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
