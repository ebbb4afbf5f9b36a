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
  const out = new Set<string>();
  for (const m of text.matchAll(ADDRESS_G)) out.add(cleanAddress(m[0]));
  return [...out];
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
  /^[ \t]*(?:original message follows|message headers follow|your message reads \(in part\)|a copy of the original message below|the header of the original message is attached|unsent message below|returned message follows|this is a copy of the original message|possibly truncated original message follows)/im,
  /^content-type: (?:message\/rfc822|text\/rfc822-headers)/im,
  /^[ \t|]*-{3,}[ \t]*(?:message text follows|original mail as follows)|^original mail as follows:/im,
  // The same separators in the languages of webmail providers' templates.
  /^[ \t]*[-=]{2,}[ \t]*(?:die ursprüngliche nachricht|ursprüngliche nachricht|originalnachricht|message d'origine|message original|mensaje original|messaggio originale|mensagem original|oorspronkelijk bericht|oorspronkelijke bericht|元のメッセージ|原始邮件|原邮件|исходное сообщение)/im,
];

let lastCutIn = '';
let lastCutOut = '';

export function cutOriginal(text: string): string {
  // Several readers ask for the same mail's text in turn: remember the last answer.
  if (text === lastCutIn) return lastCutOut;
  const out = cutOriginalOf(text);
  lastCutIn = text;
  lastCutOut = out;
  return out;
}

function cutOriginalOf(text: string): string {
  let end = text.length;
  for (const re of ORIGINAL_MARKERS) {
    const m = re.exec(text);
    if (m && m.index < end && m.index > 0) end = m.index;
  }
  return end === text.length ? text : text.slice(0, end);
}

