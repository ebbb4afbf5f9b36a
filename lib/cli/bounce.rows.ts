import { parseBounceReport } from '../bounces/index.js';
import type { BounceResult } from '../bounces/index.js';

/** One printed row, in the shape the corpus scorer reads. */
export function toRow(r: BounceResult): Record<string, string | boolean> {
  const c = r.classification;
  return {
    recipient: r.recipient,
    status: c.status ?? '',
    replycode: c.replyCode === undefined ? '' : String(c.replyCode),
    reason: c.reason,
    hardbounce: c.bounce === 'hard',
    kind: c.kind,
  };
}

/** What the command prints about one message, apart from its file name. */
export interface MessageReport {
  /** Delivery failures, delay warnings and complaints. */
  results: Record<string, string | boolean>[];
  /** The message is an absence note (`from` answered). */
  autoreply?: true;
  /** The message is a challenge-response filter's request to confirm (`from` is the held message's recipient). */
  challenge?: true;
  from?: string;
  /** Recipients the report names as delivered, relayed or expanded. */
  delivered?: Record<string, string | boolean>[];
  error?: string;
}

/** Parses one message; a message that cannot be read is reported, never thrown. */
export async function describeMessage(data: Uint8Array): Promise<MessageReport> {
  try {
    const raw = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const report = await parseBounceReport(raw);
    const out: MessageReport = { results: report.results.map(toRow) };
    if (report.autoReply) {
      out.autoreply = true;
      out.from = report.autoReply.recipient;
    }
    if (report.challenge) {
      out.challenge = true;
      out.from = report.challenge.recipient;
    }
    if (report.delivered.length > 0) out.delivered = report.delivered.map(toRow);
    return out;
  } catch (e) {
    return { results: [], error: (e as Error).message };
  }
}
