import type { BounceFormatReader, Finding, ParsedMail } from '../bounce.types.js';
import {
  ADDRESS_RE,
  cleanAddress,
  commandIn,
  cutOriginal,
  isLocalUnknown,
  isReporterAddress,
  isSystemAddress,
  replyIn,
  squash,
  statusIn,
} from '../text.helpers.js';

/**
 * The plain-text reports most MTAs write without (or besides) a delivery-status part share one
 * shape: a recipient address that starts a line — bare, in angle brackets, or followed by a colon —
 * and the explanation on the same and following lines, up to a blank line. Postfix, qmail (and its
 * vpopmail/netqmail relatives), Exim, Courier, OpenSMTPD, Yahoo, Gmail's classic notices, Mail.ru,
 * DragonFly and many appliance MTAs (McAfee, MXLogic, mFILTER, SurfControl…) all write it.
 */

const LEAD = String.raw`^[ \t>*•-]*(?:[245]\d\d[ -](?:[245]\.\d{1,3}\.\d{1,3} )?)?(?:([^:\n@<>"]{1,48}?)[ \t]*[:：][ \t]*)?"?'?<?(${ADDRESS_RE.source})(?![\w-]|\.[\w-])>?'?"?`;
const ADDRESS_LINE = new RegExp(`${LEAD}(?=$|[ \\t]*(?:[:.(,;\\-\\[]|\\.\\.\\.|$|\\s+[(<]|\\s+(?:said|failed|has|was|is|on|-)\\b|\\s+(?:[^\\s\\d]{1,3}\\s+)?\\d{1,4}[./-]\\d{1,2}[./-]\\d{1,4}\\b|\\s+(?=[^\\n]*\\b(?:[245]\\d\\d|error|invalid|unknown|rejected|denied|not found|full)\\b)))(.*)$`, 'i');
/** How many lines after a quoted header the refused recipients are looked for (they follow within a few). */
const QUOTE_REACH = 200;
/** A header line of a quoted message (`To: …`, `Cc: …`) rather than a line of the report. */
const QUOTED_HEADER = /^\s*(?:to|cc|bcc|from|reply-to|sender|return-path)\s*:/i;
/** Labels that only say "this is the address" (their words are not part of the diagnostic). */
const ADDRESS_LABEL = /^(?:(?:final |original |failed |invalid |bad )?(?:recipient|address|rcpt(?: to)?|to|for|user|mailbox|destinataire|empfänger|e-?mail(?: address)?)(?:\(s\)|es|s)?|address\(es\))$/i;
const SENTENCE_RECIPIENT = [
  /recipients? returned (?:permanent|temporary|transient) errors?:\s*<?([^\s<>()"]+@[^\s<>()"]+?)>?(?=[\s,;)]|\.(?:\s|$)|$)/i,
  /undeliverable to:?\s*<?([^\s<>()"]+@[^\s<>()"]+?)>?(?=[\s,;)]|\.(?:\s|$)|$)/i,
  /(?:delivering|deliver|delivery of) (?:your )?(?:mail|message|e-?mail)? ?(?:to|for) (?:the following (?:recipients?|address(?:es)?):?\s*)?<?([^\s<>()"]+@[^\s<>()"]+?)>?(?=[\s,:;)]|\.(?:\s|$)|$)/i,
  /(?:could not|couldn't|can ?not|was not|wasn't|cannot) be (?:delivered|sent|forwarded) to:?\s*<?([^\s<>()"]+@[^\s<>()"]+?)>?(?=[\s,:;)]|\.(?:\s|$)|$)/i,
  /(?:message|mail|e-?mail) (?:to|for|addressed to) <?([^\s<>()"]+@[^\s<>()"]+?)>?(?=[\s,;:)]|\.(?:\s|$)|$)/i,
  /(?:message|mail|e-?mail) (?:that )?you (?:sent|wrote|addressed) (?:to|for) <?([^\s<>()"]+@[^\s<>()"]+?)>?(?=[\s,;:)]|\.(?:\s|$)|$)/i,
  /(?:rcpt to|recipient|address(?:ee)?|destinataire|to):?\s*<([^\s<>()"]+@[^\s<>()"]+?)>/i,
];

