import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { afterEach, describe, expect, it } from 'vitest';
import {
  MAIL_EVENTS, MailCancelledError, MailerConfigurationError, MailerModule, MailerService, StagingRedirectInterceptor,
  UnsupportedFeatureError, type MailInterceptor, type OutgoingMail,
} from 'nestjs-mailroom';
import { Mailbox, MailerTestingModule } from 'nestjs-mailroom/testing';
import { onCleanup, smtpSink } from '../../support/cleanup.js';
import { POSTMARK_TOKEN, PostmarkFake } from '../../support/provider-fakes/index.js';
import { testApp, TEMPLATES } from './testing-support.js';

async function postmarkFake(): Promise<PostmarkFake> {
  const fake = await new PostmarkFake().start();
  onCleanup(() => fake.stop());
  return fake;
}

const receipt = {
  to: { name: 'Ada Lovelace', address: 'ada@example.org' },
  template: 'receipt',
  context: {
    shop: 'Lumen & Co',
    customer: { name: 'Ada Lovelace', email: 'ada@example.org' },
    order: { id: '1001', total: '€86.50', url: 'https://shop.example/orders/1001', items: [{ name: 'Brass desk lamp', qty: 1, price: '€64.00' }] },
  },
};

describe('MailerTestingModule', () => {
  it('replaces every configured transport, failover members included, and opens no connection', async () => {
    const sink = await smtpSink({ auth: { user: 'shop', pass: 'secret' } });
    const postmark = await postmarkFake();
    const smtp = `smtp://shop:secret@127.0.0.1:${sink.port}?tlsMode=none`;
    const api = `postmark+api://${POSTMARK_TOKEN}@127.0.0.1:${postmark.url.split(':').pop()}`;
    const { mailer, mailbox } = await testApp({
      defaults: { from: 'shop@example.com' },
      transports: { default: smtp, bulk: api, backup: `failover(${smtp} ${api})`, spread: `roundrobin(${api} ${smtp})` },
    });

    await mailer.send({ to: 'ada@example.org', subject: 'One', text: 'over SMTP' });
    await mailer.send({ to: 'ada@example.org', subject: 'Two', text: 'over the API' }, { transport: 'bulk' });
    const third = await mailer.send({ to: 'ada@example.org', subject: 'Three', text: 'through the failover' }, { transport: 'backup' });
    const spread = mailbox.mails.length;
    await mailer.send({ to: 'a@example.org', text: 'a' }, { transport: 'spread' });
    await mailer.send({ to: 'b@example.org', text: 'b' }, { transport: 'spread' });
    await mailer.verify('default');

    // A round-robin transport keeps its members and takes them in turn.
    const turns = mailbox.mails.slice(spread);
    expect(turns.map((m) => `${m.transport} ${m.kind}`).sort()).toEqual(['spread[0] postmark', 'spread[1] smtp']);
    expect(mailbox.mails.slice(0, spread).map((m) => [m.subject, m.transport, m.kind])).toEqual([
      ['One', 'default', 'smtp'],
      ['Two', 'bulk', 'postmark'],
      ['Three', 'backup[0]', 'smtp'],
    ]);
    expect(third).toMatchObject({ transport: 'backup[0]', accepted: ['ada@example.org'], rejected: [] });
    expect(mailer.transportNames).toEqual(['default', 'bulk', 'backup', 'spread']);
    expect(sink.connections).toEqual([]);
    expect(postmark.requests).toEqual([]);
  });

  it('renders templates as in production and records the template and its context', async () => {
    const { mailer, mailbox } = await testApp({ transport: 'smtp://smtp.example.com:587', defaults: { from: 'Lumen & Co <shop@example.com>' }, templates: { dir: TEMPLATES } });
    const result = await mailer.send(receipt);

    const mail = mailbox.expectSent({ template: 'receipt', context: { order: { id: '1001' } } });
    expect(mail.subject).toBe('Receipt for order #1001 — Lumen & Co');
    expect(mail.headers.subject).toBe('Receipt for order #1001 — Lumen & Co');
    expect(mail.headers.to).toBe('Ada Lovelace <ada@example.org>');
    expect(mail.html).toMatch(/<p class="total" style="[^"]*font-weight: ?bold/);
    expect(mail.html).toContain('<td class="qty" style="text-align: right;">1</td>');
    expect(mail.text).toContain('Thank you, Ada Lovelace!');
    expect(mail.context).toEqual(receipt.context);
    expect(mail.result).toEqual(result);
    expect(mail.messageId).toBe(result.messageId);
  });

  it('reads the message back as it would travel: encoded headers, tags, attachments, the calendar invite', async () => {
    const { mailer, mailbox } = await testApp({ transport: 'smtp://smtp.example.com:587', defaults: { from: 'shop@example.com' } });
    await mailer.send({
      from: { name: 'Lumen & Cö', address: 'shop@example.com' },
      to: 'ada@example.org',
      bcc: 'audit@example.com',
      subject: 'Ihre Bestellung — schön verpackt',
      html: '<p><img src="cid:logo@shop"> Danke!</p>',
      tags: ['receipt'],
      metadata: { orderId: '1001' },
      priority: 'high',
      listUnsubscribe: { url: 'https://shop.example/u/1', oneClick: true },
      headers: { 'X-Campaign': 'spring' },
      attachments: [
        { filename: 'invoice-1001.pdf', content: Buffer.from('%PDF-1.4 invoice'), contentType: 'application/pdf' },
        { filename: 'logo.png', content: Buffer.from('png'), contentType: 'image/png', cid: 'logo@shop', contentDisposition: 'inline' },
      ],
      icalEvent: { method: 'REQUEST', content: 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n' },
    });

    const [mail] = mailbox.mails;
    expect(mail!.headers).toMatchObject({
      from: 'Lumen & Cö <shop@example.com>',
      subject: 'Ihre Bestellung — schön verpackt',
      'x-tags': 'receipt',
      'x-metadata-orderid': '1001',
      'x-priority': '1 (Highest)',
      'list-unsubscribe': '<https://shop.example/u/1>',
      'list-unsubscribe-post': 'List-Unsubscribe=One-Click',
      'x-campaign': 'spring',
    });
    expect(mail!.headers.bcc).toBeUndefined();
    expect(mail!.raw.toString('latin1')).toContain('Subject: =?UTF-8?');
    expect(mail!.envelope.to).toEqual(['ada@example.org', 'audit@example.com']);
    const files = new Map(mail!.attachments.map((a) => [a.filename, a]));
    expect(files.get('invoice-1001.pdf')).toMatchObject({ contentType: 'application/pdf', disposition: 'attachment', size: 16 });
    expect(files.get('invoice-1001.pdf')!.content.toString()).toBe('%PDF-1.4 invoice');
    expect(files.get('logo.png')).toMatchObject({ cid: 'logo@shop', disposition: 'inline' });
    expect(files.get('invite.ics')?.contentType).toBe('application/ics');
  });

  it('runs the interceptors and the mail.sending listeners, and a cancelled mail is not captured', async () => {
    @Injectable()
    class AuditInterceptor implements MailInterceptor {
      intercept(mail: OutgoingMail): OutgoingMail {
        return { ...mail, headers: { ...mail.headers, 'X-Audit': 'seen' } };
      }
    }
    const { mailer, mailbox } = await testApp(
      {
        transport: 'smtp://smtp.example.com:587',
        defaults: { from: 'shop@example.com' },
        templates: { dir: TEMPLATES },
        interceptors: [AuditInterceptor, new StagingRedirectInterceptor({ to: 'qa@shop.example', allow: ['@shop.example'] })],
      },
      { providers: [AuditInterceptor] },
    );
    mailer.events$.subscribe((event) => {
      if (event.type !== MAIL_EVENTS.sending) return;
      if (event.mail.subject === 'Do not send') event.cancel('held for review');
      else event.mail = { ...event.mail, subject: `[staging] ${event.mail.subject}` };
    });

    await mailer.send({ to: 'ada@example.org', template: 'welcome', context: { name: 'Ada' }, subject: 'Welcome' });
    await expect(mailer.send({ to: 'ada@example.org', subject: 'Do not send', text: 'x' })).rejects.toBeInstanceOf(MailCancelledError);

    const mail = mailbox.expectSent({ to: 'qa@shop.example', subject: '[staging] Welcome', headers: { 'X-Audit': 'seen', 'X-Original-To': /ada@example\.org/ } });
    // The context survives the interceptors' and the listener's copies of the mail.
    expect(mail.context).toEqual({ name: 'Ada' });
    mailbox.expectNotSent({ subject: /Do not send/ });
    mailbox.expectCount(1);
  });

  it('refuses what the configured provider could not carry, as production would', async () => {
    const { mailer, mailbox } = await testApp({ transport: 'mailgun+api://key-123456:mg.example.com@default', defaults: { from: 'shop@example.com' } });
    const invite = { to: 'ada@example.org', subject: 'Meeting', text: 'See invite', icalEvent: { content: 'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n' } };
    await expect(mailer.send(invite)).rejects.toBeInstanceOf(UnsupportedFeatureError);
    mailbox.expectNotSent();
  });

  it('checks the configuration as in production', async () => {
    const compile = Test.createTestingModule({
      imports: [MailerModule.forRoot({ transport: 'smtp://smtp.example.com:587?poool=true' }), MailerTestingModule],
    }).compile();
    await expect(compile).rejects.toThrow(MailerConfigurationError);
    await expect(compile).rejects.toThrow(/pool/);
  });

  it('captures sendBatch() and sendMail() too', async () => {
    const { mailer, mailbox } = await testApp({ transport: 'postmark+api://token@default', defaults: { from: 'shop@example.com' }, templates: { dir: TEMPLATES } });
    const outcomes = await mailer.sendBatch([
      { to: 'a@example.org', subject: 'A', text: 'a' },
      { to: 'b@example.org', subject: 'B', text: 'b' },
    ]);
    await mailer.sendMail({ to: 'c@example.org', template: 'welcome', context: { name: 'Cy' }, subject: 'C' });
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(mailbox.mails.map((m) => m.envelope.to[0])).toEqual(['a@example.org', 'b@example.org', 'c@example.org']);
    mailbox.expectSent({ to: 'c@example.org', template: 'welcome', context: { name: 'Cy' } });
  });

  describe('an application module with MailerModule.forRootAsync', () => {
    const saved = process.env.SMTP_URL;
    afterEach(() => {
      if (saved === undefined) delete process.env.SMTP_URL;
      else process.env.SMTP_URL = saved;
    });

    @Injectable()
    class WelcomeService {
      constructor(private readonly mailer: MailerService) {}
      welcome(to: string, name: string) {
        return this.mailer.send({ to, template: 'welcome', context: { name }, subject: `Welcome, ${name}` });
      }
    }

    @Module({
      imports: [
        MailerModule.forRootAsync({
          useFactory: async () => ({ transport: process.env.SMTP_URL!, defaults: { from: 'shop@example.com' }, templates: { dir: TEMPLATES } }),
        }),
      ],
      providers: [WelcomeService],
    })
    class AppModule {}

    it('captures the mail of the real module, with the real URL configured, and opens no connection', async () => {
      const sink = await smtpSink();
      process.env.SMTP_URL = `${sink.url}?tlsMode=none`;
      const moduleRef = await Test.createTestingModule({ imports: [AppModule, MailerTestingModule] }).compile();
      await moduleRef.init();
      onCleanup(() => moduleRef.close());

      await moduleRef.get(WelcomeService).welcome('ada@example.org', 'Ada');
      const mailbox = moduleRef.get(Mailbox);
      mailbox.expectSent({ to: 'ada@example.org', subject: 'Welcome, Ada', template: 'welcome', context: { name: 'Ada' }, text: 'Welcome aboard, Ada!\n' });
      expect(sink.connections).toEqual([]);
    });

    it('leaves the application as it is without MailerTestingModule', async () => {
      const sink = await smtpSink();
      process.env.SMTP_URL = `${sink.url}?tlsMode=none`;
      const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
      await moduleRef.init();
      onCleanup(() => moduleRef.close());
      const sent: OutgoingMail[] = [];
      moduleRef.get(MailerService).events$.subscribe((event) => {
        if (event.type === MAIL_EVENTS.sent) sent.push(event.mail);
      });
      await moduleRef.get(WelcomeService).welcome('ada@example.org', 'Ada');
      const [received] = await sink.waitFor(1);
      expect(received!.parsed.subject).toBe('Welcome, Ada');
      // Only the testing module asks the mailer to keep the template context on the mail.
      expect(sent).toHaveLength(1);
      expect(Object.getOwnPropertySymbols(sent[0])).toEqual([]);
    });
  });
});
