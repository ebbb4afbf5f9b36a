import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { DKIMResult } from 'mailauth';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';

/** A DKIM key pair and the DNS name its public half is published at. */
export interface TestDkimKey {
  domainName: string;
  keySelector: string;
  /** PEM (PKCS#8) of the private key. */
  privateKey: string;
  publicKey: KeyObject;
}

const pairs = new Map<string, { privateKey: string; publicKey: KeyObject }>();

/**
 * An RSA key for `<keySelector>._domainkey.<domainName>`. Pairs are made once per process and
 * size (`slot` asks for another one of the same size), since RSA generation is slow.
 */
export function dkimKey(domainName: string, keySelector: string, options: { bits?: number; slot?: number } = {}): TestDkimKey {
  const bits = options.bits ?? 2048;
  const id = `${bits}/${options.slot ?? 0}`;
  let pair = pairs.get(id);
  if (!pair) {
    const generated = generateKeyPairSync('rsa', { modulusLength: bits });
    pair = { privateKey: generated.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, publicKey: generated.publicKey };
    pairs.set(id, pair);
  }
  return { domainName, keySelector, ...pair };
}

/** The DKIM options a transport or mail takes for a test key. */
export function dkimOptions(key: TestDkimKey, extra: { headerFieldNames?: string; skipFields?: string } = {}) {
  return { domainName: key.domainName, keySelector: key.keySelector, privateKey: key.privateKey, ...extra };
}

export interface DkimCheck {
  domain: string;
  selector: string;
  /** `pass`, `fail`, `neutral`, … as the verifier reports it. */
  result: string;
  comment?: string;
  /** The signed header fields (`h=`), lower-cased. */
  signedHeaders: string[];
}

/**
 * Verifies every DKIM-Signature of a raw message with mailauth, an implementation independent of
 * the signer. DNS is answered from `published`: the TXT record of each key, nothing else.
 */
export async function verifyDkim(raw: Buffer | string, published: TestDkimKey[]): Promise<DkimCheck[]> {
  const records = new Map(published.map((k) => [
    `${k.keySelector}._domainkey.${k.domainName}`.toLowerCase(),
    `v=DKIM1; k=rsa; p=${k.publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`,
  ]));
  const resolver = async (name: string, type: string): Promise<string[][]> => {
    const record = type === 'TXT' ? records.get(name.toLowerCase()) : undefined;
    if (!record) throw Object.assign(new Error(`no ${type} record for ${name}`), { code: 'ENOTFOUND' });
    return [[record]];
  };
  const outcome = await dkimVerify(typeof raw === 'string' ? Buffer.from(raw) : raw, { resolver });
  // mailauth reports the signed fields at run time without declaring them in its types.
  return outcome.results.map((r: DKIMResult & { signingHeaders?: { keys?: string } }) => ({
    domain: String(r.signingDomain),
    selector: String(r.selector),
    result: r.status.result,
    comment: r.status.comment || undefined,
    signedHeaders: (r.signingHeaders?.keys ?? '').toLowerCase().split(':').map((k) => k.trim()).filter(Boolean),
  }));
}
