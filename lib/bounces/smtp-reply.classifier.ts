import type { Classification } from '../core/classification.types.js';
import { buildClassification, decideReason } from './reason.classifier.js';

const LEADING_CODE = /^\s*([245]\d\d)(?:[\s-]|$)/;
const ENHANCED = /(?<![\w.])([245])\.(\d{1,3})\.(\d{1,3})(?!\.?\d)/;

/** The RFC 5321 reply code a reply text starts with (`550-5.1.1 …` → 550), if any. */
export function replyCodeOf(text: string): number | undefined {
  const m = LEADING_CODE.exec(text);
  return m ? Number(m[1]) : undefined;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/**
 * `d.d{1,3}.d{1,3}` at `at`, followed by white space or the end, as a normalized status; undefined if
 * the text has something else there. The common shape of a reply (`5.1.1 …` right after the code),
 * read without a regular expression.
 */
function statusAt(text: string, at: number): string | undefined {
  const c0 = text.charCodeAt(at);
  if ((c0 !== 50 && c0 !== 52 && c0 !== 53) || text.charCodeAt(at + 1) !== 46) return undefined;
  let i = at + 2;
  const s1 = i;
  while (i < text.length && i - s1 < 4 && isDigit(text.charCodeAt(i))) i++;
  if (i === s1 || i - s1 > 3 || text.charCodeAt(i) !== 46) return undefined;
  const s2 = ++i;
  while (i < text.length && i - s2 < 4 && isDigit(text.charCodeAt(i))) i++;
  if (i === s2 || i - s2 > 3) return undefined;
  if (i < text.length && text.charCodeAt(i) !== 32) return undefined;
  const raw = text.slice(at, i);
  // Leading zeros (`5.01.001`) are rare; the regular path normalizes them.
  return text.charCodeAt(s1) === 48 && i - s1 > 1 || text.charCodeAt(s2) === 48 && i - s2 > 1 ? undefined : raw;
}

/** The first RFC 3463 enhanced status in a text (`… 5.7.1 …` → '5.7.1'), normalized (`5.01.001` → '5.1.1'). */
export function enhancedStatusOf(text: string): string | undefined {
  // Fast path: the status right at the start or after a leading reply code (`550 5.1.1 …`, `550-5.1.1 …`).
  const c0 = text.charCodeAt(0);
  if (isDigit(c0)) {
    const direct = statusAt(text, 0);
    if (direct !== undefined) return direct;
    if (isDigit(text.charCodeAt(1)) && isDigit(text.charCodeAt(2)) && (text.charCodeAt(3) === 32 || text.charCodeAt(3) === 45)) {
      const after = statusAt(text, 4);
      if (after !== undefined) return after;
    }
  }
  const m = ENHANCED.exec(text);
  if (!m) return undefined;
  return `${m[1]}.${Number(m[2])}.${Number(m[3])}`;
}

/** Trims a multi-line SMTP reply to one line of text, keeping every line's words. */
function flattenReply(text: string): string {
  if (text.indexOf('\n') < 0) return text.trim();
  return text
    .split(/\r?\n/)
    .map((l) => l.replace(/^\s*[245]\d\d[\s-]/, '').trim())
    .filter((l) => l.length > 0)
    .join(' ');
}

/**
 * Classifies one SMTP reply: the reply code (RFC 5321), the enhanced status code in its text (RFC 3463
 * and the later registry entries) and the wording real servers use when codes are missing or generic.
 *
 * - kind follows the code's class: 2xx delivered, 4xx deferred, 5xx bounced.
 * - bounce (hard/soft) follows the reason: 550 5.1.1 is a hard bounce, 552 5.2.2 a soft one, and so is
 *   450 4.1.1 hard although transient.
 * - retryable is true exactly for 4xx; a 5xx is never retried on the same transport.
 *
 * @param code the reply code, or undefined to read it from the start of `text`
 * @param text the reply text as received (may start with the code and span several lines)
 * @param recipient the address the reply was about, copied into the result
 * @param command the SMTP command the reply answered (`RCPT`, `MAIL`, `DATA`, `EHLO`…); defaults to
 *   `RCPT` when a recipient is given, since a reply about one recipient is the answer to its RCPT TO
 */
export function classifySmtpReply(code: number | undefined, text: string, recipient?: string, command?: string): Classification {
  const raw = text ?? '';
  const replyCode = code ?? replyCodeOf(raw);
  let status = enhancedStatusOf(raw);
  // A status whose class contradicts the reply code is a server's typo, not information.
  if (status !== undefined && replyCode !== undefined && status.charCodeAt(0) - 48 !== Math.floor(replyCode / 100)) {
    status = undefined;
  }
  const diagnostic = flattenReply(raw);
  const cmd = command?.toUpperCase().split(' ')[0] ?? (recipient !== undefined ? 'RCPT' : undefined);
  const reason = decideReason({ status, replyCode, text: diagnostic, command: cmd });
  return buildClassification(reason, replyCode, status, diagnostic, recipient);
}

/**
 * Classifies an RFC 3463 enhanced status code on its own (`5.2.2` → mailboxfull, soft), optionally with
 * the text that came with it.
 */
export function classifyStatus(status: string, text?: string, recipient?: string): Classification {
  const normalized = enhancedStatusOf(status) ?? status.trim();
  const reason = decideReason({ status: normalized, text });
  return buildClassification(reason, undefined, normalized, text?.trim(), recipient);
}
