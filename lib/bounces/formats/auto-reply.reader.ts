import type { BounceFormatReader, Finding, ParsedMail } from '../bounce.types.js';
import { matchReasonText, normalizeDiagnostic } from '../reason.classifier.js';
import { isSystemAddress, squash } from '../text.helpers.js';

const AUTO_SUBJECT = /^(?:auto(?:matic)?[ -]?(?:reply|response|respons|antwort|answer)|out of (?:the )?office|away\b|on vacation|vacation|abwesenheit|absence|r[ée]ponse automatique|risposta automatica|respuesta autom[aá]tica|automatisch antwoord|ooo\b)/i;
const AUTO_BODY = /out of (?:the )?office|away (?:from|until|on)|on (?:vacation|holiday|leave)|currently (?:away|out)|limited access to (?:e-?mail|my mail)|upon my return|i will (?:be back|return)|no longer (?:in use|monitored|active)|autoreply|auto-reply|travell?ing|intermittent access|respond to your (?:message|e-?mail)/i;

function isAutoReply(mail: ParsedMail): boolean {
  const h = mail.headers;
  const auto = (h.get('auto-submitted') ?? '').toLowerCase();
  if (auto.startsWith('auto-replied')) return true;
  if (h.has('x-autoreply') || h.has('x-autorespond') || h.has('x-autoresponder')) return true;
  if ((h.get('x-apple-action') ?? '').toUpperCase() === 'VACATION') return true;
  if (/auto[_-]?reply/i.test(h.get('precedence') ?? '')) return true;
  return AUTO_SUBJECT.test(mail.subject.trim()) && AUTO_BODY.test(mail.text);
}

/**
 * RFC 3834 automatic responses (vacation, out-of-office, "this address is no longer in use"). Not a
 * bounce: the message was delivered and a person's or a system's robot answered. Reported with reason
 * 'vacation', or the reason the answer itself states when it says the mailbox is gone.
 */
export const autoReplyReader: BounceFormatReader = {
  name: 'auto-reply',
  read(mail) {
    if (!mail.from || isSystemAddress(mail.from) && !/noreply|no-reply/i.test(mail.from)) return [];
    if (!isAutoReply(mail)) return [];
    const text = squash(mail.text).slice(0, 400);
    const said = matchReasonText(normalizeDiagnostic(text));
    const f: Finding = { recipient: mail.from, diagnostic: text, hint: said === 'suspend' ? 'suspend' : 'vacation' };
    return [f];
  },
};
