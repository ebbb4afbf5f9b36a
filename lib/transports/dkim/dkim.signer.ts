import type { Readable } from 'node:stream';
import DKIM from 'nodemailer/lib/dkim';
import type { DkimSignature } from '../../core/dkim.types.js';

/**
 * Signs a message with every signature (at least one). nodemailer's signer shares
 * `headerFieldNames` and `skipFields` between the keys it is given, so signatures are grouped by
 * those and the groups chained, each adding its DKIM-Signature headers on top.
 */
export function dkimSign(message: Readable | Buffer, signatures: readonly DkimSignature[]): Readable {
  const groups = new Map<string, DkimSignature[]>();
  for (const signature of signatures) {
    const key = `${signature.headerFieldNames ?? ''}\n${signature.skipFields ?? ''}`;
    const group = groups.get(key);
    if (group) group.push(signature);
    else groups.set(key, [signature]);
  }
  let input: Readable | Buffer = message;
  for (const group of groups.values()) {
    const [first] = group as [DkimSignature];
    input = new DKIM({
      keys: group.map((s) => ({ domainName: s.domainName, keySelector: s.keySelector, privateKey: s.privateKey })),
      headerFieldNames: first.headerFieldNames,
      skipFields: first.skipFields,
    }).sign(input);
  }
  return input as Readable;
}

/** Signs a complete message held in memory and returns the signed bytes. */
export async function dkimSignBuffer(message: Buffer, signatures: readonly DkimSignature[]): Promise<Buffer> {
  if (!signatures.length) return message;
  const chunks: Buffer[] = [];
  for await (const chunk of dkimSign(message, signatures)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
