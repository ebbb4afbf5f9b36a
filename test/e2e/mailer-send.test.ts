import 'reflect-metadata';
import { fileURLToPath } from 'node:url';
import { Injectable } from '@nestjs/common';
import { EventEmitterModule, OnEvent } from '@nestjs/event-emitter';
import { Test, type TestingModule } from '@nestjs/testing';
import { describe, expect, it } from 'vitest';
import {
  InvalidMailError, MailCancelledError, MailerModule, MailerService, MemoryTransport, TemplateNotFoundError, TemplateSyntaxError,
  TransportError, type MailEvent, type MailerModuleOptions, type MailSendingEvent, type MailSentEvent,
} from '../../lib/index.js';
import { onCleanup, smtpSink as sink } from '../support/cleanup.js';

const TEMPLATES = fileURLToPath(new URL('../fixtures/mail-templates', import.meta.url));
const BROKEN = fileURLToPath(new URL('../fixtures/mail-templates-broken', import.meta.url));

async function boot(options: MailerModuleOptions, extra: { imports?: unknown[]; providers?: unknown[] } = {}): Promise<TestingModule> {
  const moduleRef = await Test.createTestingModule({
    imports: [MailerModule.forRoot(options), ...(extra.imports ?? [])] as never[],
    providers: (extra.providers ?? []) as never[],
  }).compile();
  await moduleRef.init();
  onCleanup(() => moduleRef.close());
  return moduleRef;
}

const order = {
  shop: 'Lumen & Co',
  customer: { name: 'Ada <Lovelace>', email: 'ada@example.org' },
  order: {
    id: 'A-1001',
    total: '€42.50',
    url: 'https://shop.example.com/orders/A-1001?ref=mail&x=1',
    items: [{ name: 'Lamp', qty: 1, price: '€30.00' }, { name: 'Bulb', qty: 3, price: '€12.50' }],
  },
};

