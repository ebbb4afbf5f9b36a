import type { BounceFormatReader, Finding, ParsedMail } from '../bounce.types.js';
import { allAddresses, fieldIn, isSystemAddress, squash } from '../text.helpers.js';

/** The recipients the returned message was addressed to (its To: and Cc:), minus mail-system addresses. */
function originalRecipients(mail: ParsedMail): string[] {
  const src = mail.original;
  if (!src) return [];
  const end = src.search(/\r?\n\r?\n/);
  const head = (end < 0 ? src : src.slice(0, end)).replace(/\r\n/g, '\n');
  const out = new Set<string>();
  for (const name of ['to', 'cc']) {
    const v = fieldIn(head, name);
    if (v) for (const a of allAddresses(v)) if (!isSystemAddress(a)) out.add(a);
  }
  return [...out];
}

const REPORT_UNAVAILABLE = /^[ \t]*-{2,}[ \t]*delivery report unavailable[ \t]*-{2,}/im;
const SERVER_ERRORS = /^postfix smtp server: errors from /i;

/** `In:  RCPT TO:<a@b> …` lines of a Postfix session transcript, continuation lines joined. */
function transcriptLines(text: string): { dir: 'in' | 'out'; line: string }[] {
  const out: { dir: 'in' | 'out'; line: string }[] = [];
  for (const raw of text.split('\n')) {
    const m = /^\s*(In|Out):\s*(.*)$/.exec(raw);
    if (m) out.push({ dir: m[1] === 'In' ? 'in' : 'out', line: m[2]!.trim() });
    else if (/^\s{2,}\S/.test(raw) && out.length > 0) out[out.length - 1]!.line += ` ${raw.trim()}`;
  }
  return out;
}

/**
 * Two Postfix notices that carry no per-recipient delivery status:
 *
 * - a bounce whose text says "Delivery report unavailable" (Postfix lost the per-recipient log): the
 *   returned message's own To: names the recipient, and no reason is stated;
 * - "Postfix SMTP server: errors from …", the postmaster's copy of a session in which Postfix itself
 *   refused a message: the recipients are those of the transcript's RCPT TO commands, the error is the
 *   last 4xx/5xx line the server sent and the command is the one it answered.
 */
export const postfixNoticeReader: BounceFormatReader = {
  name: 'postfix-notice',
  read(mail, dsn) {
    if (dsn.length > 0) return [];
    if (mail.text.indexOf('eport unavailable') >= 0 && REPORT_UNAVAILABLE.test(mail.text)) {
      return originalRecipients(mail).map((recipient): Finding => ({ recipient }));
    }
    if (!SERVER_ERRORS.test(mail.subject) || !/transcript of session follows/i.test(mail.text)) return [];
    const lines = transcriptLines(mail.text);
    const rcpts: string[] = [];
    let error: string | undefined;
    let command: string | undefined;
    let last: string | undefined;
    for (const { dir, line } of lines) {
      if (dir === 'in') {
        last = line.split(/[\s:]/)[0]!.toUpperCase();
        const r = /^rcpt\s+to:\s*<([^>\s]+@[^>\s]+)>/i.exec(line);
        if (r) rcpts.push(r[1]!.toLowerCase());
        continue;
      }
      if (/^[45]\d\d[\s-]/.test(line) && !/^221\b/.test(line)) {
        error = error === undefined || command !== last ? line : `${error} ${line}`;
        command = last;
      }
    }
    if (rcpts.length === 0 || error === undefined) return [];
    const diagnostic = squash(error);
    return [...new Set(rcpts)].map((recipient): Finding => {
      const f: Finding = { recipient, diagnostic };
      if (command) f.command = command === 'DATA' || command === '.' ? 'DATA' : command;
      return f;
    });
  },
};
