import { describe, expect, it } from 'vitest';
import { MailerConfigurationError } from '../../../lib/errors/mailer.error.js';
import {
  MailgunTransport,
  PostmarkTransport,
  ResendTransport,
  SendGridTransport,
  SesTransport,
  buildMailgunFields,
  buildSendGridBody,
  mailgunUnsupportedFeature,
  parseInactiveRecipients,
  postmarkUnsupportedFeature,
  resendUnsupportedFeature,
  sendGridUnsupportedFeature,
  sesUnsupportedFeature,
} from '../../../lib/transports/providers/index.js';
import { outgoingMail } from '../../support/provider-fakes/mail.fixture.js';

describe('unsupported features', () => {
  it('per-attachment headers: only SES (raw MIME) carries them', () => {
    const mail = outgoingMail({ attachments: [{ filename: 'a.txt', content: 'x', contentDisposition: 'attachment', headers: { 'X-A': '1' } }] });
    expect(sendGridUnsupportedFeature(mail)).toMatch(/per-attachment/);
    expect(postmarkUnsupportedFeature(mail)).toMatch(/per-attachment/);
    expect(mailgunUnsupportedFeature(mail)).toMatch(/per-attachment/);
    expect(resendUnsupportedFeature(mail)).toMatch(/per-attachment/);
    expect(sesUnsupportedFeature(mail)).toBeUndefined();
  });

  it('a custom envelope: only SES carries it', () => {
    const mail = outgoingMail({ envelope: { from: 'bounce@acme.test', to: ['alice@example.com', 'bob@example.com'] } });
    for (const check of [sendGridUnsupportedFeature, postmarkUnsupportedFeature, mailgunUnsupportedFeature, resendUnsupportedFeature]) expect(check(mail)).toMatch(/envelope/);
    expect(sesUnsupportedFeature(mail)).toBeUndefined();
  });

  it('provider limits', () => {
    const many = Array.from({ length: 51 }, (_, i) => ({ address: `r${i}@example.com` }));
    const big = outgoingMail({ to: many, envelope: { from: 'noreply@acme.test', to: many.map((a) => a.address) } });
    expect(postmarkUnsupportedFeature(big)).toMatch(/50 To/);
    expect(resendUnsupportedFeature(big)).toMatch(/50 To/);
    expect(sesUnsupportedFeature(big)).toMatch(/50 recipients/);
    expect(sendGridUnsupportedFeature(big)).toBeUndefined();
    expect(sendGridUnsupportedFeature(outgoingMail({ metadata: { blob: 'x'.repeat(10_001) } }))).toMatch(/custom_args/);
    expect(sendGridUnsupportedFeature(outgoingMail({ cc: [{ address: 'alice@example.com' }], envelope: { from: 'noreply@acme.test', to: ['alice@example.com', 'bob@example.com'] } }))).toBeDefined();
  });
});

describe('payload details', () => {
  it('SendGrid leaves out empty content and keeps text before html', async () => {
    const body = await buildSendGridBody(outgoingMail({ text: undefined }));
    expect(body.content).toEqual([{ type: 'text/html', value: '<p>Your order has shipped.</p>' }]);
  });

  it('Mailgun names an inline part after its cid and sends an inline part without cid under its filename', async () => {
    const fields = await buildMailgunFields(outgoingMail({
      attachments: [
        { filename: 'logo.png', content: 'x', cid: 'logo@acme', contentDisposition: 'inline' },
        { filename: 'banner.png', content: 'y', contentDisposition: 'inline' },
      ],
    }));
    const files = fields.filter((f) => 'file' in f).map((f) => ('file' in f ? [f.name, f.file.filename] : []));
    expect(files).toEqual([['inline', 'logo@acme'], ['inline', 'banner.png']]);
  });

  it('parses Postmark inactive-recipient messages', () => {
    expect(parseInactiveRecipients('Message OK, but will not deliver to these inactive addresses: a@x.test, b.c@y.test. Inactive recipients are ones that have generated a hard bounce or a spam complaint.')).toEqual(['a@x.test', 'b.c@y.test']);
    expect(parseInactiveRecipients('You tried to send to recipient(s) that have been marked as inactive. Found inactive addresses: Alice@Example.com. Inactive recipients are…')).toEqual(['alice@example.com']);
    expect(parseInactiveRecipients('OK')).toEqual([]);
  });
});

describe('configuration errors at construction', () => {
  it('refuses missing credentials and unknown regions', () => {
    expect(() => new SendGridTransport({ apiKey: '' })).toThrow(MailerConfigurationError);
    expect(() => new SendGridTransport({ apiKey: 'k', region: 'mars' as 'eu' })).toThrow(MailerConfigurationError);
    expect(() => new PostmarkTransport({ serverToken: '' })).toThrow(MailerConfigurationError);
    expect(() => new ResendTransport({ apiKey: '' })).toThrow(MailerConfigurationError);
    expect(() => new MailgunTransport({ apiKey: 'k', domain: '' })).toThrow(MailerConfigurationError);
    expect(() => new SesTransport({ accessKeyId: 'only-half' })).toThrow(MailerConfigurationError);
    expect(() => new PostmarkTransport({ serverToken: 't', baseUrl: 'not a url' })).toThrow(MailerConfigurationError);
    expect(() => new PostmarkTransport({ serverToken: 't', timeout: 0 })).toThrow(MailerConfigurationError);
  });

  it('names and kinds', () => {
    const t = new MailgunTransport({ apiKey: 'k', domain: 'mg.x.test', region: 'eu', name: 'bulk' });
    expect(t.name).toBe('bulk');
    expect(t.kind).toBe('mailgun');
    expect(new SesTransport().kind).toBe('ses');
  });
});
