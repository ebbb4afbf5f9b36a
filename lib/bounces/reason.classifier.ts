import type {
  BounceReason,
  Classification,
  ClassificationAction,
  DeliveryKind,
} from '../core/classification.types.js';
import { ReasonMatcher } from './reason.matcher.js';
import { stageReason, vendorReason } from './vendor-codes.js';
import { CERTAINLY_UNKNOWN, DECISIVE_STATUS, NON_LATIN_REASON_PATTERNS, REASON_PATTERNS, REPLY_CODE_REASONS, STATUS_REASONS } from './reason.tables.js';

/** What is known about one failed (or delivered) recipient before its reason is decided. */
export interface ReasonInput {
  /** RFC 3463 enhanced status, e.g. '5.1.1'. */
  status?: string;
  /** RFC 5321 reply code. */
  replyCode?: number;
  /** The remote text (Diagnostic-Code, the SMTP reply, or the MTA's own explanation). */
  text?: string;
  /** SMTP command that was refused, upper case (`RCPT`, `MAIL`, `DATA`, `EHLO`, `CONN`…), if known. */
  command?: string;
  /** RFC 3464 Action field (`failed`, `delayed`, `delivered`, `expanded`, `relayed`). */
  action?: string;
  /** A reason the caller already knows from the format of the report (e.g. a vendor's own code). */
  hint?: BounceReason;
  /** RFC 3464 diagnostic type, lower case (`smtp`, `x-unix`, `x-postfix`). */
  diagnosticType?: string;
  /** The remote MTA that answered, lower case, when known: some providers' words depend on it. */
  remoteMta?: string;
  /** The recipient's domain, lower case, when known: names the provider when the remote MTA is not. */
  domain?: string;
}

const MATCHER = new ReasonMatcher(REASON_PATTERNS);
const NON_LATIN_MATCHER = new ReasonMatcher(NON_LATIN_REASON_PATTERNS);
/** Characters of the scripts NON_LATIN_REASON_PATTERNS is written in (Cyrillic, kana, CJK). */
const NON_LATIN = /[\u0400-\u04ff\u3040-\u30ff\u3400-\u9fff]/;
const QUOTA = /quota|mailbox (?:is )?full/i;
const ANY = (r: BounceReason): BounceReason => r;

const WHITESPACE = /\s+/g;
/**
 * White space other than a single space: two in a row, or one that is not a space (the characters of
 * `\s` but the space). A regular expression scans faster than a loop here, and this form of it about
 * twice as fast as `[^\S ]| {2}`.
 */
const ODD_SPACE = /\s\s|[\t\n\v\f\r\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]/;

/**
 * Has the text white space other than single inner spaces? Only then is the collapsing `replace` worth
 * running; most replies are one line with single spaces.
 */
function hasOddSpace(t: string): boolean {
  const n = t.length;
  if (n === 0) return false;
  if (t.charCodeAt(0) <= 32 || t.charCodeAt(n - 1) <= 32) return true;
  return ODD_SPACE.test(t);
}

/** Lower-cases and collapses white space, the form the reason patterns are written against. */
export function normalizeDiagnostic(text: string): string {
  let t = text.toLowerCase();
  if (hasOddSpace(t)) t = t.replace(WHITESPACE, ' ').trim();
  // Typographic apostrophes (Gmail, Outlook) read as the ASCII one the patterns use.
  return t.indexOf('\u2019') >= 0 ? t.replace(/\u2019/g, "'") : t;
}

/** The first reason whose wording matches, or undefined. `text` must be normalized. */
export function matchReasonText(normalized: string): BounceReason | undefined {
  if (normalized.length === 0) return undefined;
  if (NON_LATIN.test(normalized)) {
    const r = NON_LATIN_MATCHER.find(normalized, ANY);
    if (r !== undefined) return r;
  }
  return MATCHER.find(normalized, ANY);
}

/** STATUS_REASONS spelled out per class ('4.1.1', '5.1.1'), so that a lookup is one get without slicing. */
const FULL_STATUS_REASONS: ReadonlyMap<string, BounceReason> = (() => {
  const m = new Map<string, BounceReason>();
  for (const [k, v] of STATUS_REASONS) {
    if (k.charCodeAt(1) === 46 && (k[0] === '4' || k[0] === '5') && k.split('.').length === 3) continue;
    for (const cls of ['4', '5']) m.set(`${cls}.${k}`, STATUS_REASONS.get(`${cls}.${k}`) ?? v);
  }
  for (const [k, v] of STATUS_REASONS) if (k.split('.').length === 3) m.set(k, v);
  return m;
})();

/** The reason an RFC 3463 status names on its own (`5.2.2` → mailboxfull), or undefined. */
export function reasonOfStatus(status: string | undefined): BounceReason | undefined {
  if (!status) return undefined;
  const cls = status.charCodeAt(0);
  if (cls === 50 /* 2 */) return 'delivered';
  return FULL_STATUS_REASONS.get(status) ?? STATUS_REASONS.get(status.slice(2));
}