const REPLY_RE = /(?<![\d.#])([245]\d\d)(?:[ -]|$)(?:[ -]?['"]?#?([245]\.\d{1,3}\.\d{1,3}))?/;
const REPLY_RE_G = new RegExp(REPLY_RE.source, 'g');
/**
 * Codes some MTAs label or punctuate instead of writing them first: Zoho's `ERROR_CODE :550` and
 * `ResponseCode 421`, Yahoo's `550: 5.2.2 …` at the start of the text.
 */
const LABELLED_REPLY = /(?:error_code|response ?code|reply ?code|smtp ?code)\s*[:=]?\s*([245]\d\d)\b|^([245]\d\d):(?:\s+#?([245]\.\d{1,3}\.\d{1,3}))?(?=\s|$)/i;

/**
 * The first SMTP reply code (with its enhanced status if adjacent) that appears in the text; with
 * `cls`, the first one of that class (`554 4.4.7 Message expired … <421 4.4.2 Connection timed out>`
 * has a 4xx reply behind its 554).
 */
export function replyIn(text: string, cls?: string): { code?: number; status?: string } {
  if (cls !== undefined) {
    REPLY_RE_G.lastIndex = 0;
    for (let m = REPLY_RE_G.exec(text); m !== null; m = REPLY_RE_G.exec(text)) {
      if (m[1]![0] !== cls) continue;
      const out: { code?: number; status?: string } = { code: Number(m[1]) };
      if (m[2]) out.status = m[2];
      return out;
    }
    return {};
  }
  // A reply whose status has the class of its code is the remote's; `554 4.4.7` is a wrapper around it.
  REPLY_RE_G.lastIndex = 0;
  let m: RegExpExecArray | null = null;
  for (let p = REPLY_RE_G.exec(text); p !== null; p = REPLY_RE_G.exec(text)) {
    m ??= p;
    if (p[2] !== undefined && p[2][0] === p[1]![0]) return { code: Number(p[1]), status: p[2] };
  }
  if (!m) {
    const l = LABELLED_REPLY.exec(text);
    if (!l) return {};
    const out: { code?: number; status?: string } = { code: Number(l[1] ?? l[2]) };
    if (l[3]) out.status = l[3];
    return out;
  }
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

/**
 * Gmail's classic notices end the remote reply with the SMTP stage it came at: "(state 14)" is the
 * RCPT, 15–18 the DATA, 13 the greeting/EHLO, 6 the STARTTLS before MAIL.
 */
const GMAIL_STATE: ReadonlyArray<readonly [RegExp, string]> = [
  [/\(state 14\)/, 'RCPT'],
  [/\(state 1[5-8]\)/, 'DATA'],
  [/\(state 13\)/, 'EHLO'],
  [/\(state 6\)/, 'MAIL'],
];

const COMMANDS: ReadonlyArray<readonly [RegExp, string]> = [
  ...GMAIL_STATE,
  [/\b(?:in reply to|after|while sending|response to|did not like our) (?:the )?rcpt(?: to)?\b|>>> ?rcpt to|rcpt[ _]to response|\[rcpt_to\]|smtp:rcpt\b|does not like recipient|\brcpt to[^\n]{0,80}\n?\s*<<< ?[45]/i, 'RCPT'],
  [/\b(?:in reply to|after|while sending|response to|did not like our) (?:the )?mail(?: from)?\b|>>> ?mail from|\bmail from:[^\n]{0,200}\n?\s*<<< ?[45]/i, 'MAIL'],
  [/\b(?:in reply to|after|while sending|did not like our) (?:the )?(?:end of data|data|final data|message body)\b|>>> ?data\b|after end of data/i, 'DATA'],
  [/\b(?:in reply to|after|response to) (?:the )?(?:ehlo|helo)\b|>>> ?(?:ehlo|helo)\b/i, 'EHLO'],
  [/\b(?:after|during) (?:the )?(?:initial connection|greeting|connect)\b|\bat connection time\b/i, 'CONN'],
  [/\bstarttls\b/i, 'STARTTLS'],
];

/** The SMTP command a report says was refused, if it says so. */
let lastCommandIn = '';
let lastCommandOut: string | undefined;

export function commandIn(text: string): string | undefined {
  // The same report body is asked about once per recipient block: remember the last answer.
  if (text === lastCommandIn && text.length > 0) return lastCommandOut;
  let out: string | undefined;
  for (const [re, cmd] of COMMANDS) {
    if (re.test(text)) {
      out = cmd;
      break;
    }
  }
  lastCommandIn = text;
  lastCommandOut = out;
  return out;
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
const LOCAL_UNKNOWN = /recipient name is not recognized|unable to deliver message to <[^>]+> \(and other recipients in the same domain\)|\bunknown recipient\b|not listed in (?:domino directory|public name)|invalid final delivery userid|\bunknown user:|\breceiver not found:|no valid recipients for this mm|no such user here|\(user not found\)/i;
/**
 * The same verdict in the languages of providers' own templates (a remote SMTP reply is all but never
 * localized): unless the words are about a domain.
 */
const LOCAL_UNKNOWN_LOCALIZED = /empfängername wurde nicht erkannt|nom du destinataire n'(?:est pas|a pas été) reconnu|nombre del destinatario no (?:se )?(?:reconoce|ha sido reconocido)|nome del destinatario non [èe] (?:stato )?riconosciuto|nome do destinat[áa]rio n[ãa]o (?:foi )?reconhecido|naam van de ontvanger (?:is|werd) niet herkend|existiert nicht|n'existe (?:pas|plus)|no existe|non esiste|n[ãa]o existe|bestaat niet|inesistente|inexistente|unbekannte?r? (?:empfänger|benutzer)|utente sconosciuto|usu[aá]rio desconhecido|onbekende (?:gebruiker|ontvanger)|(?:adresse|destinataire|utilisateur)(?: [ée]lectronique)? inconnue?|(?:usuario|destinatario) desconocid|(?:utente|destinatario) sconosciut|(?:usu[aá]rio|destinat[aá]rio) desconhecid|(?:empfänger|benutzer|adresse) (?:ist )?unbekannt|存在しません|見つかりません|不存在|не существует|не найден/im;

const ABOUT_DOMAIN = /domain|domaine|dominio|domein|dom[äa]ne|ドメイン|域名|домен/i;

/** Is this the reporting MTA's own "no such mailbox" verdict (see LOCAL_UNKNOWN), with no status code? */
export function isLocalUnknown(text: string): boolean {
  if (!LOCAL_UNKNOWN.test(text) && !(LOCAL_UNKNOWN_LOCALIZED.test(text) && !ABOUT_DOMAIN.test(text))) return false;
  return statusIn(text) === undefined && replyIn(text).code === undefined;
}
