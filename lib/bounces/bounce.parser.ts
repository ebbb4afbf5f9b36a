import type { BounceResult, BounceFormatReader, Finding, ParsedMail } from './bounce.types.js';
import { readDeliveryStatus } from './dsn.reader.js';
import { FORMAT_READERS } from './formats/index.js';
import { autoReplyReader } from './formats/auto-reply.reader.js';
import { feedbackReader } from './formats/feedback.reader.js';
import { readAddressBlocks, excludedAddresses } from './formats/text-block.reader.js';
import { parseMime } from './mime.reader.js';
import { buildClassification, decideReason } from './reason.classifier.js';
import { commandIn, cutOriginal, fieldIn, isLocalUnknown, replyIn, squash, statusIn } from './text.helpers.js';

/**
 * Statuses an MTA writes for its own verdict around a remote one (other/undefined, delivery time
 * expired, other address status); a more specific code in the diagnostic is the remote's and wins.
 */
const WRAPPER_STATUS = /^[45]\.(?:0\.0|4\.7|1\.0|3\.0)$/;
const WELL_FORMED = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const DSN_IN_TEXT = /^(?:final-recipient|original-recipient)[ \t]*:/im;

/** Fields a delivery-status part should have carried, when an MTA wrote them into the text instead. */
function dsnFromText(text: string): Finding[] {
  const m = DSN_IN_TEXT.exec(text);
  if (!m) return [];
  const from = text.lastIndexOf('\n\n', m.index);
  const block = text.slice(from < 0 ? 0 : from);
  if (!/^(?:status|action|diagnostic-code)[ \t]*:/im.test(block)) return [];
  return readDeliveryStatus(block);
}

/** The remote server's reply code in an SMTP transcript (`<<< 550 …`), if the report has one. */
function transcriptCode(body: string): number | undefined {
  const m = /^\s*<<<\s*([245]\d\d)[\s-]/m.exec(body);
  return m ? Number(m[1]) : undefined;
}

/** Fills what the delivery-status part left out from the human-readable text of the same report. */
function enrichFromText(dsn: Finding[], mail: ParsedMail): void {
  const body = cutOriginal(mail.text);
  if (body.length === 0) return;
  const blocks = readAddressBlocks(body, excludedAddresses(mail), new Set(dsn.map((f) => f.recipient)));
  const wholeCommand = dsn.length === 1 ? commandIn(body) : undefined;
  for (const f of dsn) {
    const b = blocks.find((x) => x.recipient === f.recipient) ?? (blocks.length === 1 && dsn.length === 1 ? blocks[0] : undefined);
    // A Final-Recipient that is no address (a route, a bare domain) is replaced by the one the text names.
    if (b && !WELL_FORMED.test(f.recipient)) f.recipient = b.recipient;
    if (!f.diagnostic && b?.diagnostic) {
      f.diagnostic = b.diagnostic;
      if (!f.replyCode && b.replyCode) f.replyCode = b.replyCode;
    }
    if (!f.status && b?.status) f.status = b.status;
    if (f.replyCode === undefined && (f.diagnostic === undefined || replyIn(f.diagnostic).code === undefined)) {
      const code = b?.replyCode ?? (dsn.length === 1 ? transcriptCode(body) : undefined);
      if (code !== undefined && (f.status === undefined || String(code)[0] === f.status[0])) f.replyCode = code;
    }
    if (!f.command) {
      const c = b?.command ?? wholeCommand;
      if (c) f.command = c;
    }
  }
}

/** Merges a format reader's findings into the delivery-status ones (same recipient), or replaces them. */
function merge(dsn: Finding[], found: Finding[]): Finding[] {
  if (dsn.length === 0) return found;
  for (const f of found) {
    const d = dsn.find((x) => x.recipient === f.recipient);
    if (!d) continue;
    for (const k of Object.keys(d) as (keyof Finding)[]) {
      if (f[k] === undefined) (f as unknown as Record<string, unknown>)[k] = d[k];
    }
  }
  return found;
}

function originalMessageId(mail: ParsedMail): string | undefined {
  const src = mail.original;
  if (!src) return undefined;
  const head = src.slice(0, 20000);
  const id = fieldIn(head, 'message-id');
  if (!id) return undefined;
  const m = /<[^>]+>/.exec(id);
  return m ? m[0] : id.split(/\s/)[0];
}