const BOUNCE_SUBJECT = /undeliver|deliver(?:y|ing)? (?:status|fail|problem|report|notification|has failed|incomplete)|returned mail|return(?:ed)? to sender|failure notice|mail delivery|not (?:be )?delivered|non-?delivery|nondeliverable|rejected|bounce|delayed|could not|warning|mail system error|delivery status|message (?:not|status)|unzustellbar|nicht zugestellt|non remis|non d[ée]livr[ée]|no entregado|no se ha podido entregar|mancata consegna|non recapitat|n[ãa]o entregue|onbestelbaar|niet afgeleverd|配信エラー|配送エラー|配信不能|送信エラー|不達|退信|未送达|投递失败|недостав|не доставлен|error|problem|failed|blocked|refused/i;
export const BOUNCE_BODY = /error delivering|delivery errors?\b|could not send|failed addresses|no valid recipients|unknown host|malformed (?:recipient )?address|incorrectly constructed|did not like|did not reach|not reach|unknown (?:user|recipient)|undeliverable|no such|invalid (?:recipient|address)|(?:could not|couldn't|can ?not|unable to|wasn't able to|was not able to|failed to|did not) (?:be )?deliver|(?:delivery|deliveries) (?:to the following|has failed|failed|problem|status)|permanent (?:error|fatal|failure)|undeliver|returned to (?:the )?sender|not (?:be )?delivered|fatal error|rejected|remote (?:host|server|mail server)|said:|smtp error|user unknown|does not exist|delivery failure|mail delivery|temporary failure|giving up|has been delayed|delayed|could not be sent|was not delivered|nicht zugestellt|unzustellbar|n'a pas pu [êe]tre (?:remis|d[ée]livr|distribu|achemin)|non (?:remis|d[ée]livr)|no (?:se )?(?:ha )?(?:podido|pudo) (?:ser )?entrega|no (?:ha sido|fue) entregad|non [èe] stato (?:recapitat|consegnat)|impossibile (?:recapitare|consegnare)|n[ãa]o (?:p[ôo]de|foi poss[íi]vel) (?:ser )?entreg|n[ãa]o foi entregue|kon niet (?:worden )?(?:afgeleverd|bezorgd)|niet (?:worden )?(?:afgeleverd|bezorgd)|配信できませんでした|送信できませんでした|届けることができませんでした|配送できませんでした|無法投遞|无法投递|未能(?:成功)?(?:送达|投递)|被退回|не (?:был[оа]? )?доставлен|не удалось доставить|недоставленн|nicht erreicht|n'a pas (?:pu )?atteint|n'a pu [êe]tre (?:remis|d[ée]livr|distribu|achemin)|non [èe]' stato (?:recapitat|consegnat)|no (?:ha )?(?:llegó|llego|alcanzado|pudo llegar)|non (?:ha )?raggiunto|n[ãa]o (?:alcançou|chegou)|niet bereikt/i;

const STRONG_SUBJECT = /undeliver|returned mail|failure notice|mail failure|delivery (?:status|failure|report)|non-?delivery|delivery failed|mail delivery|not delivered/i;

function looksLikeBounce(mail: ParsedMail): boolean {
  if (isSystemAddress(mail.from) || /mail delivery|mailer|postmaster|delivery (?:subsystem|system|service)|mail ?administrator|mailsystem|daemon/i.test(mail.fromRaw)) return true;
  return BOUNCE_SUBJECT.test(mail.subject);
}

function remoteHostIn(text: string): string | undefined {
  const m = /(?:\bhost|remote (?:host|server)|server|mx)\s+([a-z0-9][\w.-]*\.[a-z]{2,})\s*\[?[\d.:a-f]*\]?\s*(?:said|:|refused|failed|did not like)/i.exec(text);
  return m ? m[1]!.toLowerCase() : undefined;
}

/**
 * What the whole report says, for the recipients whose own lines do not: worked out at most once per
 * report (a report may list thousands of recipients), and only when some recipient needs it.
 */
let reportText: string | undefined;
let reportSquashed: string | undefined;
/** null: not looked for yet in `reportText`. */
let reportCommand: string | undefined | null = null;

function sameReport(whole: string): void {
  if (whole === reportText) return;
  reportText = whole;
  reportSquashed = undefined;
  reportCommand = null;
}

function squashedReport(whole: string): string {
  sameReport(whole);
  return (reportSquashed ??= squash(whole));
}

function commandOfReport(whole: string): string | undefined {
  sameReport(whole);
  if (reportCommand === null) reportCommand = commandIn(whole);
  return reportCommand;
}

