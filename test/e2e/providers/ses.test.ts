import { createRequire } from 'node:module';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MailerConfigurationError, TransportError, UnsupportedFeatureError } from '../../../lib/errors/mailer.error.js';
import { importSesSdk, loadSesSdk, SesTransport } from '../../../lib/transports/providers/index.js';
import {
  PDF_BYTES,
  PNG_BYTES,
  SES_ACCESS_KEY_ID,
  SES_REGION,
  SES_SECRET_ACCESS_KEY,
  SesFake,
  leakedIn,
  outgoingMail,
  richMail,
  sesError,
} from '../../support/provider-fakes/index.js';

function sdkInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve('@aws-sdk/client-sesv2');
    return true;
  } catch {
    return false;
  }
}
const hasSdk = sdkInstalled();

describe('SesTransport without @aws-sdk/client-sesv2', () => {
  it('a missing SDK is a configuration error that names the install command', async () => {
    const error = await importSesSdk('@aws-sdk/client-sesv2-not-installed').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MailerConfigurationError);
    expect(String(error)).toContain('npm install @aws-sdk/client-sesv2');
  });

  it.runIf(!hasSdk)('send() reports it before anything else', async () => {
    await expect(loadSesSdk()).rejects.toBeInstanceOf(MailerConfigurationError);
    await expect(new SesTransport({ region: 'eu-west-1' }).send(outgoingMail())).rejects.toThrow('npm install @aws-sdk/client-sesv2');
  });
});

