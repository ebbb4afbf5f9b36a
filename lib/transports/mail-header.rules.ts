import { InvalidMailError } from '../errors/mailer.error.js';

/** RFC 5322 §2.1.1: a line of a message, header lines included, holds at most 998 octets before its CRLF. */
export const HEADER_LINE_MAX_OCTETS = 998;

// C0 controls but HTAB (folding white space), DEL, the C1 controls, and the Unicode line and
// paragraph separators: none has a place in a header, and a CR or LF would end it and start another.
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]/;
const LINE_BREAK = new Set(['\r', '\n', '\x85', '\u2028', '\u2029']);
const NON_ASCII = /[^\x00-\x7f]/;
// RFC 5322 field names: printable US-ASCII except colon.
const FIELD_NAME = /^[\x21-\x39\x3b-\x7e]+$/;
// A run of text a folding writer cannot break: white space, then everything up to the next white space.
const UNBREAKABLE = /[ \t]*[^ \t]+/g;

/** `"<"` for a printable character, its code point for anything else. */
export function describeCharacter(c: string): string {
  const code = c.codePointAt(0) ?? 0;
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  return code > 0x20 && code !== 0x7f && !(code >= 0x80 && code <= 0xa0) && code !== 0x2028 && code !== 0x2029 ? `"${c}"` : `the character ${hex}`;
}

function octets(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** Refuses a value that is not a string, or that holds a line break or another control character. */
export function checkControlFree(value: unknown, field: string): asserts value is string {
  if (typeof value !== 'string') throw new InvalidMailError(`${field} must be a string, got ${value === null ? 'null' : typeof value}.`, field);
  const found = CONTROL.exec(value);
  if (!found) return;
  const c = found[0];
  const code = `U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
  throw new InvalidMailError(
    LINE_BREAK.has(c)
      ? `${field} contains a line break (${code}); header injection is refused and nothing was sent.`
      : `${field} contains the control character ${code}, which cannot go into a header; nothing was sent.`,
    field,
  );
}

export interface FoldOptions {
  /** What the header line holds before the value, e.g. `Subject: ` or ` name="`. */
  before?: string;
  /** What follows the value on the line, e.g. `"` or `>`. */
  after?: string;
  /** The value is written as a quoted string, so `"` and `\` take two octets each. */
  quoted?: boolean;
}

/**
 * Refuses free text (a subject, a display name, a custom header's value) that no writer can fold
 * into lines of at most 998 octets: an ASCII run without white space that long. A value with any
 * non-ASCII character is written as RFC 2047 encoded words, which split anywhere, so it always folds.
 */
export function checkFoldable(value: string, field: string, options: FoldOptions = {}): void {
  // Short enough for one line whatever it holds (a quoted value at most doubles), or encoded words.
  const before = options.before ?? '';
  const after = options.after ?? '';
  if (before.length + after.length + value.length * (options.quoted ? 2 : 1) <= HEADER_LINE_MAX_OCTETS || NON_ASCII.test(value)) return;
  const written = options.quoted ? value.replace(/(["\\])/g, '\\$1') : value;
  let longest = 0;
  for (const run of `${before}${written}${after}`.match(UNBREAKABLE) ?? []) longest = Math.max(longest, run.length);
  if (longest > HEADER_LINE_MAX_OCTETS) {
    throw new InvalidMailError(
      `${field} has ${longest} octets without white space where the header could be folded; RFC 5322 §2.1.1 limits a header line to ${HEADER_LINE_MAX_OCTETS} octets, so nothing was sent.`,
      field,
    );
  }
}

/** Control characters and folding: everything free text in a header must pass. */
export function checkHeaderText(value: unknown, field: string, options: FoldOptions = {}): asserts value is string {
  checkControlFree(value, field);
  checkFoldable(value, field, options);
}

/**
 * Refuses a value written whole on one header line, which cannot be folded (a Message-ID, a
 * Content-ID): no white space or control character, and short enough for the line.
 */
export function checkUnfoldable(value: unknown, field: string, header: string, options: { before?: string; after?: string } = {}): asserts value is string {
  checkControlFree(value, field);
  const space = /\s/.exec(value);
  if (space) throw new InvalidMailError(`${field} contains white space (${describeCharacter(space[0])}), which the ${header} header cannot hold; nothing was sent.`, field);
  const line = octets(`${header}: ${options.before ?? ''}${value}${options.after ?? ''}`);
  if (line > HEADER_LINE_MAX_OCTETS) {
    throw new InvalidMailError(
      `${field} is ${octets(value)} octets; the ${header} header cannot be folded and RFC 5322 §2.1.1 limits a header line to ${HEADER_LINE_MAX_OCTETS} octets (${line} here), so nothing was sent.`,
      field,
    );
  }
}

/** A header field name: printable ASCII without a colon, short enough to leave room on its line. */
export function checkHeaderName(name: string, field: string): void {
  if (!FIELD_NAME.test(name)) throw new InvalidMailError(`${field}: "${JSON.stringify(name).slice(1, -1)}" is not a valid header name.`, field);
  if (name.length + 2 > HEADER_LINE_MAX_OCTETS) {
    throw new InvalidMailError(`${field}: a header name of ${name.length} octets leaves no room on a header line of ${HEADER_LINE_MAX_OCTETS} octets (RFC 5322 §2.1.1).`, field);
  }
}
