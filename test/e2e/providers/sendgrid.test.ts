import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TransportError, UnsupportedFeatureError } from '../../../lib/errors/mailer.error.js';
import { SendGridTransport } from '../../../lib/transports/providers/index.js';
import { PDF_BYTES, PNG_BYTES, SENDGRID_KEY, SendGridFake, outgoingMail, richMail, sendgridBodies } from '../../support/provider-fakes/index.js';

describe('SendGridTransport against a SendGrid fake', () => {
  let fake: SendGridFake;
  let sendgrid: SendGridTransport;

  beforeAll(async () => {
    fake = await new SendGridFake().start();
    sendgrid = new SendGridTransport({ apiKey: SENDGRID_KEY, baseUrl: fake.url });
  });
  beforeEach(() => {
    fake.reset();
    fake.scopes = ['mail.send'];
  });
  afterAll(() => fake.stop());

  it('carries every field of a rich mail; the id comes from X-Message-Id', async () => {
    const mail = richMail({ replyTo: [{ name: 'Acme Support', address: 'support@acme.test' }], priority: 'high' });
    const result = await sendgrid.send(mail);
    const request = fake.last();
    expect(request).toMatchObject({ method: 'POST', path: '/v3/mail/send' });
    expect(request.headers['authorization']).toBe(`Bearer ${SENDGRID_KEY}`);
    const body = request.json as Record<string, any>;
    expect(body.from).toEqual({ email: 'noreply@acme.test', name: 'Acme Notifications' });
    expect(body.personalizations).toEqual([{
      to: [{ email: 'alice@example.com', name: 'Alice Example' }, { email: 'bob@example.com' }],
      cc: [{ email: 'carol@example.com', name: 'Carol Cc' }],
      bcc: [{ email: 'dave@example.com' }],
      headers: { 'Message-ID': mail.messageId },
    }]);
    expect(body.reply_to).toEqual({ email: 'support@acme.test', name: 'Acme Support' });
    expect(body.subject).toBe(mail.subject);
    expect(body.content).toEqual([{ type: 'text/plain', value: mail.text }, { type: 'text/html', value: mail.html }]);
    expect(body.categories).toEqual(['order-shipped']);
    expect(body.custom_args).toEqual({ orderId: '1234', userId: 'u-42' });
    expect(body.headers).toMatchObject({
      'X-Campaign': 'spring-2025',
      'List-Unsubscribe': '<https://acme.test/unsub/42>, <mailto:unsub@acme.test>',
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      'X-Priority': '1 (Highest)',
    });
    const [pdf, png] = body.attachments as Array<Record<string, string>>;
    expect(pdf).toMatchObject({ filename: 'invoice.pdf', type: 'application/pdf', disposition: 'attachment' });
    expect(Buffer.from(pdf?.content as string, 'base64').equals(PDF_BYTES)).toBe(true);
    expect(png).toMatchObject({ filename: 'logo.png', type: 'image/png', disposition: 'inline', content_id: 'logo@acme' });
    expect(Buffer.from(png?.content as string, 'base64').equals(PNG_BYTES)).toBe(true);
    expect(result.messageId).toBe(mail.messageId);
    expect(result.providerMessageId).toMatch(/^sg/);
  });

  it('several reply-to addresses use reply_to_list', async () => {
    await sendgrid.send(outgoingMail({ replyTo: [{ address: 'a@acme.test' }, { address: 'b@acme.test', name: 'B' }] }));
    expect((fake.last().json as any).reply_to_list).toEqual([{ email: 'a@acme.test' }, { email: 'b@acme.test', name: 'B' }]);
  });

  it('400 names the bad field in the response', async () => {
    const mail = outgoingMail({ to: [{ address: 'not-an-address' }], envelope: { from: 'noreply@acme.test', to: ['not-an-address'] } });
    const error = await sendgrid.send(mail).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({ failure: 'http', statusCode: 400 });
    expect((error as TransportError).response).toBe('Does not contain a valid address. (field personalizations.0.to.0.email)');
  });

  it('429 without Retry-After takes the wait from X-RateLimit-Reset', async () => {
    const reset = Math.floor(Date.now() / 1000) + 30;
    fake.failNext({ status: 429, headers: { 'X-RateLimit-Limit': '600', 'X-RateLimit-Remaining': '0', 'X-RateLimit-Reset': String(reset) }, body: sendgridBodies.rateLimited });
    const error = (await sendgrid.send(outgoingMail()).catch((e: unknown) => e)) as TransportError;
    expect(error).toMatchObject({ failure: 'rate-limit', statusCode: 429, response: 'too many requests' });
    expect(error.retryAfter).toBeGreaterThan(25_000);
    expect(error.retryAfter).toBeLessThanOrEqual(30_000);
  });

  it('403 is auth', async () => {
    fake.failNext({ status: 403, body: sendgridBodies.forbidden });
    await expect(sendgrid.send(outgoingMail())).rejects.toMatchObject({ failure: 'auth', statusCode: 403, response: 'access forbidden' });
  });

  it('refuses what SendGrid cannot carry before any request', async () => {
    await expect(sendgrid.send(outgoingMail({ tags: Array.from({ length: 11 }, (_, i) => `t${i}`) }))).rejects.toBeInstanceOf(UnsupportedFeatureError);
    await expect(sendgrid.send(outgoingMail({ headers: { 'Reply-To': 'x@acme.test' } }))).rejects.toThrow(/Reply-To/);
    await expect(sendgrid.send(outgoingMail({ to: [], cc: [{ address: 'c@example.com' }], envelope: { from: 'noreply@acme.test', to: ['c@example.com'] } }))).rejects.toThrow(/To recipients/);
    await expect(sendgrid.send(outgoingMail({ envelope: { from: 'noreply@acme.test', to: ['other@example.com'] } }))).rejects.toThrow(/envelope/);
    expect(fake.requests).toHaveLength(0);
  });

  it('batch: mails with the same content share one request, one personalization each', async () => {
    const a = outgoingMail({ to: [{ address: 'a@example.com' }], envelope: { from: 'noreply@acme.test', to: ['a@example.com'] } });
    const b = outgoingMail({ to: [{ address: 'b@example.com' }], envelope: { from: 'noreply@acme.test', to: ['b@example.com'] } });
    const other = outgoingMail({ subject: 'different', to: [{ address: 'c@example.com' }], envelope: { from: 'noreply@acme.test', to: ['c@example.com'] } });
    const outcomes = await sendgrid.sendBatch([a, other, b]);
    expect(fake.requests).toHaveLength(2);
    const shared = fake.requests.map((r) => r.json as any).find((body) => body.personalizations.length === 2);
    expect(shared.personalizations).toEqual([
      { to: [{ email: 'a@example.com' }], headers: { 'Message-ID': a.messageId } },
      { to: [{ email: 'b@example.com' }], headers: { 'Message-ID': b.messageId } },
    ]);
    expect(outcomes.map((o) => o.ok && o.result.messageId)).toEqual([a.messageId, other.messageId, b.messageId]);
    expect(outcomes.every((o) => o.ok && o.result.providerMessageId)).toBe(true);
  });

  it('batch: the same address twice never lands in one request', async () => {
    const first = outgoingMail();
    const second = outgoingMail();
    const outcomes = await sendgrid.sendBatch([first, second]);
    expect(fake.requests).toHaveLength(2);
    expect(outcomes.every((o) => o.ok)).toBe(true);
  });

  it('batch: a failed request fails its mails only', async () => {
    fake.failNext({ status: 500, body: sendgridBodies.serverError });
    const outcomes = await sendgrid.sendBatch([outgoingMail({ subject: 'x' }), outgoingMail({ subject: 'y' })], {});
    const failures = outcomes.filter((o) => !o.ok);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ error: { statusCode: 500, response: 'internal server error' } });
  });

  it('verify() reads /v3/scopes and fails as auth without mail.send', async () => {
    await sendgrid.verify();
    expect(fake.last()).toMatchObject({ method: 'GET', path: '/v3/scopes' });
    fake.scopes = ['user.profile.read'];
    await expect(sendgrid.verify()).rejects.toMatchObject({ failure: 'auth' });
  });

  it('region eu selects the EU host; baseUrl wins over it', () => {
    const eu = new SendGridTransport({ apiKey: SENDGRID_KEY, region: 'eu' });
    expect((eu as unknown as { baseUrl: string }).baseUrl).toBe('https://api.eu.sendgrid.com');
  });
});
