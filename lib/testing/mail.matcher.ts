import { inspect, isDeepStrictEqual } from 'node:util';
import { nearestKey } from '../errors/option.checker.js';
import { normalizeLocale } from '../templates/locale.js';
import type { CapturedMail, MailMatch, TextPattern } from './captured-mail.types.js';

/** A captured mail before its send has returned: what a simulated failure is matched against. */
export type MailDraft = Omit<CapturedMail, 'result'>;

/** A MailMatch, or a function that decides, over mails or drafts. */
export type Matcher<M extends MailDraft> = MailMatch | ((mail: M) => boolean);

type MatchKey = keyof MailMatch;

const KEYS: readonly MatchKey[] = ['to', 'from', 'subject', 'text', 'html', 'template', 'context', 'locale', 'attachments', 'headers', 'transport'];

const isPattern = (value: unknown): value is TextPattern => typeof value === 'string' || value instanceof RegExp;

/**
 * Refuses a match that would not test what its author meant: an unknown key (a typo would match
 * every mail) or a value of the wrong kind.
 */
export function checkMatch(match: unknown, where: string): void {
  if (typeof match === 'function') return;
  if (typeof match !== 'object' || match === null || Array.isArray(match)) {
    throw new TypeError(`${where}: expected a match object ({ to, subject, template, … }) or a function, got ${match === null ? 'null' : Array.isArray(match) ? 'an array' : typeof match}.`);
  }
  const m = match as Record<string, unknown>;
  for (const key of Object.keys(m)) {
    if (!(KEYS as readonly string[]).includes(key)) {
      const near = nearestKey(key, KEYS);
      throw new TypeError(`${where}: unknown match key "${key}".${near ? ` Did you mean "${near}"?` : ''} Known: ${KEYS.join(', ')}.`);
    }
  }
  const fail = (key: string, expected: string): never => {
    throw new TypeError(`${where}: ${key} must be ${expected}.`);
  };
  for (const key of ['from', 'subject', 'text', 'html'] as const) if (m[key] !== undefined && !isPattern(m[key])) fail(key, 'a string or a RegExp');
  if (m.to !== undefined && !isPattern(m.to) && !(Array.isArray(m.to) && m.to.every(isPattern))) fail('to', 'an address, a RegExp or an array of them');
  for (const key of ['template', 'transport'] as const) if (m[key] !== undefined && typeof m[key] !== 'string') fail(key, 'a string');
  if (m.locale !== undefined && normalizeLocale(m.locale) === undefined) fail('locale', 'a BCP 47 language tag (like "fr-CA")');
  if (m.context !== undefined && (typeof m.context !== 'object' || m.context === null)) fail('context', 'an object');
  if (m.attachments !== undefined && !(Array.isArray(m.attachments) && m.attachments.every(isPattern))) fail('attachments', 'an array of file names (strings or RegExps)');
  if (m.headers !== undefined && !(typeof m.headers === 'object' && m.headers !== null && Object.values(m.headers).every(isPattern))) {
    fail('headers', 'an object of header names and values (strings or RegExps)');
  }
}

function textMatches(pattern: TextPattern, value: string | undefined): boolean {
  if (value === undefined) return false;
  return typeof pattern === 'string' ? pattern === value : new RegExp(pattern.source, pattern.flags.replace('g', '')).test(value);
}

function addressMatches(pattern: TextPattern, address: string): boolean {
  return typeof pattern === 'string' ? pattern.trim().toLowerCase() === address.toLowerCase() : textMatches(pattern, address);
}

/** Every address the mail goes to: To, Cc, Bcc and the envelope, without repeats. */
export function recipientsOf(mail: MailDraft): string[] {
  const all = [...mail.to, ...mail.cc, ...mail.bcc].map((a) => a.address);
  const seen = new Set(all.map((a) => a.toLowerCase()));
  for (const address of mail.envelope.to) if (!seen.has(address.toLowerCase())) all.push(address);
  return all;
}

/**
 * True when `actual` has everything `expected` has: objects compared key by key (extra keys
 * allowed), arrays element by element with the same length, RegExps tested against strings,
 * anything else by deep strict equality.
 */
export function partiallyEquals(actual: unknown, expected: unknown): boolean {
  if (expected instanceof RegExp) return typeof actual === 'string' ? textMatches(expected, actual) : isDeepStrictEqual(actual, expected);
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && actual.length === expected.length && expected.every((e, i) => partiallyEquals(actual[i], e));
  }
  if (expected && typeof expected === 'object' && Object.getPrototypeOf(expected) === Object.prototype) {
    if (!actual || typeof actual !== 'object') return false;
    return Object.entries(expected).every(([key, value]) => partiallyEquals((actual as Record<string, unknown>)[key], value));
  }
  return isDeepStrictEqual(actual, expected);
}

function headerOf(mail: MailDraft, name: string): string | undefined {
  return mail.headers[name.toLowerCase()];
}

