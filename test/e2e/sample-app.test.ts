import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { AppModule } from '../../sample-app/src/app.module.js';
import { startSmtpSink } from '../support/smtp-sink.js';

const apps: INestApplication[] = [];
const saved = process.env.MAILER_URL;
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
  if (saved === undefined) delete process.env.MAILER_URL;
  else process.env.MAILER_URL = saved;
});

async function start(): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  apps.push(app);
  return app;
}

interface OutboxEntry {
  subject: string;
  messageId: string;
  envelope: { to: string[] };
  text: string;
  html: string;
  attachments: Array<{ filename: string; contentType: string; cid?: string; size: number }>;
}

describe('sample app', () => {
  it('sends a receipt to the embedded outbox over SMTP when MAILER_URL is not set', async () => {
    delete process.env.MAILER_URL;
    const app = await start();
    const sent = await request(app.getHttpServer()).post('/orders/1001/receipt').expect(202);
    expect(sent.body).toMatchObject({ transport: 'default', accepted: ['ada@example.org'], rejected: [] });

    const outbox = await request(app.getHttpServer()).get('/outbox').expect(200);
    const entries = outbox.body as OutboxEntry[];
    expect(entries).toHaveLength(1);
    const [mail] = entries;
    expect(mail!.messageId).toBe(sent.body.messageId);
    expect(mail!.subject).toBe('Your receipt for order #1001');
    expect(mail!.envelope.to).toEqual(['ada@example.org']);
    expect(mail!.html).toContain('Thanks for your order, Ada Lovelace');
    expect(mail!.html).toContain('3 × Edison bulb (E27)');
    expect(mail!.html).toMatch(/style="[^"]*text-align: ?right/);
    expect(mail!.text).toContain('3 × Edison bulb (E27)');
    expect(mail!.text).toContain('€86.50');
    const attachments = new Map(mail!.attachments.map((a) => [a.filename, a]));
    expect(attachments.get('invoice-1001.pdf')?.contentType).toBe('application/pdf');
    expect(attachments.get('logo.png')?.cid).toBe('logo@mailroom.sample');
  });

  it('answers 404 for an unknown order and sends nothing', async () => {
    delete process.env.MAILER_URL;
    const app = await start();
    await request(app.getHttpServer()).post('/orders/9999/receipt').expect(404);
    const outbox = await request(app.getHttpServer()).get('/outbox').expect(200);
    expect(outbox.body).toEqual([]);
  });

  it('sends through the transport in MAILER_URL alone, and the outbox is off', async () => {
    const sink = await startSmtpSink({ starttls: false });
    try {
      process.env.MAILER_URL = `${sink.url}?tlsMode=none`;
      const app = await start();
      await request(app.getHttpServer()).post('/orders/1002/receipt').expect(202);
      const [mail] = await sink.waitFor(1);
      expect(mail!.parsed.subject).toBe('Your receipt for order #1002');
      expect(mail!.parsed.attachments.map((a) => a.filename).sort()).toEqual(['invoice-1002.pdf', 'logo.png']);
      const pdf = mail!.parsed.attachments.find((a) => a.filename === 'invoice-1002.pdf')!;
      expect(pdf.content.subarray(0, 5).toString()).toBe('%PDF-');
      await request(app.getHttpServer()).get('/outbox').expect(404);
    } finally {
      // The mailer's pooled connection must close before the server can stop.
      for (const app of apps.splice(0)) await app.close();
      await sink.stop();
    }
  });
});
