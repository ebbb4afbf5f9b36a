import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TransportError, UnsupportedFeatureError } from '../../../lib/errors/mailer.error.js';
import { ResendTransport, resendIdempotencyKey } from '../../../lib/transports/providers/index.js';
import { PDF_BYTES, PNG_BYTES, RESEND_KEY, RESEND_RESTRICTED_KEY, ResendFake, outgoingMail, resendAnswers, richMail } from '../../support/provider-fakes/index.js';

describe('ResendTransport against a Resend fake', () => {
  let fake: ResendFake;
  let resend: ResendTransport;

  beforeAll(async () => {
    fake = await new ResendFake().start();
    resend = new ResendTransport({ apiKey: RESEND_KEY, baseUrl: fake.url });
  });
  beforeEach(() => {
    fake.reset();
    fake.delivered.length = 0;
  });
  afterAll(() => fake.stop());

  it('carries every field of a rich mail with an Idempotency-Key from the Message-ID', async () => {
    const mail = richMail();
    const result = await resend.send(mail);
    const request = fake.last();
    expect(request).toMatchObject({ method: 'POST', path: '/emails' });
    expect(request.headers['authorization']).toBe(`Bearer ${RESEND_KEY}`);
    expect(request.headers['user-agent']).toBeTruthy();
    expect(request.headers['idempotency-key']).toBe(mail.messageId.slice(1, -1));
    const body = request.json as Record<string, any>;
    expect(body.from).toBe('Acme Notifications <noreply@acme.test>');
    expect(body.to).toEqual(['Alice Example <alice@example.com>', 'bob@example.com']);
    expect(body.cc).toEqual(['Carol Cc <carol@example.com>']);
    expect(body.bcc).toEqual(['dave@example.com']);
    expect(body.reply_to).toEqual(['Acme Support <support@acme.test>']);
    expect(body.subject).toBe(mail.subject);
    expect(body.text).toBe(mail.text);
    expect(body.html).toBe(mail.html);
    expect(body.headers).toMatchObject({ 'X-Campaign': 'spring-2025', 'Message-ID': mail.messageId, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' });
    expect(body.tags).toEqual([{ name: 'order-shipped', value: 'true' }, { name: 'orderId', value: '1234' }, { name: 'userId', value: 'u-42' }]);
    const [pdf, png] = body.attachments as Array<Record<string, string>>;
    expect(pdf).toMatchObject({ filename: 'invoice.pdf', content_type: 'application/pdf' });
    expect(Buffer.from(pdf?.content as string, 'base64').equals(PDF_BYTES)).toBe(true);
    expect(png).toMatchObject({ filename: 'logo.png', content_type: 'image/png', content_id: 'logo@acme' });
    expect(Buffer.from(png?.content as string, 'base64').equals(PNG_BYTES)).toBe(true);
    expect(result.providerMessageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(result.messageId).toBe(mail.messageId);
  });

  it('a retry of the same mail reuses the key, so Resend does not send twice', async () => {
    const mail = outgoingMail();
    const first = await resend.send(mail);
    const second = await resend.send(mail);
    expect(second.providerMessageId).toBe(first.providerMessageId);
    expect(fake.delivered).toHaveLength(1);
  });

  it('an over-long Message-ID becomes a hashed key within 256 characters', () => {
    const key = resendIdempotencyKey(`<${'x'.repeat(300)}@acme.test>`);
    expect(key).toMatch(/^[0-9a-f]{64}$/);
  });

  it('error names become providerCode; 403 validation_error is not an auth failure', async () => {
    fake.failNext({ status: 403, body: { statusCode: 403, name: 'validation_error', message: 'The acme.test domain is not verified.' } });
    await expect(resend.send(outgoingMail())).rejects.toMatchObject({ failure: 'http', statusCode: 403, providerCode: 'validation_error', response: 'The acme.test domain is not verified.' });
    fake.failNext(resendAnswers.invalidKey);
    await expect(resend.send(outgoingMail())).rejects.toMatchObject({ failure: 'auth', statusCode: 403, providerCode: 'invalid_api_key' });
  });

  it('429 rate_limit_exceeded carries retryAfter; ratelimit-reset is used without retry-after', async () => {
    fake.failNext(resendAnswers.rateLimited);
    await expect(resend.send(outgoingMail())).rejects.toMatchObject({ failure: 'rate-limit', statusCode: 429, providerCode: 'rate_limit_exceeded', retryAfter: 1000 });
    fake.failNext({ status: 429, headers: { 'ratelimit-reset': '4' }, body: { statusCode: 429, name: 'rate_limit_exceeded', message: 'Too many requests.' } });
    await expect(resend.send(outgoingMail())).rejects.toMatchObject({ retryAfter: 4000 });
  });

  it('refuses what Resend cannot carry before any request', async () => {
    await expect(resend.send(outgoingMail({ tags: ['has space'] }))).rejects.toBeInstanceOf(UnsupportedFeatureError);
    await expect(resend.send(outgoingMail({ metadata: { 'order.id': '1' } }))).rejects.toThrow(/metadata/);
    await expect(resend.send(outgoingMail({ attachments: [{ filename: 'x.png', content: 'x', contentDisposition: 'inline' }] }))).rejects.toThrow(/inline/);
    expect(fake.requests).toHaveLength(0);
  });

  it('batch: mails without attachments go to /emails/batch; mails with attachments are sent singly', async () => {
    const plain1 = outgoingMail();
    const withFile = outgoingMail({ attachments: [{ filename: 'a.pdf', content: PDF_BYTES, contentDisposition: 'attachment', contentType: 'application/pdf' }] });
    const plain2 = outgoingMail({ subject: 'two' });
    const outcomes = await resend.sendBatch([plain1, withFile, plain2]);
    const batch = fake.requests.find((r) => r.path === '/emails/batch');
    const single = fake.requests.find((r) => r.path === '/emails');
    expect((batch?.json as unknown[]).length).toBe(2);
    expect(batch?.headers['x-batch-validation']).toBe('permissive');
    expect(batch?.headers['idempotency-key']).toMatch(/^batch-[0-9a-f]{64}$/);
    expect((single?.json as any).attachments).toHaveLength(1);
    expect(outcomes.map((o) => o.ok && o.result.messageId)).toEqual([plain1.messageId, withFile.messageId, plain2.messageId]);
    expect(new Set(outcomes.map((o) => o.ok && o.result.providerMessageId)).size).toBe(3);
  });

  it('batch: a per-item error (permissive validation) fails that mail only', async () => {
    const good = outgoingMail();
    const bad = outgoingMail({ to: [{ address: 'nope' }], envelope: { from: 'noreply@acme.test', to: ['nope'] } });
    const good2 = outgoingMail({ subject: 'x' });
    const outcomes = await resend.sendBatch([good, bad, good2]);
    expect(outcomes.map((o) => o.ok)).toEqual([true, false, true]);
    const failure = outcomes[1] as { ok: false; error: TransportError };
    expect(failure.error).toBeInstanceOf(TransportError);
    expect(failure.error.response).toContain('Invalid `to` field');
    expect(fake.delivered).toHaveLength(2);
  });

  it('batch: more than 100 mails go in chunks of at most 100', async () => {
    const mails = Array.from({ length: 250 }, (_, i) => outgoingMail({ subject: `m${i}` }));
    const outcomes = await resend.sendBatch(mails);
    expect(fake.requests.map((r) => (r.json as unknown[]).length).sort((a, b) => a - b)).toEqual([50, 100, 100]);
    expect(outcomes.every((o) => o.ok)).toBe(true);
  });

  it('verify(): GET /domains; a sending-only key (401 restricted_api_key) still verifies; a bad key does not', async () => {
    await resend.verify();
    expect(fake.last()).toMatchObject({ method: 'GET', path: '/domains' });
    await new ResendTransport({ apiKey: RESEND_RESTRICTED_KEY, baseUrl: fake.url }).verify();
    await expect(new ResendTransport({ apiKey: 're_wrong_key_000', baseUrl: fake.url }).verify()).rejects.toMatchObject({ failure: 'auth', statusCode: 403 });
  });
});
