import type { BounceReason } from '../core/classification.types.js';

/**
 * Matches reply text against the reason patterns without running every pattern on every text.
 *
 * Each pattern is split into its top-level alternatives, and for each alternative the literal words it
 * cannot match without are known (`literalWords`), with whether a non-word character must stand before
 * or after each. All those words go into one Aho–Corasick automaton, so one pass over the text finds
 * every one of them that occurs, wherever it occurs. An alternative is filed under its rarest word: when
 * that word turns up, the alternative becomes a candidate; candidates are then taken in reason order,
 * and only one whose every word was found is run as a regular expression. The few alternatives with no
 * usable word are candidates for every text.
 */
export class ReasonMatcher {
  private readonly res: RegExp[] = [];
  private readonly reasons: BounceReason[] = [];
  private priority = new Int32Array(0);
  /**
   * Per alternative: the ids of the needs (word plus boundary rule) a matching text must contain
   * besides the one it is filed under, as `needList[needStart[id] .. needStart[id + 1])`.
   */
  private needStart = new Int32Array(1);
  private needList = new Int32Array(0);
  /** Per need: the alternatives filed under it, as `keyList[keyStart[need] .. keyStart[need + 1])`. */
  private keyStart = new Int32Array(1);
  private keyList = new Int32Array(0);
  /** Per need: bit 1 if a non-word character (or the start) must precede the word, bit 2 if one must follow. */
  private needEdges = new Uint8Array(0);
  private needLength = new Int32Array(0);
  /**
   * The automaton: `next[state * SYMBOLS + symbol]` is the next state times two, plus one if some word
   * ends there (so the scan needs no second lookup to know); state 0 is the root.
   */
  private next: Uint16Array | Int32Array = new Uint16Array(0);
  /** The needs whose word ends at a state, as `outNeeds[outStart[state] .. outStart[state + 1])`. */
  private outStart = new Int32Array(1);
  private outNeeds = new Int32Array(0);
  /** Needs present in the current text, one bit each. */
  private present = new Int32Array(0);
  /** Candidate alternatives of the current call, one bit per id: reading the set bits gives them in id order. */
  private readonly candBits: Int32Array;
  private readonly alwaysBits: Int32Array;

  constructor(table: ReadonlyArray<readonly [BounceReason, string]>) {
    const needIds = new Map<string, number>();
    const needWords: string[] = [];
    const edges: number[] = [];
    const need = (l: Literal): number => {
      const e = (l.before ? 1 : 0) | (l.after ? 2 : 0);
      const k = `${e}:${l.word}`;
      let id = needIds.get(k);
      if (id === undefined) {
        id = needWords.length;
        needIds.set(k, id);
        needWords.push(l.word);
        edges.push(e);
      }
      return id;
    };
    const alternatives: { reason: BounceReason; rank: number; source: string; needs: number[] }[] = [];
    const frequency = new Map<string, number>();
    table.forEach(([reason, source], rank) => {
      for (const alt of splitAlternatives(source)) {
        const lits = literalWords(alt).filter((l) => /^[a-z0-9]+$/.test(l.word));
        for (const l of lits) frequency.set(l.word, (frequency.get(l.word) ?? 0) + 1);
        alternatives.push({ reason, rank, source: alt, needs: lits.map(need) });
      }
    });
    // A word that most replies contain makes its alternatives candidates for nearly every text.
    const cost = (id: number): number => {
      const w = needWords[id]!;
      return frequency.get(w)! + (COMMON_WORDS.has(w) ? 1000 : 0) - w.length / 100;
    };
    const always: number[] = [];
    const keyed: number[][] = needWords.map(() => []);
    const rest: number[][] = [];
    for (const a of alternatives) {
      const id = this.res.length;
      this.res.push(new RegExp(a.source));
      this.reasons.push(a.reason);
      // Filed under its rarest word; the others are checked rarest first, as they rule it out soonest.
      const needs = [...new Set(a.needs)].sort((x, y) => cost(x) - cost(y));
      rest.push(needs.slice(1));
      if (needs.length === 0) always.push(id);
      else keyed[needs[0]!]!.push(id);
    }
    this.priority = Int32Array.from(alternatives, (a) => a.rank);
    [this.needStart, this.needList] = flatten(rest);
    [this.keyStart, this.keyList] = flatten(keyed);
    this.needEdges = Uint8Array.from(edges);
    this.needLength = Int32Array.from(needWords, (w) => w.length);
    this.present = new Int32Array((needWords.length + 31) >>> 5);
    this.buildAutomaton(needWords);
    this.candBits = new Int32Array((this.res.length + 31) >>> 5);
    this.alwaysBits = new Int32Array(this.candBits.length);
    for (const id of always) this.alwaysBits[id >>> 5]! |= 1 << (id & 31);
  }

