import { execFileSync } from 'node:child_process';
import { createHmac, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { snsStringToSign, type SnsMessage } from '../../../lib/transports/providers/ses/ses.webhook.js';

export const FIXTURES = new URL('../../fixtures/webhooks/', import.meta.url);

export function fixtureNames(provider: string): string[] {
  return readdirSync(new URL(`${provider}/`, FIXTURES))
    .filter((f) => f.endsWith('.json') && !f.endsWith('.expected.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

export function readFixture(provider: string, name: string): unknown {
  return JSON.parse(readFileSync(new URL(`${provider}/${name}.json`, FIXTURES), 'utf8'));
}

export function readExpected(provider: string, name: string): unknown {
  return JSON.parse(readFileSync(new URL(`${provider}/${name}.expected.json`, FIXTURES), 'utf8'));
}

const seconds = (now: number) => String(Math.floor(now / 1000));

/** Changes one byte of a string (the character at `index`, default the middle one). */
export function flipByte(text: string, index = Math.floor(text.length / 2)): string {
  const c = text.charCodeAt(index);
  const replacement = c === 0x41 ? 'B' : 'A';
  return text.slice(0, index) + replacement + text.slice(index + 1);
}

// SendGrid: ECDSA P-256 over timestamp + body.
export interface SendGridSigner {
  /** Base64 DER public key, the form SendGrid's settings page shows. */
  publicKey: string;
  privateKey: KeyObject;
  sign(body: string, now?: number): Record<string, string>;
}

export function sendGridSigner(): SendGridSigner {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return {
    publicKey: publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
    privateKey,
    sign(body, now = Date.now()) {
      const timestamp = seconds(now);
      const signature = sign('sha256', Buffer.from(timestamp + body), privateKey).toString('base64');
      return {
        'content-type': 'application/json',
        'x-twilio-email-event-webhook-signature': signature,
        'x-twilio-email-event-webhook-timestamp': timestamp,
      };
    },
  };
}

// Mailgun: HMAC-SHA256(signing key, timestamp + token) inside the body.
export function mailgunSign(payload: Record<string, unknown>, signingKey: string, now = Date.now()): string {
  const timestamp = seconds(now);
  const token = randomBytes(25).toString('hex');
  const signature = createHmac('sha256', signingKey).update(timestamp + token).digest('hex');
  return JSON.stringify({ ...payload, signature: { timestamp, token, signature } });
}

// Resend (Svix): HMAC-SHA256 of `${id}.${timestamp}.${body}` with the base64 key after whsec_.
export function resendSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

export function resendSign(body: string, secret: string, now = Date.now(), id = `msg_${randomBytes(8).toString('hex')}`): Record<string, string> {
  const timestamp = seconds(now);
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const signature = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
  return { 'content-type': 'application/json', 'svix-id': id, 'svix-timestamp': timestamp, 'svix-signature': `v1,${signature}` };
}

// Postmark: basic auth.
export function basicAuth(username: string, password: string): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` };
}

// SNS: an RSA key and a self-signed certificate made with openssl; messages signed like SNS does.
export interface SnsSigner {
  certificate: string;
  certUrl: string;
  /** A fetcher that serves `certificate` for any URL and counts its calls. */
  fetchCertificate: ((url: URL) => Promise<string>) & { calls: string[] };
  sign(message: Omit<SnsMessage, 'Signature' | 'SignatureVersion' | 'SigningCertURL'>, version?: '1' | '2', certUrl?: string): SnsMessage;
}

let snsKeys: { key: string; certificate: string } | undefined;

function snsKeyPair(): { key: string; certificate: string } {
  if (snsKeys) return snsKeys;
  const dir = mkdtempSync(join(tmpdir(), 'mailroom-sns-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=sns.amazonaws.com',
      '-keyout', 'sns.key', '-out', 'sns.pem'], { cwd: dir, stdio: 'pipe' });
    snsKeys = { key: readFileSync(join(dir, 'sns.key'), 'utf8'), certificate: readFileSync(join(dir, 'sns.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return snsKeys;
}

export const SNS_CERT_URL = 'https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0123456789abcdef.pem';
export const SNS_TOPIC = 'arn:aws:sns:eu-west-1:123456789012:ses-events';

export function snsSigner(): SnsSigner {
  const { key, certificate } = snsKeyPair();
  const calls: string[] = [];
  const fetchCertificate = Object.assign(async (url: URL) => {
    calls.push(url.href);
    return certificate;
  }, { calls });
  return {
    certificate,
    certUrl: SNS_CERT_URL,
    fetchCertificate,
    sign(message, version = '2', certUrl = SNS_CERT_URL) {
      const unsigned = { ...message, SignatureVersion: version, SigningCertURL: certUrl, Signature: '' } as SnsMessage;
      const toSign = snsStringToSign(unsigned);
      if (toSign === undefined) throw new Error(`cannot sign an SNS message of type ${message.Type}`);
      unsigned.Signature = sign(version === '1' ? 'sha1' : 'sha256', Buffer.from(toSign), key).toString('base64');
      return unsigned;
    },
  };
}

/** An SNS Notification envelope around an SES notification, timestamped `now`. */
export function snsNotification(sesNotification: unknown, now = Date.now(), topic = SNS_TOPIC) {
  return {
    Type: 'Notification',
    MessageId: `msg-${randomBytes(8).toString('hex')}`,
    TopicArn: topic,
    Message: JSON.stringify(sesNotification),
    Timestamp: new Date(now).toISOString(),
    UnsubscribeURL: `https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${topic}:1`,
  };
}

export function snsSubscriptionConfirmation(now = Date.now(), topic = SNS_TOPIC, subscribeUrl?: string) {
  const token = randomBytes(32).toString('hex');
  return {
    Type: 'SubscriptionConfirmation',
    MessageId: `msg-${randomBytes(8).toString('hex')}`,
    Token: token,
    TopicArn: topic,
    Message: `You have chosen to subscribe to the topic ${topic}.`,
    SubscribeURL: subscribeUrl ?? `https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${topic}&Token=${token}`,
    Timestamp: new Date(now).toISOString(),
  };
}

/** The order n of the P-256 group. */
const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

function derInteger(value: bigint): Buffer {
  let hex = value.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  const bytes = Buffer.from(hex, 'hex');
  return bytes[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes;
}

/** Reads r and s from a DER ECDSA signature (as OpenSSL writes it). */
export function ecdsaParts(der: Buffer): { r: bigint; s: bigint } {
  const rLength = der[3]!;
  const r = der.subarray(4, 4 + rLength);
  const sLength = der[5 + rLength]!;
  const s = der.subarray(6 + rLength, 6 + rLength + sLength);
  return { r: BigInt(`0x${r.toString('hex')}`), s: BigInt(`0x${s.toString('hex')}`) };
}

/** DER of (r, s), optionally with integers padded by needless leading zero bytes. */
export function ecdsaDer(r: bigint, s: bigint, pad = 0): Buffer {
  const int = (v: bigint) => {
    const bytes = Buffer.concat([Buffer.alloc(pad), derInteger(v)]);
    return Buffer.concat([Buffer.from([0x02, bytes.length]), bytes]);
  };
  const body = Buffer.concat([int(r), int(s)]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}

/**
 * The malleable twin of a base64 DER ECDSA signature: (r, n − s), which verifies as well as the
 * original and is spelled differently.
 */
export function ecdsaTwin(signatureBase64: string): string {
  const { r, s } = ecdsaParts(Buffer.from(signatureBase64, 'base64'));
  return ecdsaDer(r, P256_N - s).toString('base64');
}
