import type { BounceFormatReader, Finding, ParsedMail } from '../bounce.types.js';
import { addressOfTyped, parseFields } from '../dsn.reader.js';
import { allAddresses, fieldIn, firstAddress, isSystemAddress } from '../text.helpers.js';

/** The recipients a complaint is about, from the copy of the original message. */
function originalRecipients(original: string | undefined): string[] {
  if (!original) return [];
  const head = original.slice(0, Math.max(0, original.search(/\r?\n\r?\n/)) || original.length);
  const to = fieldIn(head, 'to');
  return to ? allAddresses(to).filter((a) => !isSystemAddress(a)) : [];
}

function complaint(recipient: string, fields: { feedbackType?: string; arrivalDate?: string; reportingMta?: string; diagnostic?: string }): Finding {
  const f: Finding = { recipient, hint: 'feedback', kind: 'complained' };
  if (fields.arrivalDate) f.arrivalDate = fields.arrivalDate;
  if (fields.reportingMta) f.reportingMta = fields.reportingMta;
  if (fields.diagnostic) f.diagnostic = fields.diagnostic;
  return f;
}

/**
 * RFC 5965 Abuse Reporting Format complaints (feedback loops of Yahoo, AOL, Comcast, Return Path…),
 * Microsoft's JMRP reports (the complained-about message attached to a "complaint about message
 * from" note) and one-click unsubscribe mails sent by mail clients.
 */
export const feedbackReader: BounceFormatReader = {
  name: 'feedback',
  read(mail: ParsedMail) {
    if (mail.feedbackReport !== undefined || mail.reportType === 'feedback-report') {
      const fields = parseFields(mail.feedbackReport ?? '');
      const rcpts = new Set<string>();
      let feedbackType: string | undefined;
      let arrivalDate: string | undefined;
      let reportingMta: string | undefined;
      let removal: string | undefined;
      for (const { name, value } of fields) {
        if (name === 'original-rcpt-to') {
          const a = addressOfTyped(value);
          if (a) rcpts.add(a);
        } else if (name === 'feedback-type') feedbackType = value.toLowerCase();
        else if (name === 'arrival-date' || name === 'received-date') arrivalDate = value;
        else if (name === 'reporting-mta') reportingMta = value.split(';').pop()?.trim();
        else if (name === 'removal-recipient') removal = addressOfTyped(value);
      }
      if (rcpts.size === 0) for (const a of originalRecipients(mail.original)) rcpts.add(a);
      if (rcpts.size === 0 && removal) rcpts.add(removal);
      const firstLine = mail.text.split('\n').find((l) => l.trim().length > 0)?.trim();
      const info = { feedbackType, arrivalDate, reportingMta, diagnostic: firstLine };
      // A complaint whose report names nobody still says a complaint happened.
      if (rcpts.size === 0) return [complaint('', info)];
      return Array.from(rcpts, (r) => complaint(r, info));
    }
    if (/complaint about message from/i.test(mail.subject) && mail.original !== undefined) {
      return originalRecipients(mail.original).map((r) => complaint(r, { diagnostic: mail.subject }));
    }
    if (/sent this e-?mail to unsubscribe/i.test(mail.text) && mail.from) {
      const r = firstAddress(mail.from);
      if (r) return [complaint(r, { feedbackType: 'opt-out', diagnostic: mail.text.trim().split('\n')[0] })];
    }
    return [];
  },
};