  /** The trie of the words, completed with its failure links into a table of transitions. */
  private buildAutomaton(words: readonly string[]): void {
    const children: number[][] = [new Array<number>(SYMBOLS).fill(-1)];
    const ends: number[][] = [[]];
    words.forEach((w, id) => {
      let s = 0;
      for (let i = 0; i < w.length; i++) {
        const c = symbolOf(w.charCodeAt(i));
        let t = children[s]![c]!;
        if (t < 0) {
          t = children.length;
          children.push(new Array<number>(SYMBOLS).fill(-1));
          ends.push([]);
          children[s]![c] = t;
        }
        s = t;
      }
      ends[s]!.push(id);
    });
    const states = children.length;
    const next = new Int32Array(states * SYMBOLS);
    const fail = new Int32Array(states);
    const out: number[][] = ends.map((e) => [...e]);
    // Breadth first, so that a state's failure target is complete before the state is.
    const queue: number[] = [];
    for (let c = 1; c < SYMBOLS; c++) {
      const t = children[0]![c]!;
      if (t >= 0) {
        next[c] = t;
        queue.push(t);
      }
    }
    for (let q = 0; q < queue.length; q++) {
      const s = queue[q]!;
      for (const id of out[fail[s]!]!) out[s]!.push(id);
      for (let c = 1; c < SYMBOLS; c++) {
        const t = children[s]![c]!;
        if (t >= 0) {
          fail[t] = next[fail[s]! * SYMBOLS + c]!;
          next[s * SYMBOLS + c] = t;
          queue.push(t);
        } else next[s * SYMBOLS + c] = next[fail[s]! * SYMBOLS + c]!;
      }
    }
    this.outStart = new Int32Array(states + 1);
    for (let s = 0; s < states; s++) this.outStart[s + 1] = this.outStart[s]! + out[s]!.length;
    const packed = states < 0x8000 ? new Uint16Array(next.length) : new Int32Array(next.length);
    for (let k = 0; k < next.length; k++) {
      const t = next[k]!;
      packed[k] = (t << 1) | (out[t]!.length > 0 ? 1 : 0);
    }
    this.next = packed;
    this.outNeeds = Int32Array.from(out.flat());
  }

  /** Notes the needs whose word ends at `end` (inclusive) in state `state`, if their boundaries hold. */
  private found(text: string, end: number, state: number): void {
    const present = this.present;
    const outNeeds = this.outNeeds;
    const stop = this.outStart[state + 1]!;
    for (let k = this.outStart[state]!; k < stop; k++) {
      const id = outNeeds[k]!;
      const bit = 1 << (id & 31);
      if ((present[id >>> 5]! & bit) !== 0) continue;
      const edges = this.needEdges[id]!;
      if (edges !== 0) {
        if ((edges & 1) !== 0) {
          const at = end - this.needLength[id]!;
          if (at >= 0 && symbolOf(text.charCodeAt(at)) !== 0) continue;
        }
        if ((edges & 2) !== 0 && end + 1 < text.length && symbolOf(text.charCodeAt(end + 1)) !== 0) continue;
      }
      present[id >>> 5]! |= bit;
      const keyList = this.keyList;
      const cand = this.candBits;
      const last = this.keyStart[id + 1]!;
      for (let j = this.keyStart[id]!; j < last; j++) {
        const a = keyList[j]!;
        cand[a >>> 5]! |= 1 << (a & 31);
      }
    }
  }

  /**
   * Calls `accept` with each matching reason in priority order until it returns a reason; returns that
   * reason, or undefined. `text` must be lower case with white space collapsed.
   */
  find(text: string, accept: (reason: BounceReason) => BounceReason | undefined): BounceReason | undefined {
    // The state of the previous call is overwritten first, so that nothing it left (an `accept` that
    // threw, say) can reach this one.
    const bits = this.candBits;
    bits.set(this.alwaysBits);
    const present = this.present;
    present.fill(0);
    const next = this.next;
    const n = text.length;
    let state = 0;
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      const sym = c < 128 ? SYMBOL[c]! : 0;
      if (sym === 0) {
        state = 0;
        continue;
      }
      const v = next[state * SYMBOLS + sym]!;
      state = v >>> 1;
      if ((v & 1) !== 0) this.found(text, i, state);
    }
    // Alternatives are numbered in reason order, so the set bits read from the lowest up are the
    // candidates in priority order.
    const needStart = this.needStart;
    const needList = this.needList;
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
        let missing = false;
        const last = needStart[id + 1]!;
        for (let k = needStart[id]!; k < last; k++) {
          const nd = needList[k]!;
          if ((present[nd >>> 5]! & (1 << (nd & 31))) === 0) {
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
    return result;
  }
}

/** Lists of ids as one array and the offset of each list: `[start, list]`, list i at `start[i] .. start[i + 1]`. */
function flatten(lists: readonly number[][]): [Int32Array<ArrayBuffer>, Int32Array<ArrayBuffer>] {
  const start = new Int32Array(lists.length + 1);
  lists.forEach((l, i) => {
    start[i + 1] = start[i]! + l.length;
  });
  return [start, Int32Array.from(lists.flat())];
}

/** Symbols of the automaton: a–z are 1–26, 0–9 are 27–36, anything else 0 (it ends every word). */
const SYMBOLS = 37;

const SYMBOL = new Uint8Array(128);
for (let c = 97; c <= 122; c++) SYMBOL[c] = c - 96;
for (let c = 48; c <= 57; c++) SYMBOL[c] = c - 21;

function symbolOf(c: number): number {
  return c < 128 ? SYMBOL[c]! : 0;
}

/** Words found in most SMTP replies and bounce texts, whatever the cause. */
const COMMON_WORDS = new Set([
  'recipient', 'address', 'mail', 'email', 'message', 'user', 'the', 'not', 'sender', 'delivery', 'server', 'rejected',
  'please', 'domain', 'account', 'mailbox', 'from', 'your', 'this', 'that', 'with', 'for', 'error', 'host', 'smtp',
  'try', 'again', 'later', 'service', 'see', 'more', 'information', 'has', 'been', 'was', 'are', 'you', 'our',
  'remote', 'connection', 'because', 'permanent', 'temporary', 'failed', 'requested', 'action', 'taken', 'reply',
]);

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
    if (c === '{') {
      // A counted quantifier (`.{0,20}`): its digits and comma are not literal characters.
      const q = /^\{\d*,?\d*\}/.exec(alt.slice(i));
      if (q) {
        boundary = false;
        i += q[0].length;
        continue;
      }
    }
    boundary = !QUANTIFIER.has(c) && !'.^$|'.includes(c) && !QUANTIFIER.has(alt[i + 1] ?? '');
    i++;
  }
  return out;
}