function finding(recipient: string, diagnostic: string, whole: string): Finding {
  const diag = squash(diagnostic);
  const f: Finding = { recipient };
  if (isLocalUnknown(diagnostic)) f.hint = 'userunknown';
  if (diag.length > 0) f.diagnostic = diag;
  const source = diag.length > 0 ? diag : squashedReport(whole);
  let r = replyIn(source);
  // Sendmail writes its own code before the address and the remote's after it: "554 <a@b>... 550 Host unknown".
  const inner = /^[245]\d\d[ -][^ ]*@[^ ]*\s+(?:\.\.\.\s*)?(.*)$/.exec(source);
  if (inner) {
    const r2 = replyIn(inner[1]!);
    if (r2.code !== undefined) r = r2;
  }
  if (r.code !== undefined) f.replyCode = r.code;
  const st = statusIn(source, r.code !== undefined ? String(r.code)[0] : undefined) ?? statusIn(source);
  if (st) f.status = st;
  const cmd = commandIn(diagnostic) ?? commandOfReport(whole);
  if (cmd) f.command = cmd;
  const host = remoteHostIn(diagnostic);
  if (host) f.remoteMta = host;
  return f;
}

function domainOf(a: string): string {
  const at = a.lastIndexOf('@');
  return at >= 0 ? a.slice(at + 1) : '';
}

function indentOf(l: string): number {
  let i = 0;
  while (i < l.length && (l.charCodeAt(i) === 32 || l.charCodeAt(i) === 9)) i++;
  return i;
}

/** Address-led blocks: the recipient starts a line, the reason follows it. */
export function readAddressBlocks(body: string, exclude: ReadonlySet<string>, allow?: ReadonlySet<string>, reporterDomain = ''): Finding[] {
  const lines = body.split('\n');
  const out: Finding[] = [];
  const seen = new Map<string, Finding>();
  let explainedUntil = -1;
  let explainedIndent = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.length > 300 || line.indexOf('@') < 0) continue;
    if (i < explainedUntil && indentOf(line) > explainedIndent) continue;
    const m = ADDRESS_LINE.exec(line);
    if (!m) continue;
    const label = (m[1] ?? '').trim();
    let addr = cleanAddress(m[2]!);
    // `a@b <c@d>: …` is a To: value whose display name looks like an address; the bracketed one is it.
    const bracketed = /^\s+<([^\s<>@]+@[^\s<>]+)>/.exec(m[3] ?? '');
    if (bracketed) {
      addr = cleanAddress(bracketed[1]!);
      m[3] = m[3]!.slice(bracketed[0].length);
    }
    if (exclude.has(addr) || (isReporterAddress(addr, reporterDomain) && !allow?.has(addr)) || addr.indexOf('=') >= 0 && /(?:mailfrom|header\.\w+|helo)=/.test(addr)) continue;
    if (/^\s*(?:from|reply-to|return-path|sender|message-id|in-reply-to|references|cc)\s*:/i.test(line)) continue;
    // A delivery-status block copied into the text is read as such, not as a recipient's explanation.
    if (/^\s*(?:final|original)-recipient\s*:|^\s*x-actual-recipient\s*:/i.test(line)) continue;
    // Exchange quotes the message first ("Your message  To: a@b  Subject: …  Sent: …"): that To: line
    // is the sender's header, not the report, when an address-led line follows further down (the
    // same address, or the one the message was finally refused for).
    if (
      /^(?:to|cc)$/i.test(label) && /^\s*(?:subject|sent|date)\s*:/i.test(lines[i + 1] ?? '')
      && lines.slice(i + 2, i + 2 + QUOTE_REACH).some((l) => l.toLowerCase().includes(addr) || ADDRESS_LINE.test(l) && !QUOTED_HEADER.test(l))
    ) continue;
    const parts: string[] = [];
    // A reply that starts the line ("550 5.1.1 <a@b>: …", Yahoo's "550: <a@b>: …") is kept whole: how
    // it names the address is part of what the remote said.
    const code = /^\s*[245]\d\d(?:[ -]|:[ \t])/.exec(line);
    if (code) parts.push(line.trim());
    if (label && !code && !ADDRESS_LABEL.test(label)) {
      if (/^(?:from|reply-to|return-path|sender|message-id|in-reply-to|references|cc|subject|date)$/i.test(label)) continue;
      parts.push(label);
    }
    const rest = (m[3] ?? '').replace(/^[\s:.,;-]+/, '');
    if (rest && !code) parts.push(rest);
    let j = i + 1;
    // The explanation may start after one blank line (qmail, Yahoo) but ends at the next blank line
    // once it has begun, or at the next address-led line.
    if (parts.length === 0 && j < lines.length && lines[j]!.trim() === '') j++;
    if (parts.length === 0 && j < lines.length && lines[j]!.trim() === '') j++;
    for (; j < lines.length && j < i + 14; j++) {
      const l = lines[j]!;
      if (l.trim() === '') {
        // "For the following reason:" and its like announce the reason after a blank line.
        const last = parts[parts.length - 1];
        if (last !== undefined && last.endsWith(':') && j + 1 < lines.length && lines[j + 1]!.trim() !== '') continue;
        break;
      }
      const indented = indentOf(l) > indentOf(line);
      if (!indented && ADDRESS_LINE.test(l) && (/^[ \t]*<?[^\s@<>:]+@/.test(l) || !/^\s+\(|said|error|reason/i.test(l))) break;
      if (/^\s*(?:-{3,}|={3,}|\*{3,})/.test(l)) break;
      parts.push(l.trim());
    }
    // An address further in, on the explanation's own lines ("after RCPT TO:<b@c>:"), is part of
    // what happened to this recipient, not another recipient.
    explainedUntil = j;
    explainedIndent = indentOf(line);
    const prev = seen.get(addr);
    if (prev) {
      if (!prev.diagnostic && parts.length > 0) Object.assign(prev, finding(addr, parts.join(' '), body));
      continue;
    }
    const f = finding(addr, parts.join(' '), body);
    seen.set(addr, f);
    out.push(f);
  }
  return out;
}

