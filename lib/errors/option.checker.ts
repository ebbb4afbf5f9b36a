import { MailerConfigurationError } from './mailer.error.js';

/** What the value of one option may be. `unknown` takes anything, `undefined` is always allowed. */
export type OptionType = 'string' | 'number' | 'boolean' | 'object' | 'array' | 'function' | 'unknown';

/**
 * The declared shape of one options object: every key it accepts and the type(s) of its value.
 * Written with `satisfies OptionShape<TheOptions>`, the compiler keeps it in step with the
 * interface it describes.
 */
export type OptionShape<T> = { readonly [K in keyof T]-?: OptionType | readonly OptionType[] };

/**
 * Keys that are not options here but that people bring from elsewhere (nodemailer,
 * `@nestjs-modules/mailer`), each with the sentence that says what to write instead.
 */
export type OptionHints = Readonly<Record<string, string>>;

function typeOf(value: unknown): OptionType | 'null' {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  const t = typeof value;
  if (t === 'string' || t === 'number' || t === 'boolean' || t === 'function' || t === 'object') return t;
  return 'unknown'; // bigint, symbol
}

const ARTICLE: Record<string, string> = {
  string: 'a string', number: 'a number', boolean: 'true or false', object: 'an object', array: 'an array',
  function: 'a function', null: 'null', unknown: 'a value of another kind',
};

/** Edits (insert, delete, replace, swap two neighbours) that turn `a` into `b`. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

const squash = (key: string): string => key.toLowerCase().replace(/[-_\s]/g, '');

/**
 * The known key a mistyped one most likely meant: the same letters in another case or with
 * dashes and underscores (`requiretls`, `require_tls` → `requireTLS`), a known key the typed one
 * begins or ends (`tolerance` → `toleranceSeconds`), else the closest by edit distance when it is
 * close enough to be a typo (a third of the key's length at most).
 */
export function nearestKey(key: string, known: readonly string[]): string | undefined {
  const target = squash(key);
  const same = known.find((k) => squash(k) === target);
  if (same) return same;
  if (target.length >= 4) {
    const prefixed = known
      .filter((k) => squash(k).length >= 4 && (squash(k).startsWith(target) || target.startsWith(squash(k))))
      .sort((a, b) => Math.abs(a.length - key.length) - Math.abs(b.length - key.length));
    if (prefixed[0]) return prefixed[0];
  }
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d = editDistance(target, squash(candidate));
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(1, Math.floor(target.length / 3)) ? best : undefined;
}

/** `what` is not an options object; says so by type, never by value. */
export function expectOptionsObject(value: unknown, where: string): asserts value is Record<string, unknown> {
  const t = typeOf(value);
  if (t !== 'object') throw new MailerConfigurationError(`${where}: expected an options object, got ${ARTICLE[t]}.`);
}

/**
 * Refuses a key that is not in `known`: the error names the key, the nearest known key and the
 * known ones, or gives the hint written for it. Values are never shown, so a secret under a
 * mistyped key stays out of the message.
 */
export function checkOptionKeys(value: Record<string, unknown>, known: readonly string[], where: string, hints: OptionHints = {}): void {
  for (const key of Object.keys(value)) {
    if (known.includes(key)) continue;
    if (Object.hasOwn(hints, key)) throw new MailerConfigurationError(`${where}: "${key}" ${hints[key]}`);
    const near = nearestKey(key, known);
    const suggestion = near ? ` Did you mean "${near}"?` : '';
    throw new MailerConfigurationError(`${where}: unknown option "${key}".${suggestion} Known: ${known.join(', ')}.`);
  }
}

/** `key` must be of one of `types` when it is set. */
export function checkOptionType(value: unknown, types: OptionType | readonly OptionType[], key: string, where: string): void {
  if (value === undefined) return;
  const allowed = typeof types === 'string' ? [types] : types;
  if (allowed.includes('unknown')) return;
  const actual = typeOf(value);
  if (actual !== 'null' && allowed.includes(actual as OptionType)) return;
  const expected = allowed.map((t) => ARTICLE[t]).join(' or ');
  throw new MailerConfigurationError(`${where}: ${key} must be ${expected}, got ${ARTICLE[actual]}.`);
}

/**
 * Checks an options object against its declared shape: it must be an object, every key must be
 * known (see `checkOptionKeys`), and every value of the type declared for it. What a value means
 * — a range, a format, a combination — is checked by the code that reads it.
 */
export function checkOptions<T>(value: unknown, shape: OptionShape<T>, where: string, hints?: OptionHints): asserts value is T {
  expectOptionsObject(value, where);
  const known = Object.keys(shape);
  checkOptionKeys(value, known, where, hints);
  for (const key of known) checkOptionType(value[key], shape[key as keyof T], key, where);
}
