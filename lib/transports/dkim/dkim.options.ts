import { createPrivateKey, createPublicKey, KeyObject, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { domainToASCII } from 'node:url';
import type { DkimSignature } from '../../core/dkim.types.js';
import { InvalidMailError, MailerConfigurationError } from '../../errors/mailer.error.js';

const KNOWN_KEYS = ['domainName', 'keySelector', 'privateKey', 'privateKeyPath', 'passphrase', 'headerFieldNames', 'skipFields', 'hashAlgo'];
// nodemailer's shared options of its `{ keys: [...] }` form, applied to each key.
const SHARED_KEYS = ['keys', 'headerFieldNames', 'skipFields', 'hashAlgo'];
// A DNS label as selectors and domains use it (underscores appear in real selectors).
const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/i;
// RFC 5322 field names: printable US-ASCII except colon.
const FIELD_NAME = /^[\x21-\x39\x3b-\x7e]+$/;
/** RFC 8301: verifiers ignore signatures made with smaller RSA keys. */
export const DKIM_MIN_RSA_BITS = 1024;
const PROBE = Buffer.from('dkim key check');

type Fail = (message: string) => never;

/** Where a key comes from once the entry's plain fields are checked. */
interface CheckedEntry {
  label: string;
  domainName: string;
  keySelector: string;
  headerFieldNames?: string;
  skipFields?: string;
  passphrase?: string;
  key?: unknown;
  path?: string;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof KeyObject) && !Buffer.isBuffer(value);
}

/**
 * The entries of a `dkim` value: one object, an array of them, or nodemailer's
 * `{ keys: [...], headerFieldNames, skipFields }` with the shared fields copied into each key.
 */
function entriesOf(config: unknown, fail: Fail): unknown[] {
  const list = Array.isArray(config) ? config : [config];
  if (list.length === 0) fail('dkim is an empty list; leave it out to send unsigned mail.');
  return list.flatMap((item) => {
    if (!isObject(item) || !('keys' in item)) return [item];
    // nodemailer ignores a top-level key field next to `keys`; refusing it beats guessing.
    const misplaced = Object.keys(item).find((k) => !SHARED_KEYS.includes(k) && KNOWN_KEYS.includes(k) && item[k] !== undefined);
    if (misplaced) fail(`dkim: "${misplaced}" goes inside each entry of keys, or give a list of signatures instead of keys.`);
    const { keys, ...shared } = item;
    const inner = Array.isArray(keys) ? keys : [keys];
    if (inner.length === 0) fail('dkim.keys is empty.');
    return inner.map((key) => (isObject(key) ? { ...shared, ...key } : key));
  });
}

function dnsName(value: unknown, option: string, label: string, fail: Fail): string {
  if (typeof value !== 'string' || value.trim() === '') fail(`${label}: ${option} is missing.`);
  const ascii = domainToASCII(value.trim().replace(/\.$/, ''));
  if (!ascii || ascii.length > 253 || !ascii.split('.').every((part) => LABEL.test(part))) {
    fail(`${label}: ${option} ${JSON.stringify(value)} is not a domain name.`);
  }
  return ascii.toLowerCase();
}

function fieldList(value: unknown, option: string, label: string, fail: Fail): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.trim() === '') {
    fail(`${label}: ${option} must be a colon-separated list of header names, like "From:To:Subject".`);
  }
  const names = value.split(':').map((name) => name.trim()).filter((name) => name !== '');
  for (const name of names) {
    if (!FIELD_NAME.test(name)) fail(`${label}: ${option} holds ${JSON.stringify(name)}, which is not a header name.`);
  }
  return names.join(':');
}

/** True when the field (case-insensitive) is in a colon-separated header list. */
export function listsField(list: string | undefined, name: string): boolean {
  return list !== undefined && list.toLowerCase().split(':').includes(name.toLowerCase());
}