describe.runIf(hasSdk)('SesTransport against an SES v2 fake (real AWS SDK, SigV4 verified)', () => {
  let fake: SesFake;
  let ses: SesTransport;

  beforeAll(async () => {
    fake = await new SesFake().start();
    ses = new SesTransport({
      region: SES_REGION,
      accessKeyId: SES_ACCESS_KEY_ID,
      secretAccessKey: SES_SECRET_ACCESS_KEY,
      baseUrl: fake.url,
      configurationSetName: 'transactional',
    });
  });
  beforeEach(() => {
    fake.reset();
    fake.received.length = 0;
    fake.sendingEnabled = true;
  });
  afterAll(async () => {
    await ses.close();
    await fake.stop();
  });

  it('sends raw MIME where attachments, the inline image and headers survive', async () => {
    const mail = richMail();
    const result = await ses.send(mail);
    expect(fake.last()).toMatchObject({ method: 'POST', path: '/v2/email/outbound-emails' });
    const [{ input, parsed }] = fake.received as [typeof fake.received[number]];
    expect(input.FromEmailAddress).toBe('noreply@acme.test');
    expect(input.Destination).toEqual({ ToAddresses: ['alice@example.com', 'bob@example.com'], CcAddresses: ['carol@example.com'], BccAddresses: ['dave@example.com'] });
    expect(input.ConfigurationSetName).toBe('transactional');
    expect(input.EmailTags).toEqual([{ Name: 'order-shipped', Value: 'true' }, { Name: 'orderId', Value: '1234' }, { Name: 'userId', Value: 'u-42' }]);
    expect(parsed.subject).toBe(mail.subject);
    expect(parsed.from?.value).toEqual([{ name: 'Acme Notifications', address: 'noreply@acme.test' }]);
    expect(parsed.messageId).toBe(mail.messageId);
    expect(parsed.headers.get('x-campaign')).toBe('spring-2025');
    const lines = parsed.headerLines.map((h) => h.line);
    expect(lines).toContain('List-Unsubscribe-Post: List-Unsubscribe=One-Click');
    expect(lines).toContain('List-Unsubscribe: <https://acme.test/unsub/42>, <mailto:unsub@acme.test>');
    expect(parsed.headers.get('bcc')).toBeUndefined();
    expect(parsed.text?.trim()).toBe(mail.text);
    const pdf = parsed.attachments.find((a) => a.filename === 'invoice.pdf');
    const logo = parsed.attachments.find((a) => a.cid === 'logo@acme');
    expect(pdf?.content.equals(PDF_BYTES)).toBe(true);
    expect(pdf?.contentType).toBe('application/pdf');
    expect(logo?.content.equals(PNG_BYTES)).toBe(true);
    expect(logo?.contentDisposition).toBe('inline');
    expect(result.providerMessageId).toMatch(/^0100fake/);
    expect(result.messageId).toBe(mail.messageId);
  });

  it('a custom envelope goes into Destination and FeedbackForwardingEmailAddress', async () => {
    await ses.send(outgoingMail({ envelope: { from: 'bounces@acme.test', to: ['audit@acme.test'] } }));
    const [{ input, parsed }] = fake.received as [typeof fake.received[number]];
    expect(input.Destination).toEqual({ ToAddresses: ['audit@acme.test'] });
    expect(input.FeedbackForwardingEmailAddress).toBe('bounces@acme.test');
    expect(parsed.to && 'value' in parsed.to ? parsed.to.value.map((a) => a.address) : []).toEqual(['alice@example.com', 'bob@example.com']);
  });

  it('MessageRejected keeps its name and message; the SDK does not retry', async () => {
    fake.failNext(sesError(400, 'MessageRejected', 'Email address is not verified. The following identities failed the check in region EU-WEST-1: noreply@acme.test'));
    const error = await ses.send(outgoingMail()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({ failure: 'http', statusCode: 400, providerCode: 'MessageRejected', provider: 'ses' });
    expect((error as TransportError).response).toContain('Email address is not verified');
    expect(fake.requests).toHaveLength(1);
  });

  it('throttling: TooManyRequests and the sending-rate ThrottlingException are rate limits, the daily quota is not; one attempt each', async () => {
    fake.failNext(
      sesError(429, 'TooManyRequestsException', 'Too many requests'),
      sesError(400, 'ThrottlingException', 'Maximum sending rate exceeded.'),
      sesError(400, 'ThrottlingException', 'Daily message quota exceeded.'),
      sesError(500, 'InternalServiceErrorException', 'internal'),
    );
    await expect(ses.send(outgoingMail())).rejects.toMatchObject({ failure: 'rate-limit', statusCode: 429 });
    await expect(ses.send(outgoingMail())).rejects.toMatchObject({ failure: 'rate-limit', providerCode: 'ThrottlingException' });
    await expect(ses.send(outgoingMail())).rejects.toMatchObject({ failure: 'http', providerCode: 'ThrottlingException' });
    await expect(ses.send(outgoingMail())).rejects.toMatchObject({ failure: 'http', statusCode: 500 });
    expect(fake.requests).toHaveLength(4);
  });

  it('a wrong secret fails the signature check: auth, and the secret appears nowhere', async () => {
    const wrongSecret = 'WRONG/secret+key0123456789abcdefghijklmn';
    const bad = new SesTransport({ region: SES_REGION, accessKeyId: SES_ACCESS_KEY_ID, secretAccessKey: wrongSecret, baseUrl: fake.url });
    const error = await bad.send(outgoingMail()).catch((e: unknown) => e);
    expect(error).toMatchObject({ failure: 'auth', statusCode: 403, providerCode: 'InvalidSignatureException' });
    expect(leakedIn(error, wrongSecret)).toEqual([]);
    await expect(bad.verify()).rejects.toMatchObject({ failure: 'auth' });
    await bad.close();
  });

  it('network failures and timeouts go through the same conversion', async () => {
    fake.failNext({ reset: true });
    await expect(ses.send(outgoingMail())).rejects.toMatchObject({ failure: 'connection', provider: 'ses' });
    const quick = new SesTransport({ region: SES_REGION, accessKeyId: SES_ACCESS_KEY_ID, secretAccessKey: SES_SECRET_ACCESS_KEY, baseUrl: fake.url, timeout: 300 });
    fake.failNext({ hang: true });
    await expect(quick.send(outgoingMail())).rejects.toMatchObject({ failure: 'timeout' });
    await quick.close();
  });

  it('refuses what SES cannot carry before any request', async () => {
    await expect(ses.send(outgoingMail({ tags: ['not allowed.dots'] }))).rejects.toBeInstanceOf(UnsupportedFeatureError);
    expect(fake.requests).toHaveLength(0);
  });

  it('batch: single sends with per-mail outcomes', async () => {
    fake.failNext(sesError(400, 'MessageRejected', 'rejected'));
    const mails = [outgoingMail(), outgoingMail(), outgoingMail()];
    const outcomes = await ses.sendBatch(mails);
    expect(outcomes.filter((o) => !o.ok)).toHaveLength(1);
    expect(fake.requests).toHaveLength(3);
  });

  it('verify() calls GetAccount and fails when sending is paused', async () => {
    await ses.verify();
    expect(fake.last()).toMatchObject({ method: 'GET', path: '/v2/email/account' });
    fake.sendingEnabled = false;
    await expect(ses.verify()).rejects.toMatchObject({ providerCode: 'SendingPausedException' });
  });
});