const HARD = new Set<BounceReason>(['userunknown', 'hostunknown', 'hasmoved']);
const NEITHER = new Set<BounceReason>(['delivered', 'feedback', 'vacation']);

/**
 * The hard/soft rule: it follows the reason, not the first digit. userunknown, hostunknown and hasmoved
 * are hard; notaccept is hard unless the reply or status is transient (4xx/4.x.x); delivered, feedback
 * and vacation are neither; everything else is soft. Returns undefined for "neither".
 */
export function isHardBounce(reason: BounceReason, replyCode?: number | string): boolean {
  if (HARD.has(reason)) return true;
  if (reason === 'notaccept') {
    if (replyCode === undefined || replyCode === '') return true;
    return String(replyCode).charCodeAt(0) !== 52 /* 4 */;
  }
  return false;
}

/** 'hard' | 'soft' | 'none' for a reason, per {@link isHardBounce}. */
export function bounceOf(reason: BounceReason, code?: number | string): 'hard' | 'soft' | 'none' {
  if (NEITHER.has(reason)) return 'none';
  return isHardBounce(reason, code) ? 'hard' : 'soft';
}

const SESSION_STAGE = new Set(['CONN', 'EHLO', 'HELO', 'MAIL', 'STARTTLS', 'AUTH']);

/**
 * May the wording-derived `reason` stand, given what the status and the SMTP command say? Some wording
 * is only conclusive at a given stage: "user unknown" names the recipient only when the status is a
 * mailbox status or the refusal came at RCPT (after DATA it is a content filter speaking), and
 * "address rejected" is about the sender only before RCPT.
 */
function reconcile(
  reason: BounceReason,
  fromStatus: BounceReason | undefined,
  command: string | undefined,
  status: string | undefined,
  text: string,
): BounceReason | undefined {
  // x.1.x is about the address whatever the detail number (Microsoft uses 5.1.10 and 5.1.351 for it).
  // x.5.x (protocol) says nothing about the mailbox either way, so the words decide.
  const addressStatus = status !== undefined && status.charCodeAt(3) === 46 && (status.charCodeAt(2) === 49 || status.charCodeAt(2) === 53);
  if (command === 'MAIL' && (reason === 'hostunknown' || reason === 'userunknown')) {
    return 'rejected';
  }
  if (reason === 'hostunknown' && status !== undefined && status.charCodeAt(0) === 52) return 'networkerror';
  // After DATA the recipient's host has answered: a domain that "does not exist" then is another one,
  // the sender's or one named in the message.
  if (reason === 'hostunknown' && command === 'DATA') return 'rejected';
  if (reason === 'userunknown') {
    if (fromStatus === 'userunknown' || command === 'RCPT' || addressStatus) return reason;
    // Exchange Online's directory check ("5.4.1 Recipient address rejected: Access denied") refuses an
    // address its tenant does not have, whatever stage the report names.
    if (command === undefined && text.indexOf('recipient address rejected: access denied') >= 0) return reason;
    if (fromStatus === 'suspend') return 'suspend';
    if (command !== undefined && SESSION_STAGE.has(command)) return undefined;
    // Not confirmed by a mailbox status nor said at RCPT: a filter refusing with "unknown user" words.
    return 'filtered';
  }
  if (reason === 'rejected') {
    if ((command === 'RCPT' || command === 'CONN' || command === 'EHLO' || command === 'HELO') && fromStatus !== 'rejected') return undefined;
    return reason;
  }
  return reason;
}

/**
 * What `reconcile` needs besides the reason, set by `decideReason` just before the (synchronous) match,
 * so that no closure is allocated per call.
 */
let ctxFromStatus: BounceReason | undefined;
let ctxCommand: string | undefined;
let ctxStatus: string | undefined;
let ctxText = '';
const reconcileCurrent = (reason: BounceReason): BounceReason | undefined => reconcile(reason, ctxFromStatus, ctxCommand, ctxStatus, ctxText);