/** Whether one field of the match holds for the mail. */
function fieldMatches(mail: MailDraft, key: MatchKey, match: MailMatch): boolean {
  switch (key) {
    case 'to': {
      const wanted = Array.isArray(match.to) ? match.to : [match.to as TextPattern];
      const recipients = recipientsOf(mail);
      return wanted.every((pattern) => recipients.some((address) => addressMatches(pattern, address)));
    }
    case 'from': return addressMatches(match.from!, mail.from.address);
    case 'subject': return textMatches(match.subject!, mail.subject);
    case 'text': return textMatches(match.text!, mail.text);
    case 'html': return textMatches(match.html!, mail.html);
    case 'template': return mail.template === match.template;
    case 'context': return mail.context !== undefined && partiallyEquals(mail.context, match.context);
    case 'locale': return mail.locale !== undefined && mail.locale === normalizeLocale(match.locale);
    case 'attachments': {
      const names = mail.attachments.flatMap((a) => [a.filename, a.cid].filter((n): n is string => n !== undefined));
      return match.attachments!.every((pattern) => names.some((name) => textMatches(pattern, name)));
    }
    case 'headers': return Object.entries(match.headers!).every(([name, pattern]) => {
      const value = headerOf(mail, name);
      return typeof pattern === 'string' ? value !== undefined && value.trim() === pattern.trim() : textMatches(pattern, value);
    });
    case 'transport': return mail.transport === match.transport || mail.transport.startsWith(`${match.transport}[`);
    default: return false;
  }
}

function givenKeys(match: MailMatch): MatchKey[] {
  return KEYS.filter((key) => match[key] !== undefined);
}

export function matches<M extends MailDraft>(mail: M, matcher: Matcher<M> | undefined): boolean {
  if (matcher === undefined) return true;
  if (typeof matcher === 'function') return matcher(mail);
  return givenKeys(matcher).every((key) => fieldMatches(mail, key, matcher));
}

/** How many fields of the match the mail has: the closest mail is the one shown in a diff. */
function score(mail: MailDraft, match: MailMatch): number {
  return givenKeys(match).filter((key) => fieldMatches(mail, key, match)).length;
}

/** The mail that matches the most fields (the latest of equals), or undefined when there is none. */
export function closest<M extends MailDraft>(mails: readonly M[], match: MailMatch): M | undefined {
  let best: M | undefined;
  let bestScore = -1;
  for (const mail of mails) {
    const s = score(mail, match);
    if (s >= bestScore) {
      best = mail;
      bestScore = s;
    }
  }
  return best;
}

function pick(source: Record<string, unknown> | undefined, like: Record<string, unknown>): Record<string, unknown> | undefined {
  if (!source) return undefined;
  const picked: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(like)) {
    const own = source[key];
    picked[key] = value && typeof value === 'object' && !Array.isArray(value) && !(value instanceof RegExp) && own && typeof own === 'object' && !Array.isArray(own)
      ? pick(own as Record<string, unknown>, value as Record<string, unknown>)
      : own;
  }
  return picked;
}

/**
 * The mail seen through the match: the same fields, with the mail's values, so that a test
 * runner's diff of the two shows only what differs.
 */
export function project(mail: MailDraft, match: MailMatch): Partial<Record<MatchKey, unknown>> {
  const view: Partial<Record<MatchKey, unknown>> = {};
  for (const key of givenKeys(match)) {
    switch (key) {
      case 'to': view.to = Array.isArray(match.to) ? recipientsOf(mail) : closestRecipient(mail, match.to as TextPattern); break;
      case 'from': view.from = mail.from.address; break;
      case 'subject': view.subject = mail.subject; break;
      case 'text': view.text = mail.text; break;
      case 'html': view.html = mail.html; break;
      case 'template': view.template = mail.template; break;
      case 'context': view.context = pick(mail.context, match.context!); break;
      case 'locale': view.locale = mail.locale; break;
      case 'attachments': view.attachments = mail.attachments.map((a) => a.filename ?? a.cid); break;
      case 'headers': view.headers = Object.fromEntries(Object.keys(match.headers!).map((name) => [name, headerOf(mail, name)])); break;
      case 'transport': view.transport = mail.transport; break;
    }
  }
  return view;
}

/** The recipient that matches, else the only one, else all of them. */
function closestRecipient(mail: MailDraft, pattern: TextPattern): string | string[] {
  const recipients = recipientsOf(mail);
  return recipients.find((address) => addressMatches(pattern, address)) ?? (recipients.length === 1 ? recipients[0]! : recipients);
}

/** `{ to: 'ada@example.org', subject: /Welcome/ }`, or `a function` for a predicate. */
export function describeMatch<M extends MailDraft>(matcher: Matcher<M> | undefined): string {
  if (matcher === undefined) return 'any mail';
  if (typeof matcher === 'function') return `the function ${matcher.name || '(anonymous)'}`;
  return inspect(matcher, { depth: 4, breakLength: Infinity });
}

/** One line per mail: recipients, subject, template and transport. */
export function describeMails(mails: readonly MailDraft[]): string {
  if (!mails.length) return 'No mail was sent.';
  const lines = mails.map((mail, i) => {
    const template = mail.template ? ` (template ${mail.template}${mail.locale ? `, ${mail.locale}` : ''})` : '';
    return `  ${i + 1}. to ${recipientsOf(mail).join(', ') || '(nobody)'} — ${JSON.stringify(mail.subject)}${template} via ${mail.transport}`;
  });
  return `${mails.length === 1 ? '1 mail was' : `${mails.length} mails were`} sent:\n${lines.join('\n')}`;
}
