import type { Finding } from './bounce.types.js';
import { cleanAddress, commandIn, firstAddress, squash, statusIn } from './text.helpers.js';

interface Field {
  name: string;
  value: string;
}

/** Descriptions of the codes themselves (RFC 3463 titles, "permanent failure"): they explain nothing more. */
const GENERIC_STATUS_COMMENT = /^(?:permanent|persistent|temporary|transient)(?: \w+)? (?:failure|error)s?$|^other or undefined\b|^(?:bad|invalid) destination|^delivery time expired$|^mailbox full$|^success$/i;

/** Splits a header-like block into fields, joining continuation lines. */
export function parseFields(text: string): Field[] {
  const out: Field[] = [];
  const lines = text.split('\n');
  for (const raw of lines) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.length === 0) {
      out.push({ name: '', value: '' });
      continue;
    }
    const c0 = line.charCodeAt(0);
    if ((c0 === 32 || c0 === 9) && out.length > 0 && out[out.length - 1]!.name !== '') {
      out[out.length - 1]!.value += ` ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0 || colon > 40 || /\s/.test(line.slice(0, colon))) {
      // Not a field: part of a diagnostic that lost its indentation.
      if (out.length > 0 && out[out.length - 1]!.name !== '') out[out.length - 1]!.value += ` ${line.trim()}`;
      continue;
    }
    out.push({ name: line.slice(0, colon).trim().toLowerCase(), value: line.slice(colon + 1).trim() });
  }
  return out;
}

/** `rfc822; <a@b>` → `a@b`. */
export function addressOfTyped(value: string): string | undefined {
  const semi = value.indexOf(';');
  const v = semi >= 0 ? value.slice(semi + 1) : value;
  const a = firstAddress(v);
  if (a) return a;
  const t = v.trim().replace(/^<|>$/g, '');
  return t.length > 0 && !/\s/.test(t) ? cleanAddress(t) : undefined;
}

function hostOfTyped(value: string): string | undefined {
  const semi = value.indexOf(';');
  const v = (semi >= 0 ? value.slice(semi + 1) : value).trim();
  const host = v.split(/[\s(]/)[0];
  return host && host.length > 0 ? host.replace(/^\[|\]$/g, '').toLowerCase() : undefined;
}

/**
 * Reads an RFC 3464 delivery-status body (also message/global-delivery-status): the per-message fields
 * and one Finding per recipient group.
 */
export function readDeliveryStatus(body: string): Finding[] {
  const fields = parseFields(body.indexOf('\r') >= 0 ? body.replace(/\r\n?/g, '\n') : body);
  let reportingMta: string | undefined;
  let arrivalDate: string | undefined;
  const out: Finding[] = [];
  let cur: Finding | undefined;
  let curHasFinal = false;
  let curHasOriginal = false;

  const close = (): void => {
    if (cur && cur.recipient) out.push(cur);
    cur = undefined;
    curHasFinal = false;
    curHasOriginal = false;
  };
  const open = (): Finding => {
    cur ??= { recipient: '' };
    return cur;
  };

  for (const { name, value } of fields) {
    if (name === '') {
      if (cur && cur.recipient) close();
      continue;
    }
    switch (name) {
      case 'reporting-mta':
        reportingMta = hostOfTyped(value);
        break;
      case 'arrival-date':
        arrivalDate = value;
        break;
      case 'final-recipient':
      case 'x-actual-recipient': {
        if (name === 'final-recipient' && curHasFinal) close();
        const a = addressOfTyped(value);
        const f = open();
        if (a && (name === 'final-recipient' || !f.recipient)) f.recipient = a;
        if (name === 'final-recipient') curHasFinal = true;
        break;
      }
      case 'original-recipient': {
        if (curHasOriginal || (curHasFinal && cur?.status)) close();
        const a = addressOfTyped(value);
        const f = open();
        if (a && !f.recipient) f.recipient = a;
        curHasOriginal = true;
        break;
      }
      case 'action':
        open().action = value.toLowerCase().split(/[\s(]/)[0];
        break;
      case 'status': {
        const s = statusIn(value);
        const f = open();
        if (s) f.status = s;
        // `Status: 4.0.0 (cat.example: host name lookup failure)`: the comment is the MTA's explanation,
        // unless it only spells out the code.
        const comment = /\(([^)]+)\)/.exec(value)?.[1]?.trim();
        if (comment && !GENERIC_STATUS_COMMENT.test(comment)) f.statusComment = comment;
        break;
      }
      case 'remote-mta':
        open().remoteMta = hostOfTyped(value);
        break;
      case 'diagnostic-code': {
        const f = open();
        const semi = value.indexOf(';');
        const type = semi >= 0 && semi < 20 ? value.slice(0, semi).trim().toLowerCase() : undefined;
        const text = squash(semi >= 0 && semi < 20 ? value.slice(semi + 1) : value);
        if (type) f.diagnosticType = type;
        f.diagnostic = f.diagnostic ? `${f.diagnostic} ${text}` : text;
        break;
      }
      case 'x-postfix-sender':
      case 'x-original-message-id':
        break;
      default:
        break;
    }
  }
  close();
  for (const f of out) {
    if (f.statusComment !== undefined) {
      if (f.diagnostic === undefined) f.diagnostic = f.statusComment;
      delete f.statusComment;
    }
    if (reportingMta && !f.reportingMta) f.reportingMta = reportingMta;
    if (arrivalDate && !f.arrivalDate) f.arrivalDate = arrivalDate;
    if (f.diagnostic && !f.command) {
      const c = commandIn(f.diagnostic);
      if (c) f.command = c;
    }
  }
  return out;
}
