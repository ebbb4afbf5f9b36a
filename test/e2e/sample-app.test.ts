import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { AppModule } from '../../sample-app/src/app.module.js';
import { OUTBOX } from '../../sample-app/src/outbox/outbox.module.js';
import type { OutboxServer } from '../../sample-app/src/outbox/outbox.server.js';
import { parseHtml } from '../support/html-document.js';
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

/** A mail as the preview's outbox API (GET /outbox/api/mails/:id) describes it. */
interface PreviewedMail {
  id: number;
  status: string;
  transport: string;
  view: {
    messageId: string;
    subject: string;
    envelope: { to: string[] };
    text: string;
    attachments: Array<{ filename: string; contentType: string; cid?: string; size: number }>;
  };
}

describe('sample app', () => {
  it('sends a receipt to the embedded SMTP server when MAILER_URL is not set, and shows it in the outbox', async () => {
    delete process.env.MAILER_URL;
    const app = await start();
    const sent = await request(app.getHttpServer()).post('/orders/1001/receipt').expect(202);
    expect(sent.body).toMatchObject({ transport: 'default', accepted: ['ada@example.org'], rejected: [] });

    // It travelled over SMTP: the embedded server received and parsed it.
    const received = app.get<OutboxServer>(OUTBOX).entries;
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ messageId: sent.body.messageId, subject: 'Your receipt for order #1001', envelope: { to: ['ada@example.org'] } });
    expect(received[0]!.html).toContain('Thanks for your order, Ada Lovelace');

    // The preview's outbox (GET /outbox is its page) lists it, with every part.
    const list = await request(app.getHttpServer()).get('/outbox/api/mails').expect(200);
    expect(list.body).toHaveLength(1);
    const mail = (await request(app.getHttpServer()).get(`/outbox/api/mails/${list.body[0].id}`).expect(200)).body as PreviewedMail;
    expect(mail).toMatchObject({ status: 'sent', transport: 'default' });
    expect(mail.view.messageId).toBe(sent.body.messageId);
    expect(mail.view.subject).toBe('Your receipt for order #1001');
    expect(mail.view.envelope.to).toEqual(['ada@example.org']);
    expect(mail.view.text).toContain('3 × Edison bulb (E27)');
    expect(mail.view.text).toContain('€86.50');
    const attachments = new Map(mail.view.attachments.map((a) => [a.filename, a]));
    expect(attachments.get('invoice-1001.pdf')?.contentType).toBe('application/pdf');
    expect(attachments.get('logo.png')?.cid).toBe('logo@mailroom.sample');
    const html = await request(app.getHttpServer()).get(`/outbox/api/mails/${mail.id}/html`).expect(200);
    expect(html.text).toContain('Thanks for your order, Ada Lovelace');
    expect(html.text).toContain('3 × Edison bulb (E27)');
    expect(html.text).toMatch(/style="[^"]*text-align: ?right/);
    const page = await request(app.getHttpServer()).get('/outbox').expect(200);
    expect(page.text).toContain('<title>Mail preview</title>');
  });

  it('previews the receipt template with the sample orders of its preview class', async () => {
    delete process.env.MAILER_URL;
    const app = await start();
    const listing = await request(app.getHttpServer()).get('/outbox/api/templates').expect(200);
    expect(listing.body.templates).toEqual([
      { name: 'receipt', locales: [], previews: ['severalLines', 'oneLine', 'longOrder'].map((name) => ({ name, source: `ReceiptPreviews.${name}` })) },
      { name: 'shipped', locales: ['fr'], previews: ['canadianFrench', 'britishEnglish', 'german'].map((name) => ({ name, source: `ShippedPreviews.${name}` })) },
    ]);
    const preview = await request(app.getHttpServer()).get('/outbox/api/preview?template=receipt&preview=oneLine').expect(200);
    expect(preview.body).toMatchObject({ ok: true, view: { subject: 'Your receipt for order #1002', to: ['Grace Hopper <grace@example.org>'] } });
    expect(preview.body.view.text).toContain('2 × Notebook, dotted');
    // A preview sends nothing.
    expect(app.get<OutboxServer>(OUTBOX).entries).toEqual([]);
  });

  it('sends the MJML "on its way" mail in the customer\'s locale over SMTP: French for fr-CA, English for en-GB', async () => {
    delete process.env.MAILER_URL;
    const app = await start();
    await request(app.getHttpServer()).post('/orders/1003/shipped').expect(202);
    await request(app.getHttpServer()).post('/orders/1001/shipped').expect(202);
    const [french, english] = app.get<OutboxServer>(OUTBOX).entries;

    expect(french!.subject).toBe('Votre commande n° 1003 est en route');
    const frenchDoc = parseHtml(french!.html!);
    expect(frenchDoc.elements('html')[0]!.attribs).toMatchObject({ lang: 'fr-CA', dir: 'ltr' });
    const frenchText = french!.text!.replace(/\s+/g, ' ');
    expect(frenchText).toContain('Bonne nouvelle, Zoé Tremblay');
    expect(frenchText).toContain('a quitté notre atelier le 2 mars 2026 avec 3 articles');
    expect(frenchText).toContain(`Total ${new Intl.NumberFormat('fr-CA', { style: 'currency', currency: 'CAD' }).format(108)}`.replace(/\s+/g, ' '));
    expect(frenchText).toContain('Suivre mon colis [https://track.example/parcels/LUM-1003]');
    // MJML's responsive layout: the column widths switch in a media query
    expect(frenchDoc.styles().some((s) => s.css.includes('@media only screen and (min-width:480px)'))).toBe(true);

    expect(english!.subject).toBe('Order #1001 is on its way');
    expect(parseHtml(english!.html!).elements('html')[0]!.attribs).toMatchObject({ lang: 'en-GB', dir: 'ltr' });
    const englishText = english!.text!.replace(/\s+/g, ' ');
    expect(englishText).toContain('Good news, Ada Lovelace');
    expect(englishText).toContain('with 4 items');
    expect(englishText).toContain('Total €86.50');
  });

  it('previews the MJML template in each locale it is written in, and one it falls back for', async () => {
    delete process.env.MAILER_URL;
    const app = await start();
    const french = await request(app.getHttpServer()).get('/outbox/api/preview?template=shipped&preview=canadianFrench').expect(200);
    expect(french.body).toMatchObject({ ok: true, locale: 'fr-CA', view: { subject: 'Votre commande n° 1003 est en route' } });
    const german = await request(app.getHttpServer()).get('/outbox/api/preview?template=shipped&preview=german').expect(200);
    expect(german.body).toMatchObject({ ok: true, locale: 'de-DE', view: { subject: 'Order #1001 is on its way' } });
    expect(german.body.view.text).toContain('2. März 2026');
    expect(german.body.view.text.replace(/\s+/g, ' ')).toContain('Total 86,50 €');
  });

  it('answers 404 for an unknown order and sends nothing', async () => {
    delete process.env.MAILER_URL;
    const app = await start();
    await request(app.getHttpServer()).post('/orders/9999/receipt').expect(404);
    const outbox = await request(app.getHttpServer()).get('/outbox/api/mails').expect(200);
    expect(outbox.body).toEqual([]);
  });

  it('sends through the transport in MAILER_URL alone; the embedded server is off and the outbox shows the mail', async () => {
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
      expect(app.get(OUTBOX)).toBeNull();
      const outbox = await request(app.getHttpServer()).get('/outbox/api/mails').expect(200);
      expect(outbox.body.map((m: { subject: string }) => m.subject)).toEqual(['Your receipt for order #1002']);
    } finally {
      // The mailer's pooled connection must close before the server can stop.
      for (const app of apps.splice(0)) await app.close();
      await sink.stop();
    }
  });
});
