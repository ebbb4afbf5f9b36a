import { parseBounce } from '../bounces/index.js';
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
  results: Record<string, string | boolean>[];
  error?: string;
}

/** Parses one message; a message that cannot be read is reported, never thrown. */
export async function describeMessage(data: Uint8Array): Promise<MessageReport> {
  try {
    const raw = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    return { results: (await parseBounce(raw)).map(toRow) };
  } catch (e) {
    return { results: [], error: (e as Error).message };
  }
}
