import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { InvalidMailError, TransportError, UnsupportedFeatureError } from '../../../lib/errors/mailer.error.js';
import { MailgunTransport } from '../../../lib/transports/providers/index.js';
import { MAILGUN_DOMAIN, MAILGUN_KEY, MailgunFake, PDF_BYTES, PNG_BYTES, mailgunAnswers, outgoingMail, richMail } from '../../support/provider-fakes/index.js';

describe('MailgunTransport against a Mailgun fake', () => {
  let fake: MailgunFake;
  let mailgun: MailgunTransport;

  beforeAll(async () => {
    fake = await new MailgunFake().start();
    mailgun = new MailgunTransport({ apiKey: MAILGUN_KEY, domain: MAILGUN_DOMAIN, baseUrl: fake.url, batchConcurrency: 3 });
  });
  beforeEach(() => {
    fake.reset();
    fake.received.length = 0;
  });
  afterAll(() => fake.stop());

  it('carries every field of a rich mail as multipart parts; files arrive byte for byte', async () => {
    const mail = richMail();
    const result = await mailgun.send(mail);
    const request = fake.last();
    expect(request).toMatchObject({ method: 'POST', path: `/v3/${MAILGUN_DOMAIN}/messages` });
    expect(String(request.headers['content-type'])).toMatch(/^multipart\/form-data; boundary=/);
    const { fields, files } = fake.received[0]!;
    expect(fields.get('from')).toEqual(['Acme Notifications <noreply@acme.test>']);
    expect(fields.get('to')).toEqual(['Alice Example <alice@example.com>', 'bob@example.com']);
    expect(fields.get('cc')).toEqual(['Carol Cc <carol@example.com>']);
    expect(fields.get('bcc')).toEqual(['dave@example.com']);
    expect(fields.get('h:Reply-To')).toEqual(['Acme Support <support@acme.test>']);
    expect(fields.get('subject')).toEqual([mail.subject]);
    expect(fields.get('text')).toEqual([mail.text]);
    expect(fields.get('html')).toEqual([mail.html]);
    expect(fields.get('h:X-Campaign')).toEqual(['spring-2025']);
    expect(fields.get('h:Message-ID')).toEqual([mail.messageId]);
    expect(fields.get('h:List-Unsubscribe')).toEqual(['<https://acme.test/unsub/42>, <mailto:unsub@acme.test>']);
    expect(fields.get('o:tag')).toEqual(['order-shipped']);
    expect(fields.get('v:orderId')).toEqual(['1234']);
    expect(fields.get('v:userId')).toEqual(['u-42']);
    const pdf = files.find((f) => f.field === 'attachment');
    const logo = files.find((f) => f.field === 'inline');
    expect(pdf?.filename).toBe('invoice.pdf');
    expect(pdf?.content.equals(PDF_BYTES)).toBe(true);
    // Mailgun takes the Content-ID from the inline part's filename.
    expect(logo?.filename).toBe('logo@acme');
    expect(logo?.content.equals(PNG_BYTES)).toBe(true);
    expect(result.providerMessageId).toMatch(/^[^<>]+@mg\.acme\.test$/);
    expect(result.response).toMatch(/^<.*>$/);
    expect(result.messageId).toBe(mail.messageId);
  });

  it('400 carries the provider message; plain-text 401 is auth', async () => {
    const error = await mailgun.send(outgoingMail({ to: [{ address: 'bad@' }], envelope: { from: 'noreply@acme.test', to: ['bad@'] } })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({ failure: 'http', statusCode: 400, response: 'to parameter is not a valid address. please check documentation' });
    fake.failNext(mailgunAnswers.unauthorized);
    await expect(mailgun.send(outgoingMail())).rejects.toMatchObject({ failure: 'auth', statusCode: 401, response: 'Forbidden' });
  });

  it('an unknown domain is a 404 with the provider message', async () => {
    const other = new MailgunTransport({ apiKey: MAILGUN_KEY, domain: 'mg.unknown.test', baseUrl: fake.url });
    await expect(other.send(outgoingMail())).rejects.toMatchObject({ statusCode: 404, response: 'Domain not found: mg.unknown.test' });
    await expect(other.verify()).rejects.toMatchObject({ statusCode: 404 });
  });

  it('refuses what Mailgun cannot carry before any request', async () => {
    await expect(mailgun.send(outgoingMail({ envelope: { from: 'bounce@acme.test', to: ['alice@example.com', 'bob@example.com'] } }))).rejects.toBeInstanceOf(UnsupportedFeatureError);
    expect(fake.requests).toHaveLength(0);
  });

  it('batch: one request per mail, in input order, a failure stays with its mail', async () => {
    const mails = Array.from({ length: 7 }, (_, i) => outgoingMail({ subject: `m${i}` }));
    fake.failNext({ status: 503, body: { message: 'try later' } });
    const outcomes = await mailgun.sendBatch(mails);
    expect(fake.requests).toHaveLength(7);
    expect(outcomes.filter((o) => !o.ok)).toHaveLength(1);
    outcomes.forEach((o, i) => {
      if (o.ok) expect(o.result.messageId).toBe(mails[i]?.messageId);
    });
  });

  it('batch: a mail whose attachment cannot be read fails alone; the others are sent', async () => {
    const broken = new Readable({ read() { this.destroy(new Error('disk gone')); } });
    const mails = [
      outgoingMail({ subject: 'ok-1' }),
      outgoingMail({ subject: 'broken', attachments: [{ filename: 'a.bin', content: broken, contentDisposition: 'attachment' }] }),
      outgoingMail({ subject: 'ok-2' }),
    ];
    const outcomes = await mailgun.sendBatch(mails);
    expect(outcomes.map((o) => o.ok)).toEqual([true, false, true]);
    expect(outcomes[1]!.ok ? undefined : outcomes[1]!.error).toBeInstanceOf(InvalidMailError);
    expect(fake.received.map((r) => r.fields.get('subject')?.[0]).sort()).toEqual(['ok-1', 'ok-2']);
  });

  it('verify() calls GET /v3/domains/{domain}', async () => {
    await mailgun.verify();
    expect(fake.last()).toMatchObject({ method: 'GET', path: `/v3/domains/${MAILGUN_DOMAIN}` });
  });
});