function findingsOf(mail: ParsedMail): Finding[] {
  const complaints = feedbackReader.read(mail, []);
  if (complaints.length > 0) return complaints;
  let dsn = mail.deliveryStatus !== undefined ? readDeliveryStatus(mail.deliveryStatus) : [];
  if (dsn.length === 0) dsn = dsnFromText(mail.text);
  for (const reader of FORMAT_READERS) {
    const found = reader.read(mail, dsn);
    if (found.length > 0) return merge(dsn, found);
  }
  if (dsn.length > 0) {
    enrichFromText(dsn, mail);
    return dsn;
  }
  return autoReplyReader.read(mail, dsn);
}

/** Status, reply code and reason of one finding, as a BounceResult. */
export function resultOf(f: Finding, messageId?: string): BounceResult {
  const diag = f.diagnostic ? squash(f.diagnostic) : undefined;
  let replyCode = f.replyCode;
  if (replyCode === undefined && diag) {
    const r = replyIn(diag);
    if (r.code !== undefined) replyCode = r.code;
  }
  let status = f.status;
  const cls = status?.[0] ?? (replyCode !== undefined ? String(replyCode)[0] : undefined);
  if (diag && (status === undefined || WRAPPER_STATUS.test(status))) {
    const better = statusIn(diag, cls, status);
    if (better && (status === undefined || !better.endsWith('.0.0'))) status = better;
  }
  if (replyCode !== undefined && status !== undefined && String(replyCode)[0] !== status[0]) {
    // The status is the MTA's final verdict; a reply code of another class is an earlier attempt.
    replyCode = undefined;
  }
  const command = f.command ?? (diag ? commandIn(diag) : undefined);
  const hint = f.hint ?? (diag && (status === undefined || status.endsWith('.0.0')) && isLocalUnknown(f.diagnostic ?? '') ? 'userunknown' : undefined);
  const reason = decideReason({
    status, replyCode, text: diag, command, action: f.action, hint, diagnosticType: f.diagnosticType,
  });
  if (status === undefined && f.kind !== 'complained' && reason !== 'vacation') {
    if (replyCode !== undefined && replyCode >= 400) status = `${String(replyCode)[0]}.0.0`;
    else if (reason === 'delivered') status = '2.0.0';
    else status = f.action === 'delayed' ? '4.0.0' : '5.0.0';
  }
  const classification = buildClassification(reason, replyCode, status, diag, f.recipient, f.kind);
  const out: BounceResult = { recipient: f.recipient, classification };
  if (messageId) out.originalMessageId = messageId;
  if (f.reportingMta) out.reportingMta = f.reportingMta;
  if (f.remoteMta) out.remoteMta = f.remoteMta;
  if (f.arrivalDate) out.arrivalDate = f.arrivalDate;
  if (diag) out.diagnostic = diag;
  return out;
}

/** Reads an already MIME-parsed mail. */
export function readParsedMail(mail: ParsedMail): BounceResult[] {
  const findings = findingsOf(mail);
  if (findings.length === 0) return [];
  const id = originalMessageId(mail);
  const seen = new Set<string>();
  const out: BounceResult[] = [];
  for (const f of findings) {
    const key = f.recipient;
    if (key !== '' && seen.has(key)) continue;
    seen.add(key);
    out.push(resultOf(f, id));
  }
  return out;
}

/**
 * Parses a bounce e-mail: RFC 3464 delivery-status reports (and message/global-delivery-status),
 * RFC 5965 complaints, RFC 3834 auto-replies and the plain-text formats of the MTAs and providers
 * that write none of those. Returns one result per recipient; a mail that is not a report gives an
 * empty list.
 */
export async function parseBounce(raw: Buffer | string): Promise<BounceResult[]> {
  const mail = await parseMime(raw);
  const results = readParsedMail(mail);
  if (results.length > 0 || mail.original === undefined) return results;
  // A report forwarded as an attachment (a helpdesk or a relay passing the bounce on): read it once.
  const head = mail.original.slice(0, 8192);
  if (!/multipart\/report|delivery-status|^from:[^\n]*(?:mailer-daemon|postmaster)/im.test(head)) return results;
  return readParsedMail(await parseMime(mail.original));
}

export type { BounceFormatReader };
