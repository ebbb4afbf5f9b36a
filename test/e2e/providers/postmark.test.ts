import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TransportError, UnsupportedFeatureError } from '../../../lib/errors/mailer.error.js';
import { PostmarkTransport } from '../../../lib/transports/providers/index.js';
import { PDF_BYTES, PNG_BYTES, POSTMARK_TOKEN, PostmarkFake, outgoingMail, postmarkBodies, richMail } from '../../support/provider-fakes/index.js';

describe('PostmarkTransport against a Postmark fake', () => {
  let fake: PostmarkFake;
  let postmark: PostmarkTransport;

  beforeAll(async () => {
    fake = await new PostmarkFake().start();
    postmark = new PostmarkTransport({ serverToken: POSTMARK_TOKEN, baseUrl: fake.url, messageStream: 'outbound' });
  });
  beforeEach(() => {
    fake.reset();
    fake.inactive.clear();
  });
  afterAll(() => fake.stop());

  it('carries every field of a rich mail, attachments decoding to the original bytes', async () => {
    const mail = richMail();
    const result = await postmark.send(mail);
    const request = fake.last();
    expect(request.method).toBe('POST');
    expect(request.path).toBe('/email');
    expect(request.headers['x-postmark-server-token']).toBe(POSTMARK_TOKEN);
    const body = request.json as Record<string, any>;
    expect(body.From).toBe('Acme Notifications <noreply@acme.test>');
    expect(body.To).toBe('Alice Example <alice@example.com>, bob@example.com');
    expect(body.Cc).toBe('Carol Cc <carol@example.com>');
    expect(body.Bcc).toBe('dave@example.com');
    expect(body.ReplyTo).toBe('Acme Support <support@acme.test>');
    expect(body.Subject).toBe(mail.subject);
    expect(body.TextBody).toBe(mail.text);
    expect(body.HtmlBody).toBe(mail.html);
    expect(body.Tag).toBe('order-shipped');
    expect(body.Metadata).toEqual({ orderId: '1234', userId: 'u-42' });
    expect(body.MessageStream).toBe('outbound');
    const headers = Object.fromEntries((body.Headers as Array<{ Name: string; Value: string }>).map((h) => [h.Name, h.Value]));
    expect(headers['X-Campaign']).toBe('spring-2025');
    expect(headers['Message-ID']).toBe(mail.messageId);
    expect(headers['List-Unsubscribe']).toBe('<https://acme.test/unsub/42>, <mailto:unsub@acme.test>');
    expect(headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
    const [pdf, png] = body.Attachments as Array<Record<string, string>>;
    expect(pdf).toMatchObject({ Name: 'invoice.pdf', ContentType: 'application/pdf' });
    expect(pdf?.ContentID).toBeUndefined();
    expect(Buffer.from(pdf?.Content as string, 'base64').equals(PDF_BYTES)).toBe(true);
    expect(png).toMatchObject({ Name: 'logo.png', ContentType: 'image/png', ContentID: 'cid:logo@acme' });
    expect(Buffer.from(png?.Content as string, 'base64').equals(PNG_BYTES)).toBe(true);

    expect(result.messageId).toBe(mail.messageId);
    expect(result.providerMessageId).toMatch(/^pm-/);
    expect(result.accepted).toEqual(['alice@example.com', 'bob@example.com', 'carol@example.com', 'dave@example.com']);
    expect(result.rejected).toEqual([]);
  });

  it('the same stream attachment can be sent again (retry) with the same bytes', async () => {
    const mail = richMail();
    await postmark.send(mail);
    await postmark.send(mail);
    const [first, second] = fake.requests.map((r) => (r.json as any).Attachments[0].Content);
    expect(second).toBe(first);
    expect(Buffer.from(second as string, 'base64').equals(PDF_BYTES)).toBe(true);
  });

  it('some inactive recipients: sent to the others, the inactive ones reported in rejected', async () => {
    fake.inactive.add('bob@example.com');
    const result = await postmark.send(outgoingMail());
    expect(result.accepted).toEqual(['alice@example.com']);
    expect(result.rejected).toHaveLength(1);
    expect(result.rejected[0]).toMatchObject({ address: 'bob@example.com', replyCode: 422 });
    expect(result.rejected[0]?.response).toContain('inactive addresses: bob@example.com');
    expect(result.rejected[0]?.classification).toMatchObject({ kind: 'rejected', reason: 'suppressed', action: 'suppress', recipient: 'bob@example.com' });
  });

  it('every recipient inactive: 422/406 is a TransportError with failure "envelope"', async () => {
    fake.inactive.add('alice@example.com').add('bob@example.com');
    const error = await postmark.send(outgoingMail()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({ failure: 'envelope', statusCode: 422, providerCode: '406', provider: 'postmark' });
    expect((error as TransportError).response).toContain('Found inactive addresses: alice@example.com, bob@example.com');
    expect((error as TransportError).classification).toMatchObject({ reason: 'suppressed', retryable: false });
  });

  it('422/300 invalid address carries ErrorCode and message', async () => {
    const error = await postmark.send(outgoingMail({ to: [{ address: 'alice@' }], envelope: { from: 'noreply@acme.test', to: ['alice@'] } })).catch((e: unknown) => e);
    expect(error).toMatchObject({ failure: 'http', statusCode: 422, providerCode: '300' });
    expect((error as TransportError).response).toContain("Illegal email address 'alice@'");
  });

  it('429 ErrorCode 429 is a rate limit; 503 ErrorCode 100 is an outage', async () => {
    fake.failNext({ status: 429, body: postmarkBodies.rateLimited }, { status: 503, body: postmarkBodies.maintenance });
    await expect(postmark.send(outgoingMail())).rejects.toMatchObject({ failure: 'rate-limit', statusCode: 429, providerCode: '429' });
    await expect(postmark.send(outgoingMail())).rejects.toMatchObject({ failure: 'http', statusCode: 503, providerCode: '100' });
  });

  it('refuses what Postmark cannot carry before any request', async () => {
    await expect(postmark.send(outgoingMail({ tags: ['a', 'b'] }))).rejects.toBeInstanceOf(UnsupportedFeatureError);
    await expect(postmark.send(outgoingMail({ envelope: { from: 'bounces@acme.test', to: ['alice@example.com', 'bob@example.com'] } }))).rejects.toThrow(/envelope/);
    await expect(postmark.send(outgoingMail({ attachments: [{ filename: 'a.txt', content: 'x', contentDisposition: 'attachment', headers: { 'X-A': '1' } }] }))).rejects.toThrow(/per-attachment/);
    await expect(postmark.send(outgoingMail({ attachments: [{ filename: 'a.png', content: 'x', contentDisposition: 'inline' }] }))).rejects.toThrow(/inline/);
    expect(fake.requests).toHaveLength(0);
  });

  it('batch: one /email/batch request, per-message results in input order, per-message errors not fatal', async () => {
    fake.inactive.add('zed@example.com');
    const ok1 = outgoingMail();
    const dead = outgoingMail({ to: [{ address: 'zed@example.com' }], envelope: { from: 'noreply@acme.test', to: ['zed@example.com'] } });
    const ok2 = outgoingMail({ subject: 'second' });
    const outcomes = await postmark.sendBatch([ok1, dead, ok2]);
    expect(fake.requests).toHaveLength(1);
    expect(fake.last().path).toBe('/email/batch');
    expect((fake.last().json as unknown[]).length).toBe(3);
    expect(outcomes.map((o) => o.ok)).toEqual([true, false, true]);
    expect(outcomes[0]).toMatchObject({ ok: true, result: { messageId: ok1.messageId } });
    expect(outcomes[2]).toMatchObject({ ok: true, result: { messageId: ok2.messageId } });
    const failed = outcomes[1] as { ok: false; error: TransportError };
    expect(failed.error).toBeInstanceOf(TransportError);
    expect(failed.error).toMatchObject({ failure: 'envelope', providerCode: '406', statusCode: 422 });
  });

  it('batch: more than 500 mails go in chunks of at most 500', async () => {
    const mails = Array.from({ length: 1001 }, (_, i) => outgoingMail({ subject: `m${i}` }));
    const outcomes = await postmark.sendBatch(mails);
    expect(fake.requests.map((r) => (r.json as unknown[]).length).sort((a, b) => a - b)).toEqual([1, 500, 500]);
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(outcomes.map((o) => (o.ok ? o.result.messageId : ''))).toEqual(mails.map((m) => m.messageId));
  });

  it('batch: a failed request fails each of its mails, not the call', async () => {
    fake.failNext({ status: 500 });
    const outcomes = await postmark.sendBatch([outgoingMail(), outgoingMail()]);
    expect(outcomes.map((o) => o.ok)).toEqual([false, false]);
    expect(outcomes[0]).toMatchObject({ ok: false, error: { statusCode: 500, failure: 'http' } });
  });

  it('batch: an unsupported mail fails the call before any request', async () => {
    await expect(postmark.sendBatch([outgoingMail(), outgoingMail({ tags: ['a', 'b'] })])).rejects.toBeInstanceOf(UnsupportedFeatureError);
    expect(fake.requests).toHaveLength(0);
  });

  it('verify() calls GET /server', async () => {
    await postmark.verify();
    expect(fake.last()).toMatchObject({ method: 'GET', path: '/server' });
  });
});