describe('MailerService over real SMTP', () => {
  it('renders a templated receipt (layout, partial, subject template, inlined CSS, text part) and delivers it', async () => {
    const s = await sink();
    const app = await boot({ transport: `${s.url}?tlsMode=none`, defaults: { from: 'Lumen <shop@example.com>' }, templates: { dir: TEMPLATES } });
    const result = await app.get(MailerService).send({ to: order.customer.email, template: 'receipt', context: order });
    const [mail] = await s.waitFor(1);
    const p = mail!.parsed;
    expect(result.transport).toBe('default');
    expect(p.messageId).toBe(result.messageId);
    expect(p.subject).toBe('Receipt for order #A-1001 — Lumen & Co');
    const html = String(p.html);
    expect(html).toContain('Thank you, Ada &lt;Lovelace&gt;!');
    expect(html).not.toContain('<Lovelace>');
    expect(html).toMatch(/<td[^>]*style="[^"]*text-align: ?right[^"]*"[^>]*>3<\/td>/);
    expect(html).toMatch(/class="total"[^>]*style="[^"]*font-weight: ?bold|style="[^"]*font-weight: ?bold[^"]*"[^>]*class="total"/);
    const href = /<a [^>]*href="([^"]*)"/.exec(html)?.[1] ?? '';
    const decoded = href.replace(/&#x([0-9a-f]+);/gi, (_m, h: string) => String.fromCodePoint(parseInt(h, 16))).replace(/&amp;/g, '&');
    expect(decoded).toBe('https://shop.example.com/orders/A-1001?ref=mail&x=1');
    expect(p.text).toContain('Bulb');
    expect(p.text).toContain('https://shop.example.com/orders/A-1001?ref=mail&x=1');
    expect(p.text).toContain('Thank you, Ada <Lovelace>!');
    expect(p.text).not.toMatch(/<(p|td|tr|table|div|a|h1|strong)\b/i);
  });

  it('uses a .text.hbs template for the text part when there is one', async () => {
    const s = await sink();
    const app = await boot({ transport: `${s.url}?tlsMode=none`, defaults: { from: 'shop@example.com' }, templates: { dir: TEMPLATES } });
    await app.get(MailerService).send({ to: 'ada@example.org', subject: 'Welcome', template: 'welcome', context: { name: 'Ada & Bob' } });
    const [mail] = await s.waitFor(1);
    expect(mail!.parsed.text?.trim()).toBe('Welcome aboard, Ada & Bob!');
    expect(String(mail!.parsed.html)).toContain('Welcome, Ada &amp; Bob!');
  });

  it('render() returns subject, html and text without sending', async () => {
    const s = await sink();
    const app = await boot({ transport: `${s.url}?tlsMode=none`, templates: { dir: TEMPLATES } });
    const rendered = await app.get(MailerService).render('receipt', order);
    expect(rendered.subject).toBe('Receipt for order #A-1001 — Lumen & Co');
    expect(rendered.html).toContain('A-1001');
    expect(rendered.text).toContain('Lamp');
    expect(s.received).toHaveLength(0);
  });

  it('refuses a missing template with a typed error before any connection', async () => {
    const s = await sink();
    const app = await boot({ transport: `${s.url}?tlsMode=none`, defaults: { from: 'shop@example.com' }, templates: { dir: TEMPLATES } });
    await expect(app.get(MailerService).send({ to: 'ada@example.org', template: 'no-such-template' })).rejects.toBeInstanceOf(TemplateNotFoundError);
    expect(s.connections).toHaveLength(0);
  });

  it('stops start-up on a template with a syntax error, naming the file', async () => {
    const error = await Test.createTestingModule({ imports: [MailerModule.forRoot({ transport: 'memory://', templates: { dir: BROKEN } })] })
      .compile().catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(TemplateSyntaxError);
    expect((error as Error).message).toContain('bad.hbs');
  });

  it.each([
    ['subject', { subject: 'Hi\r\nBcc: victim@example.net' }],
    ['to', { to: 'ada@example.org\r\nBcc: victim@example.net' }],
    ['from name', { from: { name: 'Shop\nBcc: victim@example.net', address: 'shop@example.com' } }],
    ['custom header', { headers: { 'X-Ref': 'a\r\nBcc: victim@example.net' } }],
    ['attachment filename', { attachments: [{ filename: 'a.txt\r\nX-Evil: 1', content: 'x' }] }],
  ])('refuses a line break in %s and sends nothing', async (_field, patch) => {
    const s = await sink();
    const app = await boot({ transport: `${s.url}?tlsMode=none` });
    const mail = { from: 'shop@example.com', to: 'ada@example.org', subject: 'Hi', text: 'x', ...patch };
    await expect(app.get(MailerService).send(mail)).rejects.toBeInstanceOf(InvalidMailError);
    expect(s.connections).toHaveLength(0);
  });

  it('refuses file-path and URL attachments unless the module allows them', async () => {
    const s = await sink();
    const app = await boot({ transport: `${s.url}?tlsMode=none`, defaults: { from: 'shop@example.com' } });
    const mailer = app.get(MailerService);
    await expect(mailer.send({ to: 'a@example.org', text: 'x', attachments: [{ path: '/etc/passwd' }] })).rejects.toThrow(/allowFilePaths/);
    await expect(mailer.send({ to: 'a@example.org', text: 'x', attachments: [{ path: 'http://169.254.169.254/latest/meta-data' }] })).rejects.toThrow(/allowUrls/);
    expect(s.connections).toHaveLength(0);
  });

  it("sendMail() names the module option that allows the incumbent's path and href attachments", async () => {
    const s = await sink();
    const app = await boot({ transport: `${s.url}?tlsMode=none`, defaults: { from: 'shop@example.com' } });
    const mailer = app.get(MailerService);
    await expect(mailer.sendMail({ to: 'a@example.org', text: 'x', attachments: [{ filename: 'invoice.pdf', path: './invoice.pdf' }] }))
      .rejects.toThrow(/attachments\[0\]: file paths are not read unless the module allows it, so nothing was sent\. Allow them with the module option attachments: \{ allowFilePaths: true \}/);
    await expect(mailer.sendMail({ to: 'a@example.org', text: 'x', attachments: [{ href: 'https://files.example.com/a.pdf' }] }))
      .rejects.toThrow(/attachments: \{ allowUrls: true \}/);
    expect(s.connections).toHaveLength(0);
  });

  it('attaches a file by path when allowed', async () => {
    const s = await sink();
    const app = await boot({ transport: `${s.url}?tlsMode=none`, defaults: { from: 'shop@example.com' }, attachments: { allowFilePaths: true } });
    await app.get(MailerService).send({ to: 'a@example.org', text: 'x', attachments: [{ path: `${TEMPLATES}/welcome.hbs` }] });
    const [mail] = await s.waitFor(1);
    expect(mail!.parsed.attachments[0]?.filename).toBe('welcome.hbs');
    expect(mail!.parsed.attachments[0]?.content.toString()).toContain('Welcome, {{name}}!');
  });

  it('fetches a URL attachment when allowed', async () => {
    const { createServer } = await import('node:http');
    const server = createServer((_req, res) => { res.setHeader('content-type', 'text/csv'); res.end('id,total\n1001,42.50\n'); });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onCleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const port = (server.address() as { port: number }).port;
    const s = await sink();
    const app = await boot({ transport: `${s.url}?tlsMode=none`, defaults: { from: 'shop@example.com' }, attachments: { allowUrls: true } });
    await app.get(MailerService).send({ to: 'a@example.org', text: 'x', attachments: [{ path: `http://127.0.0.1:${port}/exports/orders.csv` }] });
    const [mail] = await s.waitFor(1);
    expect(mail!.parsed.attachments[0]?.filename).toBe('orders.csv');
    expect(mail!.parsed.attachments[0]?.content.toString()).toBe('id,total\n1001,42.50\n');
  });

  it('reports a partial delivery with the refused recipient and its reply', async () => {
    const s = await sink({ rcpt: (a) => (a.startsWith('gone') ? { code: 550, message: '5.1.1 User unknown' } : undefined) });
    const app = await boot({ transport: `${s.url}?tlsMode=none`, defaults: { from: 'shop@example.com' } });
    const result = await app.get(MailerService).send({ to: ['a@example.org', 'gone@example.org', 'b@example.org'], text: 'x' });
    expect(result.accepted.sort()).toEqual(['a@example.org', 'b@example.org']);
    expect(result.rejected).toMatchObject([{ address: 'gone@example.org', replyCode: 550, status: '5.1.1' }]);
  });
});

