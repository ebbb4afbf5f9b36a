import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MailerConfigurationError } from '../../../lib/errors/mailer.error.js';
import {
  confirmSnsSubscription,
  isSnsCertificateUrl,
  isSnsUrl,
  resendSigningKey,
  sendGridPublicKey,
  snsStringToSign,
  verifyMailgunWebhook,
  verifyPostmarkWebhook,
  verifyResendWebhook,
  verifySendGridWebhook,
  verifySesWebhook,
  verifySnsSignature,
  type SnsMessage,
} from '../../../lib/transports/providers/index.js';
import {
  basicAuth,
  ecdsaDer,
  ecdsaParts,
  ecdsaTwin,
  flipByte,
  mailgunSign,
  readFixture,
  resendSecret,
  resendSign,
  sendGridSigner,
  snsNotification,
  snsSigner,
  snsSubscriptionConfirmation,
  SNS_TOPIC,
} from './webhook-signers.js';

const MINUTES = 60_000;

describe('SendGrid ECDSA', () => {
  const signer = sendGridSigner();
  const body = JSON.stringify(readFixture('sendgrid', 'bounce'));
  const options = { publicKey: signer.publicKey };

  it('accepts a valid signature (base64 DER key and PEM key)', () => {
    const headers = signer.sign(body);
    expect(verifySendGridWebhook(headers, body, options)).toEqual({ ok: true });
    expect(verifySendGridWebhook(headers, Buffer.from(body), options)).toEqual({ ok: true });
    const pem = sendGridPublicKey(signer.publicKey).export({ format: 'pem', type: 'spki' }).toString();
    expect(verifySendGridWebhook(headers, body, { publicKey: pem })).toEqual({ ok: true });
  });

  it('refuses a body with one byte changed', () => {
    expect(verifySendGridWebhook(signer.sign(body), flipByte(body), options)).toMatchObject({ ok: false, reason: 'mismatch' });
  });

  it('refuses a changed timestamp (it is signed too)', () => {
    const headers = signer.sign(body);
    const shifted = { ...headers, 'x-twilio-email-event-webhook-timestamp': String(Number(headers['x-twilio-email-event-webhook-timestamp']) - 1) };
    expect(verifySendGridWebhook(shifted, body, options)).toMatchObject({ ok: false, reason: 'mismatch' });
  });

  it('refuses a stale timestamp, even correctly signed', () => {
    const old = Date.now() - 6 * MINUTES;
    expect(verifySendGridWebhook(signer.sign(body, old), body, options)).toMatchObject({ ok: false, reason: 'stale' });
    expect(verifySendGridWebhook(signer.sign(body, old), body, { ...options, toleranceSeconds: 600 })).toEqual({ ok: true });
  });

  it('refuses a missing header', () => {
    const headers = signer.sign(body);
    const { 'x-twilio-email-event-webhook-signature': _s, ...noSignature } = headers;
    const { 'x-twilio-email-event-webhook-timestamp': _t, ...noTimestamp } = headers;
    expect(verifySendGridWebhook(noSignature, body, options)).toMatchObject({ ok: false, reason: 'missing' });
    expect(verifySendGridWebhook(noTimestamp, body, options)).toMatchObject({ ok: false, reason: 'missing' });
  });

  it('refuses a signature made with another key', () => {
    const other = sendGridSigner();
    expect(verifySendGridWebhook(other.sign(body), body, options)).toMatchObject({ ok: false, reason: 'mismatch' });
  });

  it('refuses garbage in the signature header', () => {
    const headers = { ...signer.sign(body), 'x-twilio-email-event-webhook-signature': 'bm90IGEgc2lnbmF0dXJl' };
    expect(verifySendGridWebhook(headers, body, options)).toMatchObject({ ok: false, reason: 'malformed' });
  });

  describe('one spelling per signature', () => {
    const SIGNATURE = 'x-twilio-email-event-webhook-signature';
    const withSignature = (headers: Record<string, string>, signature: string) => ({ ...headers, [SIGNATURE]: signature });

    it('refuses the signature with characters appended to its base64, which decodes to the same bytes', () => {
      // Node's decoder stops at the padding: take a signature that has some.
      let headers = signer.sign(body);
      while (!headers[SIGNATURE]!.endsWith('=')) headers = signer.sign(body);
      for (const junk of ['junk', '=', ' ', '\n', '!!']) {
        const spelled = headers[SIGNATURE]! + junk;
        expect(Buffer.from(spelled, 'base64').equals(Buffer.from(headers[SIGNATURE]!, 'base64')), JSON.stringify(junk)).toBe(true);
        expect(verifySendGridWebhook(withSignature(headers, spelled), body, options), JSON.stringify(junk)).toMatchObject({ ok: false, reason: 'malformed' });
      }
    });

    it('refuses the DER signature with bytes appended, or with integers padded by zero bytes', () => {
      const headers = signer.sign(body);
      const der = Buffer.from(headers[SIGNATURE]!, 'base64');
      const { r, s } = ecdsaParts(der);
      expect(ecdsaDer(r, s).equals(der)).toBe(true);
      const spellings = [
        Buffer.concat([der, Buffer.from('junk')]),
        Buffer.concat([der, Buffer.from([0])]),
        ecdsaDer(r, s, 1),
      ];
      for (const spelled of spellings) {
        expect(verifySendGridWebhook(withSignature(headers, spelled.toString('base64')), body, options)).toMatchObject({ ok: false, reason: 'malformed' });
      }
    });

    it('refuses the same signature as raw r || s (IEEE P1363), the other encoding OpenSSL reads', () => {
      const headers = signer.sign(body);
      const p1363 = sign('sha256', Buffer.from(headers['x-twilio-email-event-webhook-timestamp']! + body), { key: signer.privateKey, dsaEncoding: 'ieee-p1363' });
      expect(verifySendGridWebhook(withSignature(headers, p1363.toString('base64')), body, options)).toMatchObject({ ok: false, reason: 'malformed' });
    });

    it('accepts both s and n − s: SendGrid signs with either, and duplicates never key on the signature', () => {
      const headers = signer.sign(body);
      const twin = ecdsaTwin(headers[SIGNATURE]!);
      expect(twin).not.toBe(headers[SIGNATURE]);
      expect(verifySendGridWebhook(withSignature(headers, twin), body, options)).toEqual({ ok: true });
    });
  });

  it('a key that is not an EC public key is a configuration error', () => {
    expect(() => sendGridPublicKey('not-a-key')).toThrow(MailerConfigurationError);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
    expect(() => sendGridPublicKey(rsa)).toThrow(/ECDSA P-256/);
  });
});

