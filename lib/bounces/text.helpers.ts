/** Small text utilities shared by the report readers. */

export const ADDRESS_RE = /[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+/;
const ADDRESS_G = new RegExp(ADDRESS_RE.source, 'g');

/** The first e-mail address in `text`, lower case, without brackets or a trailing dot. */
export function firstAddress(text: string | undefined): string | undefined {
  if (!text) return undefined;
  const m = ADDRESS_RE.exec(text);
  return m ? cleanAddress(m[0]) : undefined;
}

/** Every e-mail address in `text`, lower case, in order, without duplicates. */
export function allAddresses(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(ADDRESS_G)) {
    const a = cleanAddress(m[0]);
    if (!out.includes(a)) out.push(a);
  }
  return out;
}

export function cleanAddress(a: string): string {
  let s = a.trim().toLowerCase();
  if (s.startsWith('<')) s = s.slice(1);
  while (s.endsWith('.') || s.endsWith('>')) s = s.slice(0, -1);
  return s;
}

const DAEMON = /^(?:mailer-daemon|post_?master|mail-daemon|mailerdaemon|maildelivery|mail\.delivery|no-?reply|double-bounce|bounces?|daemon|root|abuse|mdaemon)\b/i;

const DAEMON_ONLY = /^(?:mailer-daemon|mail-daemon|mailerdaemon|double-bounce)\b/i;

/**
 * Is this the reporting system's own address rather than a recipient's? A mailer-daemon never receives
 * mail; postmaster, abuse and the like do, so they count only on the reporting host's own domain.
 */
export function isReporterAddress(a: string, reporterDomain: string): boolean {
  if (DAEMON_ONLY.test(a)) return true;
  if (!DAEMON.test(a)) return false;
  const at = a.lastIndexOf('@');
  const domain = at >= 0 ? a.slice(at + 1) : '';
  return domain === '' || domain === reporterDomain;
}

/** Is this the address of a mail system rather than of a person? */
export function isSystemAddress(a: string): boolean {
  return DAEMON.test(a);
}

/**
 * Where the copy of the returned message starts in a report's text, so that addresses and phrases in
 * the original message are not read as part of the report.
 */
const ORIGINAL_MARKERS = [
  /^[ \t]*-{2,}[ \t]*(?:this is a copy of (?:the|your) message|below this line is a copy of the message|original message|the original message|returned message|unsent message|undelivered message|message headers follow|header of (?:the )?original message|forwarded message|copy of (?:the )?(?:original )?message)/im,
  /^[ \t]*(?:-{3,}|={3,}|\*{3,})[^\n]*(?:original|returned|unsent|undelivered|headers? of) (?:message|mail)/im,
  /^[ \t]*(?:original message follows|message headers follow|your message reads \(in part\)|a copy of the original message below|the header of the original message is attached|unsent message below|returned message follows|this is a copy of the original message)/im,
  /^content-type: (?:message\/rfc822|text\/rfc822-headers)/im,
];

export function cutOriginal(text: string): string {
  let end = text.length;
  for (const re of ORIGINAL_MARKERS) {
    const m = re.exec(text);
    if (m && m.index < end && m.index > 0) end = m.index;
  }
  return end === text.length ? text : text.slice(0, end);
}

const REPLY_RE = /(?<![\d.#])([245]\d\d)(?:[ -]|$)(?:[ -]?#?([245]\.\d{1,3}\.\d{1,3}))?/;

/** The first SMTP reply code (with its enhanced status if adjacent) that appears in the text. */
export function replyIn(text: string): { code?: number; status?: string } {
  const m = REPLY_RE.exec(text);
  if (!m) return {};
  const code = Number(m[1]);
  const out: { code?: number; status?: string } = { code };
  if (m[2]) out.status = m[2];
  return out;
}

const STATUS_RE = /(?<![\w.])#?([245])\.(\d{1,3})\.(\d{1,3})(?!\.?\d)/g;

/** The most specific RFC 3463 status in the text (a detail other than 0 beats x.0.0). */
export function statusIn(text: string, cls?: string, besides?: string): string | undefined {
  let best: string | undefined;
  for (const m of text.matchAll(STATUS_RE)) {
    if (cls !== undefined && m[1] !== cls) continue;
    const s = `${m[1]}.${Number(m[2])}.${Number(m[3])}`;
    if (s === besides) continue;
    if (best === undefined) best = s;
    else if (best.endsWith('.0.0') && !s.endsWith('.0.0')) best = s;
  }
  return best;
}

const COMMANDS: ReadonlyArray<readonly [RegExp, string]> = [
  [/\b(?:in reply to|after|while sending|response to|did not like our) (?:the )?rcpt(?: to)?\b|>>> ?rcpt to|rcpt[ _]to response|\[rcpt_to\]|smtp:rcpt\b|does not like recipient|\brcpt to[^\n]{0,80}\n?\s*<<< ?[45]/i, 'RCPT'],
  [/\b(?:in reply to|after|while sending|response to|did not like our) (?:the )?mail(?: from)?\b|>>> ?mail from|\bmail from:[^\n]{0,200}\n?\s*<<< ?[45]/i, 'MAIL'],
  [/\b(?:in reply to|after|while sending|did not like our) (?:the )?(?:end of data|data|final data|message body)\b|>>> ?data\b|after end of data/i, 'DATA'],
  [/\b(?:in reply to|after|response to) (?:the )?(?:ehlo|helo)\b|>>> ?(?:ehlo|helo)\b/i, 'EHLO'],
  [/\b(?:after|during) (?:the )?(?:initial connection|greeting|connect)\b|\bat connection time\b/i, 'CONN'],
  [/\bstarttls\b/i, 'STARTTLS'],
];

/** The SMTP command a report says was refused, if it says so. */
export function commandIn(text: string): string | undefined {
  for (const [re, cmd] of COMMANDS) if (re.test(text)) return cmd;
  return undefined;
}

/** Collapses white space into single spaces. */
export function squash(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** The value of the first header-like `Name: value` line in a block (case-insensitive). */
export function fieldIn(block: string, name: string): string | undefined {
  const re = new RegExp(`^${name}:[ \\t]*(.*(?:\\n[ \\t]+.*)*)`, 'im');
  const m = re.exec(block);
  return m ? squash(m[1]!) : undefined;
}

/**
 * Words that, in the reports of Exchange 2003, Lotus Notes/Domino, IMail and similar MTAs which carry
 * no status code, name an unknown mailbox (their own message for it, not a remote server's).
 */
const LOCAL_UNKNOWN = /recipient name is not recognized|\bunknown recipient\b|not listed in (?:domino directory|public name)|invalid final delivery userid|\bunknown user:|no valid recipients for this mm|no such user here/i;

/** Is this the reporting MTA's own "no such mailbox" verdict (see LOCAL_UNKNOWN), with no status code? */
export function isLocalUnknown(text: string): boolean {
  return LOCAL_UNKNOWN.test(text) && statusIn(text) === undefined && replyIn(text).code === undefined;
}
