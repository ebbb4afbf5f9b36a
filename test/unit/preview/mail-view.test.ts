import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { OutgoingMail } from '../../../lib/core/mail.types.js';
import { attachmentAt, buildMail, describeMail } from '../../../lib/preview/mail-view.js';

const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkaPhfDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

function mail(overrides: Partial<OutgoingMail> = {}): OutgoingMail {
  return {
    messageId: '<m1@shop.example>',
    from: { name: 'Shop', address: 'shop@shop.example' },
    to: [{ name: 'Ada, the first', address: 'ada@example.org' }],
    cc: [],
    bcc: [{ address: 'audit@shop.example' }],
    replyTo: [],
    subject: 'Grüße',
    text: 'Hello',
    html: '<p>Hello <img src="cid:logo@shop" alt="logo"></p>',
    attachments: [{ filename: 'logo.png', content: PNG, cid: 'logo@shop', contentType: 'image/png', contentDisposition: 'inline' }],
    headers: { 'X-Campaign': 'spring' },
    tags: ['receipt', 'eu'],
    metadata: { orderId: '42' },
    priority: 'high',
    envelope: { from: 'bounces@shop.example', to: ['ada@example.org', 'audit@shop.example'] },
    template: 'orders/receipt',
    ...overrides,
  };
}

describe('the preview\'s view of a mail', () => {
  it('is the message the SMTP transport would write: tags, metadata and priority as headers, Bcc only in the envelope', async () => {
    const built = await buildMail(mail());
    const view = describeMail(built);
    const headers = new Map(view.headers.map((h) => [h.name, h.value]));
    expect(headers.get('X-Tags')).toBe('receipt, eu');
    // nodemailer writes header names in its own case, on the wire as here.
    expect(headers.get('X-Metadata-Orderid')).toBe('42');
    expect(headers.get('X-Campaign')).toBe('spring');
    expect(headers.get('X-Priority')).toMatch(/^1/);
    expect(headers.get('Message-ID')).toBe('<m1@shop.example>');
    expect(headers.has('Bcc')).toBe(false);
    expect(built.raw.toString()).not.toContain('audit@shop.example');
    expect(view).toMatchObject({
      subject: 'Grüße',
      from: 'Shop <shop@shop.example>',
      to: ['"Ada, the first" <ada@example.org>'],
      bcc: ['audit@shop.example'],
      envelope: { from: 'bounces@shop.example', to: ['ada@example.org', 'audit@shop.example'] },
      template: 'orders/receipt',
      hasHtml: true,
      size: built.raw.length,
    });
    expect(view.text).toMatch(/^Hello\s*$/);
  });

  it('turns cid: images into data: URLs and serves the bytes of each attachment', async () => {
    const built = await buildMail(mail());
    expect(built.parsed.html).toContain(`src="data:image/png;base64,${PNG.toString('base64')}"`);
    expect(describeMail(built).attachments).toEqual([{ index: 0, filename: 'logo.png', contentType: 'image/png', size: PNG.length, cid: 'logo@shop', inline: true }]);
    expect(attachmentAt(built, 0)!.content.equals(PNG)).toBe(true);
    expect(attachmentAt(built, 1)).toBeUndefined();
  });

  it('leaves a stream or a file path it was handed unread, and says so', async () => {
    const stream = Readable.from([Buffer.from('secret bytes')]);
    const built = await buildMail(mail({
      attachments: [
        { filename: 'late.txt', content: stream, contentDisposition: 'attachment' },
        { filename: 'passwd', content: undefined as never, path: '/etc/passwd', contentDisposition: 'attachment' },
      ],
    }));
    expect(stream.readableEnded).toBe(false);
    expect(built.raw.toString()).not.toContain('root:');
    expect(describeMail(built).attachments.map((a) => [a.filename, a.size, a.notKept])).toEqual([['late.txt', 0, true], ['passwd', 0, true]]);
  });
});