describe('Mailgun HMAC', () => {
  const signingKey = 'key-0123456789abcdef0123456789abcdef';
  const payload = readFixture('mailgun', 'failed-permanent') as Record<string, unknown>;

  it('accepts a valid signature', () => {
    expect(verifyMailgunWebhook(mailgunSign(payload, signingKey), { signingKey })).toEqual({ ok: true });
  });

  it('refuses a signature with one byte changed', () => {
    const body = JSON.parse(mailgunSign(payload, signingKey)) as { signature: { signature: string } };
    const sig = body.signature.signature;
    body.signature.signature = sig.slice(0, 10) + (sig[10] === '0' ? '1' : '0') + sig.slice(11);
    const forged = JSON.parse(mailgunSign(payload, signingKey)) as { signature: { signature: string; token: string } };
    forged.signature.token = flipByte(forged.signature.token);
    expect(verifyMailgunWebhook(JSON.stringify(body), { signingKey })).toMatchObject({ ok: false, reason: 'mismatch' });
    expect(verifyMailgunWebhook(JSON.stringify(forged), { signingKey })).toMatchObject({ ok: false, reason: 'mismatch' });
  });

  it('refuses the signature in upper-case hex, another spelling of the same bytes', () => {
    const body = JSON.parse(mailgunSign(payload, signingKey)) as { signature: { signature: string } };
    expect(verifyMailgunWebhook(JSON.stringify(body), { signingKey })).toEqual({ ok: true });
    body.signature.signature = body.signature.signature.toUpperCase();
    expect(verifyMailgunWebhook(JSON.stringify(body), { signingKey })).toMatchObject({ ok: false, reason: 'malformed' });
  });

  it('refuses a stale timestamp', () => {
    const body = mailgunSign(payload, signingKey, Date.now() - 10 * MINUTES);
    expect(verifyMailgunWebhook(body, { signingKey })).toMatchObject({ ok: false, reason: 'stale' });
  });

  it('refuses a body without its signature object', () => {
    expect(verifyMailgunWebhook(JSON.stringify({ 'event-data': payload['event-data'] }), { signingKey })).toMatchObject({ ok: false, reason: 'missing' });
    expect(verifyMailgunWebhook('not json', { signingKey })).toMatchObject({ ok: false, reason: 'malformed' });
  });

  it('refuses a signature made with another key', () => {
    expect(verifyMailgunWebhook(mailgunSign(payload, 'key-other'), { signingKey })).toMatchObject({ ok: false, reason: 'mismatch' });
  });
});

