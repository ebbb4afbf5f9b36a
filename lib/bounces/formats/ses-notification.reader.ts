import type { BounceFormatReader, Finding } from '../bounce.types.js';
import { cleanAddress } from '../text.helpers.js';

interface SesRecipient {
  emailAddress?: string;
  status?: string;
  action?: string;
  diagnosticCode?: string;
}
interface SesNotification {
  notificationType?: string;
  eventType?: string;
  bounce?: { bounceType?: string; bounceSubType?: string; bouncedRecipients?: SesRecipient[]; reportingMTA?: string; timestamp?: string; remoteMtaIp?: string };
  complaint?: { complainedRecipients?: SesRecipient[]; complaintFeedbackType?: string; timestamp?: string };
  delivery?: { recipients?: string[]; smtpResponse?: string; reportingMTA?: string; timestamp?: string; remoteMtaIp?: string };
  mail?: { messageId?: string; timestamp?: string };
  Message?: string;
}

/** The first balanced JSON object in a text (an SNS e-mail has a footer after it). */
function firstJsonObject(text: string): unknown {
  const start = text.indexOf('{');
  if (start < 0) return undefined;
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++;
      else if (c === 34) inString = false;
      continue;
    }
    if (c === 34) inString = true;
    else if (c === 123) depth++;
    else if (c === 125 && --depth === 0) {
      try {
        return JSON.parse(text.slice(start, i + 1));
      } catch {
        // Folded lines inside strings: join them and try once more.
        try {
          return JSON.parse(text.slice(start, i + 1).replace(/\r?\n ?/g, ''));
        } catch {
          return undefined;
        }
      }
    }
  }
  return undefined;
}

function smtpOf(diag: string | undefined): { type?: string; text?: string } {
  if (!diag) return {};
  const semi = diag.indexOf(';');
  if (semi > 0 && semi < 12) return { type: diag.slice(0, semi).trim().toLowerCase(), text: diag.slice(semi + 1).trim() };
  return { text: diag };
}

/**
 * Amazon SES notifications delivered by e-mail through SNS: the JSON event (bounce, complaint or
 * delivery), possibly wrapped in the SNS envelope whose `Message` is the event as a string.
 */
export const sesNotificationReader: BounceFormatReader = {
  name: 'amazon-ses-notification',
  read(mail) {
    if (mail.text.indexOf('notificationType') < 0 && mail.text.indexOf('eventType') < 0) return [];
    let n = firstJsonObject(mail.text) as SesNotification | undefined;
    if (n && typeof n.Message === 'string') {
      try {
        n = JSON.parse(n.Message) as SesNotification;
      } catch {
        return [];
      }
    }
    if (!n || typeof n !== 'object') return [];
    const type = n.notificationType ?? n.eventType;
    const out: Finding[] = [];
    if (type === 'Bounce' && n.bounce) {
      const transient = n.bounce.bounceType === 'Transient';
      const sub = n.bounce.bounceSubType ?? '';
      for (const r of n.bounce.bouncedRecipients ?? []) {
        if (!r.emailAddress) continue;
        const d = smtpOf(r.diagnosticCode);
        const f: Finding = { recipient: cleanAddress(r.emailAddress), action: r.action ?? (transient ? 'delayed' : 'failed') };
        if (r.status) f.status = r.status;
        if (d.text) f.diagnostic = d.text;
        if (d.type) f.diagnosticType = d.type;
        if (n.bounce.reportingMTA) f.reportingMta = n.bounce.reportingMTA.replace(/^dns;\s*/i, '');
        if (n.mail?.timestamp) f.arrivalDate = n.mail.timestamp;
        if (sub === 'Suppressed' || sub === 'OnAccountSuppressionList') f.hint = 'suppressed';
        else if (sub === 'MailboxFull') f.hint = 'mailboxfull';
        else if (sub === 'MessageTooLarge') f.hint = 'emailtoolarge';
        else if (sub === 'ContentRejected' || sub === 'AttachmentRejected') f.hint = 'contenterror';
        else if (sub === 'NoEmail' && !r.status) f.hint = 'userunknown';
        out.push(f);
      }
    } else if (type === 'Complaint' && n.complaint) {
      for (const r of n.complaint.complainedRecipients ?? []) {
        if (!r.emailAddress) continue;
        const f: Finding = { recipient: cleanAddress(r.emailAddress), hint: 'feedback', kind: 'complained' };
        if (n.complaint.complaintFeedbackType) f.diagnostic = n.complaint.complaintFeedbackType;
        out.push(f);
      }
    } else if (type === 'Delivery' && n.delivery) {
      const d = smtpOf(n.delivery.smtpResponse);
      for (const r of n.delivery.recipients ?? []) {
        const f: Finding = { recipient: cleanAddress(r), action: 'delivered' };
        if (d.text) f.diagnostic = d.text;
        if (n.delivery.reportingMTA) f.reportingMta = n.delivery.reportingMTA;
        out.push(f);
      }
    }
    return out;
  },
};
