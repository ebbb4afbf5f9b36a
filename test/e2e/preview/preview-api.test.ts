import 'reflect-metadata';
import { Readable } from 'node:stream';
import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { simpleParser } from 'mailparser';
import { MailerConfigurationError, MailerModule, type OutgoingMail } from 'nestjs-mailroom';
import { MailerPreviewModule } from 'nestjs-mailroom/preview';
import { afterEach, describe, expect, it } from 'vitest';
import { LOGO_PNG, startPreviewApp, type PreviewApp } from '../../support/preview-app.js';

// The preview's HTTP surface without a browser: what it serves, with which headers, and what it
// refuses. The browser tests (preview-browser.test.ts) drive the page itself.

const apps: PreviewApp[] = [];
const savedEnv = process.env.NODE_ENV;
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
  process.env.NODE_ENV = savedEnv;
});

async function start(...args: Parameters<typeof startPreviewApp>): Promise<PreviewApp> {
  const app = await startPreviewApp(...args);
  apps.push(app);
  return app;
}

async function json<T>(url: string): Promise<T> {
  const response = await fetch(url);
  expect(response.status, url).toBe(200);
  return (await response.json()) as T;
}

interface Summary { id: number; subject: string; status: string; to: string[]; error?: string }

describe('the preview API', () => {
  it('answers every route with nosniff, no-store and a content-security policy, errors included', async () => {
    const { url } = await start();
    const routes = ['', '/assets/preview.js', '/assets/preview.css', '/api/templates', '/api/mails', '/api/mails/99',
      '/api/preview?template=welcome', '/api/preview/html?template=welcome', '/api/preview?template=nope'];
    for (const route of routes) {
      const response = await fetch(url + route);
      expect(response.headers.get('x-content-type-options'), route).toBe('nosniff');
      expect(response.headers.get('cache-control'), route).toBe('no-store');
      expect(response.headers.get('content-security-policy'), route).toMatch(/default-src 'none'/);
    }
    const page = await fetch(url);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page.text()).toContain('<script src="/mail-preview/assets/preview.js"');
    const mail = await fetch(`${url}/api/preview/html?template=welcome`);
    const policy = mail.headers.get('content-security-policy')!;
    expect(policy).not.toMatch(/script-src/);
    expect(policy).toContain('sandbox');
    expect(policy).toContain('img-src data:;');
  });

  it('looks a template up in the renderer\'s list, so a name is never a path', async () => {
    const { url } = await start();
    for (const name of ['../../../etc/passwd', '/etc/passwd', 'layouts/main', 'orders/../welcome', 'orders%2Freceipt.hbs']) {
      const response = await fetch(`${url}/api/preview?template=${encodeURIComponent(name)}`);
      expect(response.status, name).toBe(404);
      expect(await response.text(), name).not.toContain('<html');
    }
    expect((await fetch(`${url}/api/preview?template=orders/receipt&preview=constructor`)).status).toBe(404);
    expect((await fetch(`${url}/api/preview?template[]=welcome`)).status).toBe(404);
  });

  it('renders through the application\'s mailer: subject template, layout, CSS inlined, text part', async () => {
    const { url } = await start();
    const answer = await json<{ ok: true; renderMs: number; view: { subject: string; text: string; from: string; to: string[] } }>(
      `${url}/api/preview?template=orders/receipt&preview=twoItems`,
    );
    expect(answer.ok).toBe(true);
    expect(answer.renderMs).toBeGreaterThan(0);
    expect(answer.view).toMatchObject({ subject: 'Receipt for order #A-1', from: 'Lumen <shop@example.com>', to: ['Recipient <recipient@example.com>'] });
    expect(answer.view.text).toContain('Thank you, Ada!');
    const html = await (await fetch(`${url}/api/preview/html?template=orders/receipt&preview=twoItems`)).text();
    expect(html).toMatch(/<p class="total" style="[^"]*text-align: ?right/);
    expect(html).toContain('src="data:image/png;base64,');
    expect(html).not.toContain('cid:');

    const refunded = await json<{ view: { subject: string } }>(`${url}/api/preview?template=orders/receipt&preview=refunded`);
    expect(refunded.view.subject).toBe('Your refund');
  });

  it('serves the message source, parseable, and as a download on request', async () => {
    const { url } = await start();
    const source = await fetch(`${url}/api/preview/source?template=orders/receipt&preview=twoItems`);
    expect(source.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    const parsed = await simpleParser(Buffer.from(await source.arrayBuffer()));
    expect(parsed.subject).toBe('Receipt for order #A-1');
    expect(parsed.attachments[0]!.content.equals(LOGO_PNG)).toBe(true);
    const download = await fetch(`${url}/api/preview/source?template=orders/receipt&preview=twoItems&download=1`);
    expect(download.headers.get('content-disposition')).toMatch(/^attachment; filename="mail\.eml"/);
  });

  it('records sent and failed mail, newest first, up to outboxSize', async () => {
    const { url, mailer } = await start({ preview: { outboxSize: 2 } });
    for (const n of [1, 2, 3]) await mailer.send({ to: `r${n}@example.org`, subject: `Mail ${n}`, text: 'hi' });
    const mails = await json<Summary[]>(`${url}/api/mails`);
    expect(mails.map((m) => m.subject)).toEqual(['Mail 3', 'Mail 2']);
    expect((await fetch(`${url}/api/mails/1`)).status).toBe(404);
    const third = await json<{ subject: string; status: string; accepted: string[]; view: { text: string; hasHtml: boolean } }>(`${url}/api/mails/3`);
    expect(third).toMatchObject({ subject: 'Mail 3', status: 'sent', accepted: ['r3@example.org'] });
    expect(third.view).toMatchObject({ text: expect.stringMatching(/^hi\s*$/), hasHtml: false });
    expect((await fetch(`${url}/api/mails/3/html`)).status).toBe(404);
  });

  it('records a mail the transport refused, with the error', async () => {
    const { url, mailer } = await start({ mailer: { transport: 'smtp://127.0.0.1:1?tlsMode=none', retry: false } });
    await expect(mailer.send({ to: 'r@example.org', subject: 'Refused', text: 'hi' })).rejects.toThrow();
    const [mail] = await json<Summary[]>(`${url}/api/mails`);
    expect(mail).toMatchObject({ subject: 'Refused', status: 'failed' });
    expect(mail!.error).toBeTruthy();
  });

  it('serves a raster image inline and anything else as a download, and never reads a stream it does not own', async () => {
    const stream = Readable.from([Buffer.from('streamed bytes')]);
    // An interceptor may hand the transport a stream; the preview leaves it to its owner.
    const addStream = { intercept: (mail: OutgoingMail) => ({ ...mail, attachments: [...mail.attachments, { filename: 'stream.txt', content: stream, contentDisposition: 'attachment' as const }] }) };
    const { url, mailer } = await start({ mailer: { interceptors: [addStream] } });
    await mailer.send({
      to: 'r@example.org',
      subject: 'Files',
      html: '<p>files</p>',
      attachments: [
        { filename: 'photo.png', content: LOGO_PNG },
        { filename: 'drawing.svg', content: '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', contentType: 'image/svg+xml' },
        { filename: 'résumé.pdf', content: Buffer.from('%PDF-1.4'), contentType: 'application/pdf' },
      ],
    });
    const [summary] = await json<Summary[]>(`${url}/api/mails`);
    const view = await json<{ view: { attachments: Array<{ filename: string; inline: boolean; notKept?: boolean; size: number }> } }>(`${url}/api/mails/${summary!.id}`);
    const byName = new Map(view.view.attachments.map((a) => [a.filename, a]));
    expect(byName.get('photo.png')).toMatchObject({ inline: true });
    expect(byName.get('drawing.svg')).toMatchObject({ inline: false });
    expect(byName.get('stream.txt')).toMatchObject({ notKept: true, size: 0 });

    const index = (name: string) => view.view.attachments.findIndex((a) => a.filename === name);
    const photo = await fetch(`${url}/api/mails/${summary!.id}/attachments/${index('photo.png')}`);
    expect(photo.headers.get('content-disposition')).toMatch(/^inline;/);
    expect(Buffer.from(await photo.arrayBuffer()).equals(LOGO_PNG)).toBe(true);
    const svg = await fetch(`${url}/api/mails/${summary!.id}/attachments/${index('drawing.svg')}`);
    expect(svg.headers.get('content-disposition')).toMatch(/^attachment;/);
    expect(svg.headers.get('content-security-policy')).toContain('sandbox');
    const pdf = await fetch(`${url}/api/mails/${summary!.id}/attachments/${index('résumé.pdf')}`);
    expect(pdf.headers.get('content-disposition')).toBe(`attachment; filename="r_sum_.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf`);
    expect((await fetch(`${url}/api/mails/${summary!.id}/attachments/9`)).status).toBe(404);
    // The memory transport kept the stream unread, and so did the preview.
    expect(stream.readableEnded).toBe(false);
  });

  it('reports a template that fails to render, with the stage', async () => {
    const { url } = await start({ mailer: { templates: { dir: (await import('../../support/preview-app.js')).PREVIEW_TEMPLATES, strict: true } } });
    const answer = await json<{ ok: false; error: { stage: string; code: string; message: string } }>(`${url}/api/preview?template=welcome`);
    expect(answer).toMatchObject({ ok: false, error: { stage: 'render', code: 'MAILER_TEMPLATE_RENDER' } });
    expect(answer.error.message).toContain('missing variable "shop"');
    expect((await fetch(`${url}/api/preview/html?template=welcome`)).status).toBe(422);
  });

  it('builds its page links from the path it was requested under, global prefix included', async () => {
    const { url } = await start({ path: '/dev/mail/', globalPrefix: 'api' });
    expect(url).toMatch(/\/api\/dev\/mail$/);
    for (const page of [await (await fetch(url)).text(), await (await fetch(`${url}/`)).text()]) {
      expect(page).toContain('<link rel="stylesheet" href="/api/dev/mail/assets/preview.css">');
      expect(page).toContain('data-base="/api/dev/mail"');
    }
    expect((await fetch(`${url}/assets/preview.js`)).status).toBe(200);
  });
});