describe('Resend (Svix) HMAC', () => {
  const secret = resendSecret();
  const body = JSON.stringify(readFixture('resend', 'bounced'));

  it('accepts a valid signature, also among several and under webhook-* names', () => {
    const headers = resendSign(body, secret);
    expect(verifyResendWebhook(headers, body, { secret })).toEqual({ ok: true });
    const rotated = { ...headers, 'svix-signature': `v1,${Buffer.alloc(32).toString('base64')} v1a,xyz ${headers['svix-signature']}` };
    expect(verifyResendWebhook(rotated, body, { secret })).toEqual({ ok: true });
    const standard = { 'webhook-id': headers['svix-id']!, 'webhook-timestamp': headers['svix-timestamp']!, 'webhook-signature': headers['svix-signature']! };
    expect(verifyResendWebhook(standard, body, { secret })).toEqual({ ok: true });
  });

  it('refuses a body with one byte changed, or another id', () => {
    const headers = resendSign(body, secret);
    expect(verifyResendWebhook(headers, flipByte(body), { secret })).toMatchObject({ ok: false, reason: 'mismatch' });
    expect(verifyResendWebhook({ ...headers, 'svix-id': 'msg_other' }, body, { secret })).toMatchObject({ ok: false, reason: 'mismatch' });
  });

  it('refuses a signature spelled otherwise: characters appended, padding dropped', () => {
    const headers = resendSign(body, secret);
    const signature = headers['svix-signature']!;
    expect(signature).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    for (const spelled of [`${signature}junk`, `${signature}=`, signature.slice(0, -1)]) {
      expect(Buffer.from(spelled.slice(3), 'base64').equals(Buffer.from(signature.slice(3), 'base64'))).toBe(true);
      expect(verifyResendWebhook({ ...headers, 'svix-signature': spelled }, body, { secret }), spelled).toMatchObject({ ok: false, reason: 'mismatch' });
    }
  });

  it('refuses a stale or far-future timestamp', () => {
    expect(verifyResendWebhook(resendSign(body, secret, Date.now() - 6 * MINUTES), body, { secret })).toMatchObject({ ok: false, reason: 'stale' });
    expect(verifyResendWebhook(resendSign(body, secret, Date.now() + 6 * MINUTES), body, { secret })).toMatchObject({ ok: false, reason: 'stale' });
  });

  it('refuses a missing header', () => {
    const { 'svix-signature': _s, ...headers } = resendSign(body, secret);
    expect(verifyResendWebhook(headers, body, { secret })).toMatchObject({ ok: false, reason: 'missing' });
    expect(verifyResendWebhook({ ...resendSign(body, secret), 'svix-signature': 'v2,abc' }, body, { secret })).toMatchObject({ ok: false, reason: 'malformed' });
  });

  it('refuses a signature made with another secret', () => {
    expect(verifyResendWebhook(resendSign(body, resendSecret()), body, { secret })).toMatchObject({ ok: false, reason: 'mismatch' });
  });

  it('an unusable secret is a configuration error', () => {
    expect(() => resendSigningKey('whsec_')).toThrow(MailerConfigurationError);
    expect(() => resendSigningKey('whsec_not base64!')).toThrow(MailerConfigurationError);
  });
});