function sentenceRecipient(body: string, exclude: ReadonlySet<string>, reporterDomain: string): string | undefined {
  for (const re of SENTENCE_RECIPIENT) {
    const m = re.exec(body);
    if (!m) continue;
    const a = cleanAddress(m[1]!);
    // postmaster@ or abuse@ another domain is a mailbox like any other; the reporter's own is not.
    if (ADDRESS_RE.test(a) && !exclude.has(a) && !isReporterAddress(a, reporterDomain)) return a;
  }
  return undefined;
}

/** Lines that carry the remote server's words, in the order the report gives them. */
function diagnosticLines(body: string): string {
  const keep: string[] = [];
  for (const l of body.split('\n')) {
    if (/(?:^|\s)[245]\d\d[\s-]|said:|error|reason|not listed|not recognized|unable to deliver|rejected|unknown|not exist|denied|failed|refused|blocked|quota|full|invalid|timed? ?out|expired|delay|unable|couldn't|could not|disabled|spam|policy|exceed|limit|size|not found|no such|does not|suspend|inactive|relay|loop|pipe to|generated by|child process|mailbox|attachment|file (?:type|extension)|not allowed|content/i.test(l)) keep.push(l.trim());
    if (keep.length >= 12) break;
  }
  return keep.join(' ');
}

/** The To: address of the first header block in the returned-message part of a text report. */
function originalTo(rest: string, exclude: ReadonlySet<string>): string | undefined {
  const m = /^to:[ \t]*([^\n]*(?:\n[ \t]+[^\n]*)*)/im.exec(rest);
  if (!m) return undefined;
  const a = new RegExp(ADDRESS_RE.source).exec(m[1]!);
  if (!a) return undefined;
  const addr = cleanAddress(a[0]);
  return exclude.has(addr) || isSystemAddress(addr) ? undefined : addr;
}

/** Every address the To: and Cc: fields of the returned message's first header block name. */
function originalRecipients(rest: string): Set<string> {
  const out = new Set<string>();
  // The headers end at the first blank line that more header fields do not follow (a separator line
  // and a blank line may come before them).
  const end = rest.search(/\n[ \t]*\n(?![ \t]*[\w-]+:)/);
  const head = end > 0 ? rest.slice(0, end) : rest;
  for (const m of head.matchAll(/^(?:to|cc):[ \t]*([^\n]*(?:\n[ \t]+[^\n]*)*)/gim)) {
    for (const a of m[1]!.matchAll(new RegExp(ADDRESS_RE.source, 'g'))) out.add(cleanAddress(a[0]));
  }
  return out;
}

/**
 * The addresses of the returned message whose local part the report names on its own, as a word
 * (not inside an address). Looked for only when the report names no address, among at most 50.
 */
function recipientsByLocalPart(body: string, original: ReadonlySet<string>, exclude: ReadonlySet<string>): string[] {
  if (original.size === 0 || original.size > 50) return [];
  const lower = body.toLowerCase();
  const out: string[] = [];
  for (const a of original) {
    if (exclude.has(a)) continue;
    const local = a.slice(0, a.lastIndexOf('@'));
    if (local.length < 2) continue;
    const re = new RegExp(`(?:^|[\\s'"(<:])${local.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?=$|[\\s'")>:,;.](?![\\w-]*@))`, 'm');
    if (re.test(lower)) out.push(a);
  }
  return out;
}

const REPORT_INSIDE = /multipart\/report|delivery-status|^from:[^\n]*(?:mailer-daemon|postmaster)/im;

/** Recipients an X-Failed-Recipients header names (Exim, Google and others write it). */
export function failedRecipients(mail: ParsedMail): string[] {
  const v = mail.headers.get('x-failed-recipients');
  if (!v) return [];
  return [...new Set(Array.from(v.matchAll(new RegExp(ADDRESS_RE.source, 'g')), (m) => cleanAddress(m[0])))];
}

export function excludedAddresses(mail: ParsedMail): Set<string> {
  const ex = new Set<string>();
  if (mail.from) ex.add(mail.from);
  const to = mail.headers.get('to');
  if (to) for (const m of to.matchAll(new RegExp(ADDRESS_RE.source, 'g'))) ex.add(cleanAddress(m[0]));
  return ex;
}

export const textBlockReader: BounceFormatReader = {
  name: 'text-block',
  read(mail, dsn) {
    if (dsn.length > 0 || !looksLikeBounce(mail)) return [];
    const body = cutOriginal(mail.text);
    if (!BOUNCE_BODY.test(body) && !STRONG_SUBJECT.test(mail.subject)) return [];
    const exclude = excludedAddresses(mail);
    const reporter = domainOf(mail.from);
    let blocks = readAddressBlocks(body, exclude, undefined, reporter);
    if (blocks.length === 0) {
      const r = sentenceRecipient(body, exclude, reporter);
      if (r) return [finding(r, diagnosticLines(body), body)];
      // The sender may have written to itself: its own address is then the recipient.
      blocks = readAddressBlocks(body, new Set([mail.from]), undefined, reporter).filter((f) => f.diagnostic || f.replyCode);
    }
    const diagAll = diagnosticLines(body);
    for (const f of blocks) {
      if (f.replyCode === undefined && blocks.length === 1 && diagAll.length > 0 && f.diagnostic !== diagAll) {
        Object.assign(f, finding(f.recipient, f.diagnostic ? `${f.diagnostic} ${diagAll}` : diagAll, body));
      }
    }
    const failed = failedRecipients(mail);
    if (failed.length > 0) {
      // The header and the text name as many addresses and none in common: the same failures spelled
      // two ways (an address rewritten on the way). The text's spelling wins when it is the one the
      // returned message was addressed to, the address the sender knows.
      const told = new Map<string, Finding>();
      for (const x of blocks) if ((x.diagnostic || x.replyCode) && !told.has(x.recipient)) told.set(x.recipient, x);
      if (told.size === failed.length && !failed.some((a) => told.has(a))) {
        const original = originalRecipients(mail.text.slice(body.length));
        if ([...told.keys()].every((a) => original.has(a)) && !failed.some((a) => original.has(a))) return [...told.values()];
      }
      return failed.map((a) => told.get(a) ?? finding(a, diagAll, body));
    }
    const withText = blocks.filter((f) => f.diagnostic || f.replyCode);
    if (withText.length > 0) {
      const diag = diagnosticLines(body);
      for (const f of blocks) {
        if (!f.diagnostic) Object.assign(f, finding(f.recipient, diag, body), { recipient: f.recipient });
        else if (f.replyCode === undefined && blocks.length === 1 && replyIn(diag).code !== undefined) {
          Object.assign(f, finding(f.recipient, `${f.diagnostic} ${diag}`, body));
        }
      }
      return blocks;
    }
    const diag = diagnosticLines(body);
    if (blocks.length > 0) return blocks.map((f) => finding(f.recipient, diag, body));
    const r = sentenceRecipient(body, exclude, reporter);
    if (r) return [finding(r, diag, body)];
    // Nothing in the report names the recipient as an address: the returned message (attached, or
    // quoted after the report) does. GroupWise and IMail name the refused mailbox by its local part
    // ("r.bauer (user not found)", "unknown user: 'tom'"); others only say why.
    if (diag.length > 0) {
      const quoted = mail.original ?? mail.text.slice(body.length);
      // A report forwarded with the bounce attached: that bounce is read instead (parseBounceReport).
      if (REPORT_INSIDE.test(quoted.slice(0, 8192))) return [];
      const named = recipientsByLocalPart(body, originalRecipients(quoted), exclude);
      if (named.length > 0) return named.map((a) => finding(a, diag, body));
      const to = originalTo(quoted, exclude);
      if (to) return [finding(to, diag, body)];
    }
    return [];
  },
};
