import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Mailbox, MailerTestingModule } from 'nestjs-mailroom/testing';
import { AppModule } from '../../sample-app/src/app.module.js';
import { OUTBOX } from '../../sample-app/src/outbox/outbox.module.js';
import type { OutboxServer } from '../../sample-app/src/outbox/outbox.server.js';

// The sample app tested the way its own test suite would be: its AppModule as it is, with
// MailerTestingModule beside it.

describe('sample app with MailerTestingModule', () => {
  const saved = process.env.MAILER_URL;
  let app: INestApplication;
  let mailbox: Mailbox;

  beforeEach(async () => {
    delete process.env.MAILER_URL;
    const moduleRef = await Test.createTestingModule({ imports: [AppModule, MailerTestingModule] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    mailbox = app.get(Mailbox);
  });

  afterEach(async () => {
    await app.close();
    if (saved === undefined) delete process.env.MAILER_URL;
    else process.env.MAILER_URL = saved;
  });

  it('captures the receipt — template, context, attachments, tags — and the outbox server gets nothing', async () => {
    const sent = await request(app.getHttpServer()).post('/orders/1001/receipt').expect(202);

    const mail = mailbox.expectSent({
      to: 'ada@example.org',
      subject: 'Your receipt for order #1001',
      template: 'receipt',
      context: { order: { id: '1001', total: '€86.50' }, customer: { name: 'Ada Lovelace' } },
      attachments: ['invoice-1001.pdf', 'logo.png'],
      headers: { 'x-tags': 'receipt', 'x-metadata-orderId': '1001' },
    });
    expect(mail.messageId).toBe(sent.body.messageId);
    expect(mail.html).toContain('3 × Edison bulb (E27)');
    expect(mail.attachments.find((a) => a.filename === 'invoice-1001.pdf')!.content.subarray(0, 5).toString()).toBe('%PDF-');
    mailbox.expectCount(1);
    // Nothing reached the sample's embedded SMTP server.
    expect(app.get<OutboxServer>(OUTBOX).entries).toEqual([]);
  });

  it('captures the shipped mail with its locale and the MJML template it was rendered from', async () => {
    await request(app.getHttpServer()).post('/orders/1003/shipped').expect(202);
    const mail = mailbox.expectSent({ to: 'zoe@example.ca', template: 'shipped', locale: 'fr-CA', subject: 'Votre commande n° 1003 est en route' });
    expect(mail.context).toMatchObject({ order: { id: '1003', currency: 'CAD', itemCount: 3 } });
    expect(mail.html).toContain('Suivre mon colis');
    expect(mail.tags).toEqual(['shipped']);
    expect(app.get<OutboxServer>(OUTBOX).entries).toEqual([]);
  });

  it('answers 502 when the server refuses the customer, and leaves the address out of the next receipt', async () => {
    mailbox.failNext('550 5.1.1 <grace@example.org>: Recipient address rejected: User unknown');
    const refused = await request(app.getHttpServer()).post('/orders/1002/receipt').expect(502);
    expect(refused.body).toMatchObject({ code: 'MAILER_TRANSPORT' });

    const next = await request(app.getHttpServer()).post('/orders/1002/receipt').expect(202);
    expect(next.body).toMatchObject({ accepted: [], rejected: [{ address: 'grace@example.org' }] });
    mailbox.expectNotSent();
  });
});