function checkEntry(raw: unknown, index: number, count: number, fail: Fail): CheckedEntry {
  const at = count > 1 ? `dkim[${index}]` : 'dkim';
  if (!isObject(raw)) fail(`${at} must be an object { domainName, keySelector, privateKey | privateKeyPath }.`);
  const unknown = Object.keys(raw).find((k) => !KNOWN_KEYS.includes(k) && raw[k] !== undefined);
  if (unknown) {
    const hint = unknown === 'cacheDir' || unknown === 'cacheTreshold' ? ' (messages are signed in memory)' : '';
    fail(`${at}: unknown option "${unknown}"${hint}. Known: ${KNOWN_KEYS.join(', ')}.`);
  }
  const domainName = dnsName(raw.domainName, 'domainName', at, fail);
  const keySelector = dnsName(raw.keySelector, 'keySelector', at, fail);
  // Named by the DNS record the verifier reads: the one place an operator can check.
  const label = `${at} (${keySelector}._domainkey.${domainName})`;
  if (raw.hashAlgo !== undefined && String(raw.hashAlgo).toLowerCase() !== 'sha256') {
    fail(`${label}: hashAlgo must be sha256; RFC 8301 forbids rsa-sha1 signatures and DKIM defines no other hash for RSA.`);
  }
  const headerFieldNames = fieldList(raw.headerFieldNames, 'headerFieldNames', label, fail);
  const skipFields = fieldList(raw.skipFields, 'skipFields', label, fail);
  if (headerFieldNames !== undefined && !listsField(headerFieldNames, 'from')) {
    fail(`${label}: headerFieldNames must include From; RFC 6376 §5.4 requires the From field to be signed.`);
  }
  if (listsField(skipFields, 'from')) fail(`${label}: skipFields cannot hold From; RFC 6376 §5.4 requires the From field to be signed.`);
  if ((raw.privateKey === undefined) === (raw.privateKeyPath === undefined)) {
    fail(`${label}: give either privateKey or privateKeyPath${raw.privateKey === undefined ? '' : ', not both'}.`);
  }
  if (raw.privateKeyPath !== undefined && (typeof raw.privateKeyPath !== 'string' || raw.privateKeyPath === '')) {
    fail(`${label}: privateKeyPath must be a file path.`);
  }
  if (raw.passphrase !== undefined && typeof raw.passphrase !== 'string') fail(`${label}: passphrase must be a string.`);
  const entry: CheckedEntry = { label, domainName, keySelector };
  if (headerFieldNames !== undefined) entry.headerFieldNames = headerFieldNames;
  if (skipFields !== undefined) entry.skipFields = skipFields;
  if (raw.passphrase !== undefined) entry.passphrase = raw.passphrase as string;
  if (raw.privateKeyPath !== undefined) entry.path = raw.privateKeyPath as string;
  else entry.key = raw.privateKey;
  return entry;
}

function looksPublic(material: string | Buffer): boolean {
  try {
    createPublicKey(material);
    return true;
  } catch {
    return false;
  }
}

/**
 * Parses and checks a key. Messages name the key's kind and size, never its text: an error
 * message may end up in a log.
 */
function toPrivateKey(material: unknown, entry: CheckedEntry, source: string, fail: Fail): KeyObject {
  const { label } = entry;
  let key: KeyObject;
  if (material instanceof KeyObject) {
    if (material.type !== 'private') fail(`${label}: ${source} is a ${material.type} key; DKIM signs with the private key (the public key goes in DNS).`);
    key = material;
  } else if (typeof material === 'string' || Buffer.isBuffer(material)) {
    try {
      key = createPrivateKey(entry.passphrase === undefined
        ? { key: material, format: 'pem' }
        : { key: material, format: 'pem', passphrase: entry.passphrase });
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (looksPublic(material)) fail(`${label}: ${source} holds a public key or certificate; DKIM signs with the private key (the public key goes in DNS).`);
      if (/ENCRYPTED/.test(material.toString('latin1').slice(0, 200))) {
        fail(entry.passphrase === undefined
          ? `${label}: ${source} is an encrypted key; give its passphrase.`
          : `${label}: the passphrase does not decrypt ${source}.`);
      }
      fail(`${label}: ${source} is not a PEM private key${typeof code === 'string' ? ` (${code})` : ''}; expected "-----BEGIN PRIVATE KEY-----" or "-----BEGIN RSA PRIVATE KEY-----".`);
    }
  } else {
    fail(`${label}: privateKey must be PEM text (a string or Buffer) or a KeyObject.`);
  }
  const type = key.asymmetricKeyType;
  if (type === 'ed25519') {
    fail(`${label}: Ed25519 keys (RFC 8463) are not supported: nodemailer's DKIM signer writes rsa-sha256 signatures only. Use an RSA key (2048 bits).`);
  }
  if (type !== 'rsa') fail(`${label}: ${type ?? 'this kind of'} key cannot make rsa-sha256 DKIM signatures; use an RSA key (2048 bits).`);
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < DKIM_MIN_RSA_BITS) {
    fail(`${label}: the RSA key has ${bits} bits; RFC 8301 requires at least ${DKIM_MIN_RSA_BITS} (2048 recommended).`);
  }
  // nodemailer leaves a mail unsigned, silently, when its key fails to sign: find out now.
  try {
    sign('sha256', PROBE, key);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    fail(`${label}: the key cannot sign${typeof code === 'string' ? ` (${code})` : ''}.`);
  }
  return key;
}

function toSignature(entry: CheckedEntry, privateKey: KeyObject): DkimSignature {
  const signature: DkimSignature = { domainName: entry.domainName, keySelector: entry.keySelector, privateKey };
  if (entry.headerFieldNames !== undefined) signature.headerFieldNames = entry.headerFieldNames;
  if (entry.skipFields !== undefined) signature.skipFields = entry.skipFields;
  return signature;
}

function fileProblem(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  if (code === 'ENOENT') return 'does not exist';
  if (code === 'EACCES' || code === 'EPERM') return 'cannot be read (permission denied)';
  if (code === 'EISDIR') return 'is a folder';
  return `cannot be read${typeof code === 'string' ? ` (${code})` : ''}`;
}