describe('the preview module\'s safety rules', () => {
  it('mounts nothing and records nothing unless enabled', async () => {
    const { url, mailer } = await start({ preview: { enabled: false } });
    await mailer.send({ to: 'r@example.org', subject: 'Hidden', text: 'hi' });
    for (const route of ['', '/api/mails', '/api/templates', '/assets/preview.js']) {
      const response = await fetch(url + route);
      expect(response.status, route).toBe(404);
      expect(await response.json()).toEqual({ statusCode: 404, error: 'Not Found', message: `Cannot GET /mail-preview${route}` });
    }
  });

  it('answers 404 everywhere when forRootAsync resolves enabled: false', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        MailerModule.forRoot({ transport: 'memory://', defaults: { from: 'a@example.com' } }),
        MailerPreviewModule.forRootAsync({ path: 'outbox', useFactory: () => ({ enabled: false }) }),
      ],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    try {
      const port = (app.getHttpServer().address() as { port: number }).port;
      const response = await fetch(`http://127.0.0.1:${port}/outbox/api/mails`);
      expect(response.status).toBe(404);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(((await response.json()) as { message: string }).message).toBe('Cannot GET /outbox/api/mails');
    } finally {
      await app.close();
    }
  });

  it('serves the UI with forRootAsync when the factory enables it', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        MailerModule.forRoot({ transport: 'memory://', defaults: { from: 'a@example.com' } }),
        MailerPreviewModule.forRootAsync({ path: 'outbox', useFactory: async () => ({ enabled: true }) }),
      ],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    try {
      const port = (app.getHttpServer().address() as { port: number }).port;
      expect((await fetch(`http://127.0.0.1:${port}/outbox`)).status).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('refuses to start with NODE_ENV=production unless forced', async () => {
    process.env.NODE_ENV = 'production';
    const error = await startPreviewApp({ listen: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MailerConfigurationError);
    expect((error as Error).message).toContain('NODE_ENV=production');

    const disabled = await start({ listen: false, preview: { enabled: false } });
    expect(disabled.app).toBeDefined();
    const forced = await start({ preview: { force: true } });
    expect((await fetch(forced.url)).status).toBe(200);
  });

  it('refuses unknown options, extras given as options, a bad outbox size and a bad path at start-up', async () => {
    const cases: Array<[Parameters<typeof startPreviewApp>[0], RegExp]> = [
      [{ preview: { enabled: true, outboxsize: 5 } as never }, /unknown option "outboxsize". Did you mean "outboxSize"\?/],
      [{ preview: { enabled: true, outboxSize: 0 } }, /outboxSize must be a whole number of at least 1/],
      [{ path: '../etc' }, /path must be letters, digits/],
      [{ path: 'a b' }, /path must be letters, digits/],
    ];
    for (const [options, message] of cases) {
      const error = await startPreviewApp({ listen: false, ...options }).catch((e: unknown) => e);
      expect(error, String(message)).toBeInstanceOf(MailerConfigurationError);
      expect((error as Error).message).toMatch(message);
    }
    const asOption = await Test.createTestingModule({
      imports: [
        MailerModule.forRoot({ transport: 'memory://' }),
        MailerPreviewModule.forRootAsync({ useFactory: () => ({ enabled: true, path: 'x' }) as never }),
      ],
    }).compile().catch((e: unknown) => e);
    expect((asOption as Error).message).toContain('"path" is a module extra');
  });

  it('needs a MailerModule', async () => {
    @Injectable()
    class Nothing {}
    @Module({ providers: [Nothing] })
    class Empty {}
    const moduleRef = await Test.createTestingModule({ imports: [Empty, MailerPreviewModule.forRoot({ enabled: true })] }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await expect(app.init()).rejects.toThrow('MailerPreviewModule needs a MailerModule');
    await app.close();
  });
});
