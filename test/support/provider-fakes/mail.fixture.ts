import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { OutgoingMail } from '../../../lib/core/mail.types.js';

/** A small PDF-looking file and a 1×1 PNG, so binary bytes are checked end to end. */
export const PDF_BYTES = Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.from([0, 1, 2, 253, 254, 255]), Buffer.from('\n%%EOF\n')]);
export const PNG_BYTES = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);

/** A normalized mail as the service hands it to a transport; `overrides` replace whole fields. */
export function outgoingMail(overrides: Partial<OutgoingMail> = {}): OutgoingMail {
  const to = overrides.to ?? [{ name: 'Alice Example', address: 'alice@example.com' }, { address: 'bob@example.com' }];
  const cc = overrides.cc ?? [];
  const bcc = overrides.bcc ?? [];
  const from = overrides.from ?? { name: 'Acme Notifications', address: 'noreply@acme.test' };
  return {
    messageId: `<${randomUUID()}@acme.test>`,
    from,
    to,
    cc,
    bcc,
    replyTo: [],
    subject: 'Order #1234 shipped – déjà vu',
    text: 'Your order has shipped.',
    html: '<p>Your order has shipped.</p>',
    attachments: [],
    headers: {},
    tags: [],
    metadata: {},
    envelope: { from: from.address, to: [...to, ...cc, ...bcc].map((a) => a.address) },
    ...overrides,
  };
}

/** The full mail of the provider contracts: names, cc/bcc, reply-to, headers, tags, metadata, a PDF and an inline logo. */
export function richMail(overrides: Partial<OutgoingMail> = {}): OutgoingMail {
  const to = [{ name: 'Alice Example', address: 'alice@example.com' }, { address: 'bob@example.com' }];
  const cc = [{ name: 'Carol Cc', address: 'carol@example.com' }];
  const bcc = [{ address: 'dave@example.com' }];
  return outgoingMail({
    to,
    cc,
    bcc,
    replyTo: [{ name: 'Acme Support', address: 'support@acme.test' }],
    html: '<p>Your order has shipped.</p><img src="cid:logo@acme">',
    headers: { 'X-Campaign': 'spring-2025' },
    tags: ['order-shipped'],
    metadata: { orderId: '1234', userId: 'u-42' },
    listUnsubscribe: { url: 'https://acme.test/unsub/42', mailto: 'unsub@acme.test', oneClick: true },
    attachments: [
      { filename: 'invoice.pdf', content: Readable.from([PDF_BYTES.subarray(0, 5), PDF_BYTES.subarray(5)]), contentType: 'application/pdf', contentDisposition: 'attachment' },
      { filename: 'logo.png', content: PNG_BYTES.toString('base64'), encoding: 'base64', contentType: 'image/png', cid: 'logo@acme', contentDisposition: 'inline' },
    ],
    envelope: { from: 'noreply@acme.test', to: ['alice@example.com', 'bob@example.com', 'carol@example.com', 'dave@example.com'] },
    ...overrides,
  });
}

/** Asserts-by-throwing that a secret appears nowhere a user or a log could see it. */
export function leakedIn(error: unknown, secret: string): string[] {
  const places: string[] = [];
  const e = error as Error & { response?: string };
  if (String(error).includes(secret)) places.push('String(error)');
  if ((e.stack ?? '').includes(secret)) places.push('stack');
  if (JSON.stringify(error).includes(secret)) places.push('JSON');
  if ((e.response ?? '').includes(secret)) places.push('response');
  let cause: unknown = e.cause;
  while (cause) {
    if (String(cause).includes(secret) || String((cause as Error).stack ?? '').includes(secret)) places.push('cause');
    cause = (cause as Error).cause;
  }
  return places;
}