function checkEntries(config: unknown, fail: Fail): CheckedEntry[] {
  const raw = entriesOf(config, fail);
  const entries = raw.map((item, index) => checkEntry(item, index, raw.length, fail));
  const seen = new Set<string>();
  for (const entry of entries) {
    const record = `${entry.keySelector}._domainkey.${entry.domainName}`;
    if (seen.has(record)) fail(`dkim: two signatures use ${record}; give each selector once.`);
    seen.add(record);
  }
  return entries;
}

/**
 * A transport's `dkim` option, read and checked at start-up: key files are read, every key is
 * parsed and test-signed. Any problem is a MailerConfigurationError that names the transport and
 * the DNS record of the signature, never the key. Without `where` the message starts at `dkim`
 * (for constructors whose caller puts the transport's name in front).
 */
export function resolveTransportDkim(config: unknown, where?: string): DkimSignature[] {
  if (config === undefined) return [];
  const fail: Fail = (message) => {
    throw new MailerConfigurationError(where ? `${where}: ${message}` : message);
  };
  return checkEntries(config, fail).map((entry) => {
    if (entry.path === undefined) return toSignature(entry, toPrivateKey(entry.key, entry, 'privateKey', fail));
    let material: Buffer;
    try {
      material = readFileSync(entry.path);
    } catch (error) {
      return fail(`${entry.label}: the key file ${entry.path} ${fileProblem(error)}.`);
    }
    return toSignature(entry, toPrivateKey(material, entry, `the key file ${entry.path}`, fail));
  });
}

/**
 * A mail's own `dkim`, read and checked when the mail is composed: any problem is an
 * InvalidMailError, raised before anything is sent.
 */
export async function resolveMailDkim(config: unknown): Promise<DkimSignature[]> {
  const fail: Fail = (message) => {
    throw new InvalidMailError(message, 'dkim');
  };
  const entries = checkEntries(config, fail);
  return Promise.all(entries.map(async (entry) => {
    if (entry.path === undefined) return toSignature(entry, toPrivateKey(entry.key, entry, 'privateKey', fail));
    let material: Buffer;
    try {
      material = await readFile(entry.path);
    } catch (error) {
      return fail(`${entry.label}: the key file ${entry.path} ${fileProblem(error)}.`);
    }
    return toSignature(entry, toPrivateKey(material, entry, `the key file ${entry.path}`, fail));
  }));
}

/** The DNS record a signature's public key lives at: `<selector>._domainkey.<domain>`. */
export function dkimRecord(signature: Pick<DkimSignature, 'domainName' | 'keySelector'>): string {
  return `${signature.keySelector.toLowerCase()}._domainkey.${signature.domainName.toLowerCase()}`;
}

/**
 * The signatures a mail goes out with: the transport's, then the mail's own. A mail's signature
 * for the same selector and domain as one of the transport's replaces it.
 */
export function signaturesFor(transport: readonly DkimSignature[], mail: readonly DkimSignature[] | undefined): DkimSignature[] {
  if (!mail?.length) return [...transport];
  const own = new Set(mail.map(dkimRecord));
  return [...transport.filter((s) => !own.has(dkimRecord(s))), ...mail];
}

/**
 * The start-up error for a `dkim` option on a transport whose provider builds and signs the
 * message itself; `setup` says where the provider's own DKIM is set up.
 */
export function providerDkimError(provider: string, setup: string): MailerConfigurationError {
  return new MailerConfigurationError(`The ${provider} transport cannot take a dkim option: ${providerDkimReason(provider, setup)}`);
}

/** The same refusal as an option hint, for the provider's options shape (see `checkOptions`). */
export function providerDkimHint(provider: string, setup: string): string {
  return `cannot be set on the ${provider} transport: ${providerDkimReason(provider, setup)}`;
}

function providerDkimReason(provider: string, setup: string): string {
  return `${provider}'s API builds the message and signs it with your domain's key on its side. ${setup}`;
}

/** The error for a mail with its own `dkim` on a transport that cannot sign. */
export function perSendDkimFeature(provider: string): string {
  return `a per-send DKIM signature (mail.dkim): ${provider} builds the message and signs it itself; send signed mail through SMTP or SES`;
}

/** Checks a signature list that a listener or interceptor may have replaced on an outgoing mail. */
export function assertDkimSignatures(value: unknown): void {
  if (value === undefined) return;
  const ok = Array.isArray(value) && value.every((s: unknown) => isObject(s)
    && typeof s.domainName === 'string' && typeof s.keySelector === 'string'
    && s.privateKey instanceof KeyObject && s.privateKey.type === 'private'
    && !/[\r\n]/.test(`${s.domainName}${s.keySelector}${String(s.headerFieldNames ?? '')}${String(s.skipFields ?? '')}`));
  if (!ok) throw new InvalidMailError('dkim on an outgoing mail must be a list of resolved signatures { domainName, keySelector, privateKey: KeyObject }; set mail.dkim before composing.', 'dkim');
}