describe('Postmark basic auth', () => {
  const options = { username: 'postmark', password: 's3cret-Pa55' };

  it('accepts the configured credentials', () => {
    expect(verifyPostmarkWebhook(basicAuth('postmark', 's3cret-Pa55'), options)).toEqual({ ok: true });
  });

  it('refuses a password with one byte changed, another user, or a missing header', () => {
    expect(verifyPostmarkWebhook(basicAuth('postmark', 's3cret-Pa56'), options)).toMatchObject({ ok: false, reason: 'mismatch' });
    expect(verifyPostmarkWebhook(basicAuth('someone', 's3cret-Pa55'), options)).toMatchObject({ ok: false, reason: 'mismatch' });
    expect(verifyPostmarkWebhook({}, options)).toMatchObject({ ok: false, reason: 'missing' });
    expect(verifyPostmarkWebhook({ authorization: 'Bearer abc' }, options)).toMatchObject({ ok: false, reason: 'malformed' });
  });
});

describe('SNS message signatures', () => {
  const signer = snsSigner();
  const notification = JSON.parse((readFixture('ses', 'bounce') as { Message: string }).Message) as unknown;
  const options = () => ({ region: 'eu-west-1', topicArn: SNS_TOPIC, fetchCertificate: snsSigner().fetchCertificate });

  it.each(['1', '2'] as const)('accepts SignatureVersion %s', async (version) => {
    const message = signer.sign(snsNotification(notification), version);
    expect(await verifySesWebhook(JSON.stringify(message), options())).toEqual({ ok: true });
  });

  it('accepts a subscription confirmation and a message with a Subject', async () => {
    expect(await verifySnsSignature(signer.sign(snsSubscriptionConfirmation()), options())).toEqual({ ok: true });
    expect(await verifySnsSignature(signer.sign({ ...snsNotification(notification), Subject: 'Amazon SES Email Event Notification' }), options())).toEqual({ ok: true });
  });

  it('refuses a message with one byte changed', async () => {
    const message = signer.sign(snsNotification(notification));
    const forged: SnsMessage = { ...message, Message: flipByte(message.Message) };
    expect(await verifySnsSignature(forged, options())).toMatchObject({ ok: false, reason: 'mismatch' });
  });

  it('refuses a Signature spelled otherwise: characters appended, or line breaks in the base64', async () => {
    const message = signer.sign(snsNotification(notification));
    expect(await verifySnsSignature(message, options())).toEqual({ ok: true });
    const wrapped = message.Signature.replace(/(.{76})/g, '$1\n');
    for (const spelled of [`${message.Signature}junk`, wrapped]) {
      expect(Buffer.from(spelled, 'base64').equals(Buffer.from(message.Signature, 'base64'))).toBe(true);
      expect(await verifySnsSignature({ ...message, Signature: spelled }, options())).toMatchObject({ ok: false, reason: 'malformed' });
    }
  });

  it('refuses a stale message', async () => {
    const message = signer.sign(snsNotification(notification, Date.now() - 10 * MINUTES));
    expect(await verifySnsSignature(message, options())).toMatchObject({ ok: false, reason: 'stale' });
  });

  it('refuses a message without its signature', async () => {
    const message = signer.sign(snsNotification(notification));
    expect(await verifySesWebhook(JSON.stringify({ ...message, Signature: undefined }), options())).toMatchObject({ ok: false, reason: 'malformed' });
    expect(await verifySnsSignature({ ...message, Signature: '' }, options())).toMatchObject({ ok: false, reason: 'missing' });
    expect(await verifySnsSignature({ ...message, SignatureVersion: '3' }, options())).toMatchObject({ ok: false, reason: 'malformed' });
  });

  it('refuses a message signed with another key', async () => {
    const message = signer.sign(snsNotification(notification));
    const otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const forged = { ...message, Signature: sign('sha256', Buffer.from(snsStringToSign(message)!), otherKey).toString('base64') };
    expect(await verifySnsSignature(forged, options())).toMatchObject({ ok: false, reason: 'mismatch' });
  });

  it('never fetches a certificate from a host that is not SNS', async () => {
    for (const url of [
      'https://evil.example.com/SimpleNotificationService-1.pem',
      'http://sns.eu-west-1.amazonaws.com/SimpleNotificationService-1.pem',
      'https://sns.eu-west-1.amazonaws.com.evil.example/SimpleNotificationService-1.pem',
      'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-1.pem',
      'https://user@sns.eu-west-1.amazonaws.com/SimpleNotificationService-1.pem',
      'https://sns.eu-west-1.amazonaws.com:8443/SimpleNotificationService-1.pem',
      'https://sns.eu-west-1.amazonaws.com/not-a-certificate',
    ]) {
      const opts = options();
      const message = signer.sign(snsNotification(notification), '2', url);
      expect(await verifySnsSignature(message, opts), url).toMatchObject({ ok: false, reason: 'untrusted' });
      expect(opts.fetchCertificate.calls).toEqual([]);
    }
  });

  it('refuses a topic that is not configured', async () => {
    const message = signer.sign(snsNotification(notification, Date.now(), 'arn:aws:sns:eu-west-1:999999999999:other'));
    expect(await verifySnsSignature(message, options())).toMatchObject({ ok: false, reason: 'untrusted' });
  });

  it('caches certificates per fetcher', async () => {
    const opts = options();
    await verifySnsSignature(signer.sign(snsNotification(notification)), opts);
    await verifySnsSignature(signer.sign(snsNotification(notification)), opts);
    expect(opts.fetchCertificate.calls).toHaveLength(1);
  });

  it('reports a certificate that cannot be fetched as untrusted', async () => {
    const message = signer.sign(snsNotification(notification));
    const failing = async () => {
      throw new Error('connection refused');
    };
    expect(await verifySnsSignature(message, { fetchCertificate: failing })).toMatchObject({ ok: false, reason: 'untrusted' });
  });

  it('host rules', () => {
    expect(isSnsUrl('https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription')).toBe(true);
    expect(isSnsUrl('https://sns.cn-north-1.amazonaws.com.cn/x', 'cn-north-1')).toBe(true);
    expect(isSnsUrl('https://sns.eu-west-1.amazonaws.com/x', 'us-east-1')).toBe(false);
    expect(isSnsCertificateUrl('https://sns.eu-west-1.amazonaws.com/a.pem?x=1')).toBe(false);
  });

  it('confirms a subscription only when asked to, and only on an SNS host', async () => {
    const confirmed: string[] = [];
    const confirmSubscription = async (url: URL) => {
      confirmed.push(url.href);
    };
    const message = signer.sign(snsSubscriptionConfirmation());
    expect(await confirmSnsSubscription(message, { confirmSubscription })).toMatchObject({ confirmed: false, reason: 'autoConfirm is off' });
    expect(confirmed).toEqual([]);
    expect(await confirmSnsSubscription(message, { autoConfirm: true, confirmSubscription })).toEqual({ confirmed: true });
    expect(confirmed).toEqual([message.SubscribeURL]);
    const evil = signer.sign(snsSubscriptionConfirmation(Date.now(), SNS_TOPIC, 'https://evil.example.com/?Action=ConfirmSubscription'));
    expect(await confirmSnsSubscription(evil, { autoConfirm: true, confirmSubscription })).toMatchObject({ confirmed: false });
    expect(confirmed).toHaveLength(1);
  });
});