/** Status, reply code and wording → reason. The shared core of every classifier in this folder. */
export function decideReason(input: ReasonInput): BounceReason {
  const status = input.status;
  const code = input.replyCode;
  if (status !== undefined && status.charCodeAt(0) === 50) return 'delivered';
  if (status === undefined && code !== undefined && code >= 200 && code < 300) return 'delivered';
  if (input.hint) return input.hint;

  const fromStatus = reasonOfStatus(status);
  // Some servers write a size status (5.2.3, 5.3.4) for a message that would take the mailbox over its
  // quota: then the words decide.
  if (fromStatus !== undefined && DECISIVE_STATUS.has(fromStatus) && !(fromStatus === 'emailtoolarge' && QUOTA.test(input.text ?? ''))) return fromStatus;

  const command = input.command;
  const text = input.text ? normalizeDiagnostic(input.text) : '';
  if (text.length > 0) {
    const vendor = vendorReason(text) ?? (fromStatus === undefined ? stageReason(text, command, input.remoteMta, input.domain) : undefined);
    if (vendor !== undefined) return vendor;
    // Each of those wordings has a "n't": most texts have none, and the regular expression is skipped.
    if (command !== 'MAIL' && text.indexOf("n't ") >= 0 && CERTAINLY_UNKNOWN.test(text)) return 'userunknown';
    const xunix = input.diagnosticType === 'x-unix';
    ctxFromStatus = fromStatus;
    ctxCommand = command;
    ctxStatus = status;
    ctxText = text;
    const r = (NON_LATIN.test(text) ? NON_LATIN_MATCHER.find(text, reconcileCurrent) : undefined) ?? MATCHER.find(text, reconcileCurrent);
    if (r !== undefined) return xunix && r !== 'mailboxfull' && r !== 'emailtoolarge' ? 'mailererror' : r;
  }
  if (input.diagnosticType === 'x-unix') return 'mailererror';
  // A delayed delivery with no words and only a vague network or system status: it has been waiting.
  const waiting = input.action === 'delayed' || input.action === 'expired';
  if (waiting && text.length === 0 && (fromStatus === undefined || fromStatus === 'networkerror' || fromStatus === 'systemerror')) return 'expired';
  // 421 (with no status or the catch-all 4.7.0) is how servers say "too many, come back later".
  if (code === 421 && (status === undefined || status === '4.7.0' || status === '4.3.2')) return 'ratelimited';
  // 554 5.7.1 with no telling words is the classic content/policy refusal, not a security failure.
  if (code === 554 && status === '5.7.1') return 'policyviolation';
  if (fromStatus !== undefined) return fromStatus;

  const action = input.action;
  if (action !== undefined && (action === 'delayed' || action === 'expired')) return 'expired';
  if (command === 'EHLO' || command === 'HELO' || command === 'CONN') return 'blocked';
  if (code !== undefined) {
    const byCode = REPLY_CODE_REASONS.get(code);
    if (byCode !== undefined) return byCode;
  }
  if (status !== undefined) {
    const subject = status.charCodeAt(2);
    if (subject === 55 /* 7 */) return 'securityerror';
    if (subject === 54 /* 6 */) return 'contenterror';
  }
  return text.length > 0 ? 'onhold' : 'undefined';
}

const FIX_CONFIG = new Set<BounceReason>([
  'authfailure', 'securityerror', 'norelaying', 'requireptr', 'failedstarttls', 'notcompliantrfc',
]);
const SLOW_DOWN = new Set<BounceReason>(['ratelimited']);

/** What the sender should do about a classified outcome. */
export function actionFor(kind: DeliveryKind, reason: BounceReason, bounce: 'hard' | 'soft' | 'none'): ClassificationAction {
  if (kind === 'delivered') return 'none';
  if (kind === 'complained') return 'suppress';
  if (SLOW_DOWN.has(reason)) return 'slow-down';
  if (kind === 'deferred') return 'retry';
  if (bounce === 'hard') return 'suppress';
  if (FIX_CONFIG.has(reason)) return 'fix-config';
  return 'none';
}

/** Delivery kind from the class digit of the reply code or status (2 delivered, 4 deferred, 5 bounced). */
export function kindOf(replyCode: number | undefined, status: string | undefined, reason: BounceReason): DeliveryKind {
  if (reason === 'feedback') return 'complained';
  if (reason === 'delivered' || reason === 'vacation') return 'delivered';
  let cls = 0;
  if (status !== undefined) cls = status.charCodeAt(0) - 48;
  else if (replyCode !== undefined) cls = Math.floor(replyCode / 100);
  if (cls === 2) return 'delivered';
  if (cls === 4) return 'deferred';
  if (cls === 5) return 'bounced';
  return 'failed';
}

/** Builds the Classification for a decided reason. */
export function buildClassification(
  reason: BounceReason,
  replyCode: number | undefined,
  status: string | undefined,
  diagnostic: string | undefined,
  recipient: string | undefined,
  kindOverride?: DeliveryKind,
): Classification {
  const kind = kindOverride ?? kindOf(replyCode, status, reason);
  const bounce = bounceOf(reason, replyCode ?? status);
  const retryable = kind === 'deferred';
  const out: Classification = { kind, bounce, reason, retryable, action: actionFor(kind, reason, bounce) };
  if (status !== undefined) out.status = status;
  if (replyCode !== undefined) out.replyCode = replyCode;
  if (diagnostic !== undefined && diagnostic.length > 0) out.diagnostic = diagnostic;
  if (recipient !== undefined) out.recipient = recipient;
  return out;
}
