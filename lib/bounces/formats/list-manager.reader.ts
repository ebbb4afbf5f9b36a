import type { BounceReason } from '../../core/classification.types.js';
import type { BounceFormatReader, Finding, ParsedMail } from '../bounce.types.js';
import { ADDRESS_RE, cleanAddress, cutOriginal, fieldIn, squash } from '../text.helpers.js';

/** A list manager's own headers (fml writes X-MLServer and X-ML-Name; others List-Software). */
function isListManager(mail: ParsedMail): boolean {
  const h = mail.headers;
  if (h.has('x-mlserver') || h.has('x-ml-server') || h.has('list-software')) return true;
  if (isMailman(mail)) return true;
  // The list's administrative address: foo-admin@, foo-owner@, owner-foo@, foo-request@.
  return h.has('x-ml-name') && /(?:-admin|-owner|-request)@|^owner-/.test(mail.from);
}

/**
 * A notice of a list server (Mailman, Sympa, LISTSERV, Majordomo, ecartis, Lyris): from the list's
 * administrative address with list headers, or from the list server's own address.
 */
function isMailman(mail: ParsedMail): boolean {
  if (LIST_SERVER.test(mail.from)) return true;
  const h = mail.headers;
  return (h.has('x-mailman-version') || h.has('list-id')) && ADMIN_ADDRESS.test(mail.from);
}

const ADMIN_ADDRESS = /(?:-admin|-owner|-request|-bounces)@|^owner-/;
const LIST_SERVER = /^(?:sympa|listserv|majordomo|ecartis|lyris|mailman)@/;

/** "The message sent to list@host", "your posting to list@host". */
const POSTED_TO = /(?:message|mail|post(?:ing)?|e-?mail)(?: that you| you)? (?:sent |addressed |posted )?to (?:the list )?<?([^\s<>()"']+@[^\s<>()"']+?)>?(?=[\s,;:)'"]|\.(?:\s|$)|$)/i;

/**
 * The list a Mailman refusal is about: the address the returned message was posted to, else the
 * list's address spelled from the administrative one (announce-owner@ → announce@).
 */
function listAddress(mail: ParsedMail): string | undefined {
  const to = mail.original ? fieldIn(mail.original.slice(0, 20000), 'to') : undefined;
  const m = to ? new RegExp(ADDRESS_RE.source).exec(to) : null;
  if (m) return cleanAddress(m[0]);
  const named = POSTED_TO.exec(cutOriginal(mail.text));
  if (named) return cleanAddress(named[1]!);
  const a = mail.from;
  if (LIST_SERVER.test(a)) return undefined;
  return a.startsWith('owner-') ? a.slice(6) : a.replace(/-(?:admin|owner|request|bounces)@/, '@');
}

/** A Mailman notice that refuses a posting (not one that only says it is held for the moderator). */
const MAILMAN_REFUSAL = /\brejected\b|not (?:allowed|authori[sz]ed|permitted) to (?:post|send)|authori[sz]ation denied|only (?:subscribers|members)|auto-discard|discarded|returned to you unprocessed/i;

/** What list managers say when they refuse a posting, and the reason each means. */
const REFUSALS: ReadonlyArray<readonly [RegExp, BounceReason]> = [
  [/duplicated message-id|duplicate message-id/i, 'notcompliantrfc'],
  [/not a member|are not member|not member article|members? only|only (?:subscribers|members)|non-?members?|not (?:allowed|authori[sz]ed|permitted) to (?:post|send)|authori[sz]ation denied|reject(?:ed)? (?:mail|spammers?)|spam mail from a spammer|may cause mail loop/i, 'rejected'],
  [/security alert/i, 'securityerror'],
  [/loop alert|loop back warning|detected a loop|unix from loop|system error/i, 'systemerror'],
];

const BRACKETED = /<([^\s<>@]+@[^\s<>]+)>/;

/**
 * Refusals by mailing-list managers (fml and the like): not a bounce from an MTA but the list telling
 * the poster that it did not distribute the message. The address the report names in angle brackets
 * (the list, or the poster) is the recipient; the wording says why.
 */
export const listManagerReader: BounceFormatReader = {
  name: 'list-manager',
  read(mail, dsn) {
    if (dsn.length > 0 || !isListManager(mail)) return [];
    const body = cutOriginal(mail.text);
    if (isMailman(mail)) {
      // Mailman names no address in brackets; its refusal is about the list the message was posted to.
      if (!MAILMAN_REFUSAL.test(mail.subject) && !MAILMAN_REFUSAL.test(body)) return [];
      const list = listAddress(mail);
      if (!list) return [];
      const diagnostic = squash(body).slice(0, 600);
      const said = REFUSALS.find(([re]) => re.test(diagnostic));
      const f: Finding = { recipient: list, diagnostic, status: '5.0.0' };
      if (said) f.hint = said[1];
      return [f];
    }
    const out: Finding[] = [];
    let cur: Finding | undefined;
    for (const raw of body.split('\n')) {
      const line = raw.trim();
      if (line.length === 0) continue;
      const m = BRACKETED.exec(line);
      if (m) {
        cur = { recipient: cleanAddress(m[1]!), diagnostic: line };
        out.push(cur);
      } else if (cur) cur.diagnostic = `${cur.diagnostic} ${line}`;
    }
    if (out.length === 0) return [];
    for (const f of out) {
      f.diagnostic = squash(f.diagnostic ?? '');
      const said = REFUSALS.find(([re]) => re.test(f.diagnostic!)) ?? REFUSALS.find(([re]) => re.test(mail.subject));
      if (said) f.hint = said[1];
      f.status = '5.0.0';
    }
    return out;
  },
};
