import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { AppModule } from '../../sample-app/src/app.module.js';
import { POSTMARK_TOKEN, PostmarkFake } from '../support/provider-fakes/index.js';

const saved = process.env.MAILER_URL;
const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
  if (saved === undefined) delete process.env.MAILER_URL;
  else process.env.MAILER_URL = saved;
});

async function start(): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  cleanup.push(() => app.close());
  return app;
}

interface PostmarkAttachment {
  Name: string;
  Content: string;
  ContentType: string;
  ContentID?: string;
}

describe('sample app over a provider API', () => {
  it('moves from SMTP to Postmark by changing MAILER_URL alone', async () => {
    const fake = await new PostmarkFake().start();
    cleanup.push(() => fake.stop());
    process.env.MAILER_URL = `postmark+api://${POSTMARK_TOKEN}@${new URL(fake.url).host}`;
    const app = await start();

    const sent = await request(app.getHttpServer()).post('/orders/1001/receipt').expect(202);
    expect(sent.body).toMatchObject({ transport: 'default', accepted: ['ada@example.org'], rejected: [] });

    const emails = fake.requests.filter((r) => r.path === '/email');
    expect(emails).toHaveLength(1);
    expect(emails[0]!.headers['x-postmark-server-token']).toBe(POSTMARK_TOKEN);
    const message = emails[0]!.json as { To: string; Subject: string; HtmlBody: string; TextBody: string; Tag?: string; Metadata?: Record<string, string>; Attachments: PostmarkAttachment[] };
    expect(message.To).toContain('ada@example.org');
    expect(message.Subject).toBe('Your receipt for order #1001');
    expect(message.HtmlBody).toContain('Thanks for your order, Ada Lovelace');
    expect(message.TextBody).toContain('3 × Edison bulb (E27)');
    expect(message.Tag).toBe('receipt');
    expect(message.Metadata).toEqual({ orderId: '1001' });
    const attachments = new Map(message.Attachments.map((a) => [a.Name, a]));
    expect([...attachments.keys()].sort()).toEqual(['invoice-1001.pdf', 'logo.png']);
    const pdf = Buffer.from(attachments.get('invoice-1001.pdf')!.Content, 'base64');
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    expect(attachments.get('invoice-1001.pdf')!.ContentType).toBe('application/pdf');
    expect(attachments.get('logo.png')!.ContentID).toBe('cid:logo@mailroom.sample');
    expect(Buffer.from(attachments.get('logo.png')!.Content, 'base64').subarray(1, 4).toString()).toBe('PNG');

    // The preview's outbox shows what went to Postmark too.
    const outbox = await request(app.getHttpServer()).get('/outbox/api/mails').expect(200);
    expect(outbox.body).toMatchObject([{ subject: 'Your receipt for order #1001', transport: 'default', status: 'sent' }]);
  });
});