describe('mail events', () => {
  it('events$ lets a listener rewrite or cancel a mail; mail.sent and mail.failed follow', async () => {
    const s = await sink();
    const app = await boot({ transport: `${s.url}?tlsMode=none`, defaults: { from: 'shop@example.com' } });
    const mailer = app.get(MailerService);
    const seen: MailEvent[] = [];
    mailer.events$.subscribe((event) => {
      seen.push(event);
      if (event.type === 'mail.sending') {
        if (event.mail.subject === 'cancel me') event.cancel('blocked by policy');
        event.mail.subject = `[staging] ${event.mail.subject}`;
        event.mail.headers['X-Audit'] = 'yes';
      }
    });
    await mailer.send({ to: 'a@example.org', subject: 'Hello', text: 'x' });
    await expect(mailer.send({ to: 'a@example.org', subject: 'cancel me', text: 'x' })).rejects.toBeInstanceOf(MailCancelledError);
    const [mail] = await s.waitFor(1);
    expect(mail!.parsed.subject).toBe('[staging] Hello');
    expect(mail!.parsed.headers.get('x-audit')).toBe('yes');
    expect(s.received).toHaveLength(1);
    expect(seen.map((e) => e.type)).toEqual(['mail.sending', 'mail.sent', 'mail.sending']);
    expect((seen[1] as MailSentEvent).result.messageId).toBe(mail!.parsed.messageId);
  });

  it('a listener that injects a line break is caught before sending', async () => {
    const s = await sink();
    const app = await boot({ transport: `${s.url}?tlsMode=none`, defaults: { from: 'shop@example.com' } });
    const mailer = app.get(MailerService);
    mailer.events$.subscribe((e) => { if (e.type === 'mail.sending') e.mail.subject = 'x\r\nBcc: v@example.net'; });
    await expect(mailer.send({ to: 'a@example.org', text: 'x' })).rejects.toBeInstanceOf(InvalidMailError);
    expect(s.connections).toHaveLength(0);
  });

  it('publishes through @nestjs/event-emitter to @OnEvent listeners, which may change the mail', async () => {
    const s = await sink({ rcpt: (a) => (a === 'down@example.org' ? { code: 451, message: '4.3.0 Try again later' } : undefined) });
    @Injectable()
    class Listener {
      readonly events: string[] = [];
      @OnEvent('mail.sending')
      async redirect(event: MailSendingEvent) {
        await new Promise((r) => setTimeout(r, 5));
        event.mail.headers['X-Listener'] = 'on-event';
        this.events.push('sending');
      }
      @OnEvent('mail.sent')
      sent() { this.events.push('sent'); }
      @OnEvent('mail.failed')
      failed() { this.events.push('failed'); }
    }
    const app = await boot(
      { transport: `${s.url}?tlsMode=none`, defaults: { from: 'shop@example.com' } },
      { imports: [EventEmitterModule.forRoot()], providers: [Listener] },
    );
    const mailer = app.get(MailerService);
    await mailer.send({ to: 'a@example.org', text: 'x' });
    const failure = await mailer.send({ to: 'down@example.org', text: 'x' }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(TransportError);
    const [mail] = await s.waitFor(1);
    expect(mail!.parsed.headers.get('x-listener')).toBe('on-event');
    await new Promise((r) => setTimeout(r, 10));
    expect(app.get(Listener).events).toEqual(['sending', 'sent', 'sending', 'failed']);
  });
});

describe('the @nestjs-modules/mailer call shape', () => {
  it('sendMail() takes nodemailer fields plus template, context and transporterName', async () => {
    const s = await sink();
    const app = await boot({
      transports: { default: 'memory://', smtp: `${s.url}?tlsMode=none` },
      defaults: { from: '"No Reply" <noreply@example.com>' },
      templates: { dir: TEMPLATES },
    });
    const info = await app.get(MailerService).sendMail({
      to: 'ada@example.org',
      subject: 'Welcome',
      template: './welcome',
      context: { name: 'Ada' },
      transporterName: 'smtp',
      inReplyTo: '<prev@example.com>',
      attachments: [{ filename: 'hello.txt', content: 'hello' }],
    });
    const [mail] = await s.waitFor(1);
    expect(info.accepted).toEqual(['ada@example.org']);
    expect(info.rejected).toEqual([]);
    expect(info.messageId).toBe(mail!.parsed.messageId);
    expect(mail!.parsed.inReplyTo).toBe('<prev@example.com>');
    expect(mail!.parsed.from?.value[0]).toEqual({ name: 'No Reply', address: 'noreply@example.com' });
    expect(mail!.parsed.text?.trim()).toBe('Welcome aboard, Ada!');
    expect(mail!.parsed.attachments[0]?.content.toString()).toBe('hello');
  });

  it('refuses nodemailer fields it cannot carry instead of dropping them', async () => {
    const app = await boot({ transport: 'memory://', defaults: { from: 'a@example.com' } });
    await expect(app.get(MailerService).sendMail({ to: 'b@example.com', text: 'x', amp: '<html ⚡4email></html>' }))
      .rejects.toThrow(/amp is not supported/);
    await expect(app.get(MailerService).sendMail({ to: 'b@example.com', text: 'x', textEncoding: 'base64' }))
      .rejects.toThrow(/textEncoding is not supported; nothing was sent\. textEncoding: set textEncoding on the SMTP transport/);
    await expect(app.get(MailerService).sendMail({ to: 'b@example.com', text: 'x', textTemplate: 'welcome-text' }))
      .rejects.toThrow(/textTemplate is not supported; nothing was sent\. textTemplate: the text part of template <name> is <name>\.text\.hbs/);
  });

  it("reads text and html given in nodemailer's encoding", async () => {
    const app = await boot({ transport: 'memory://', defaults: { from: 'a@example.com' } });
    const mailer = app.get(MailerService);
    await mailer.sendMail({ to: 'b@example.com', encoding: 'base64', text: Buffer.from('Grüße').toString('base64'), html: Buffer.from('<p>Grüße</p>').toString('base64') });
    const sent = mailer.getTransport<MemoryTransport>().sent[0]!;
    expect([sent.text, sent.html]).toEqual(['Grüße', '<p>Grüße</p>']);
    await expect(mailer.sendMail({ to: 'b@example.com', text: 'x', encoding: 'rot13' })).rejects.toThrow(/encoding "rot13" is not a text encoding/);
  });

  it('refuses a { path } body and an attachment key it does not read, instead of sending something else', async () => {
    const app = await boot({ transport: 'memory://', defaults: { from: 'a@example.com' } });
    const mailer = app.get(MailerService);
    await expect(mailer.sendMail({ to: 'b@example.com', text: { path: './body.txt' } as never })).rejects.toThrow(/text must be a string or a Buffer/);
    await expect(mailer.sendMail({ to: 'b@example.com', text: 'x', attachments: [{ filename: 'a.txt', content: 'a', contentTransferEncoding: '7bit' } as never] }))
      .rejects.toThrow(/attachments\[0\]\.contentTransferEncoding is not supported/);
    expect(mailer.getTransport<MemoryTransport>().sent).toHaveLength(0);
  });
});
