import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Test, type TestingModule } from '@nestjs/testing';
import { describe, expect, it } from 'vitest';
import { FunctionRenderer } from '../../docs/examples/function.renderer.js';
import { ReactEmailRenderer } from '../../docs/examples/react-email.renderer.js';
import { shipped } from '../../docs/examples/shipped.mail.js';
import { welcome } from '../../docs/examples/welcome.template.js';
import { MailerModule, MailerService, TemplateNotFoundError, type MailerModuleOptions, type TemplateRenderer } from '../../lib/index.js';
import { onCleanup, smtpSink as sink } from '../support/cleanup.js';
import { parseHtml } from '../support/html-document.js';

// The renderers of the README's "Your own template engine", run as the README shows them.

const EXAMPLES = fileURLToPath(new URL('../../docs/examples/', import.meta.url));
const LOGO = Buffer.from('89504e470d0a1a0a', 'hex');

async function boot(renderer: TemplateRenderer, url: string): Promise<TestingModule> {
  const options: MailerModuleOptions = { transport: `${url}?tlsMode=none`, defaults: { from: 'Lumen <shop@example.com>' }, templates: { renderer } };
  const moduleRef = await Test.createTestingModule({ imports: [MailerModule.forRoot(options)] }).compile();
  moduleRef.useLogger(false);
  await moduleRef.init();
  onCleanup(() => moduleRef.close());
  return moduleRef;
}

describe('a function renderer (README example)', () => {
  it('renders per send in the mail\'s locale, with a subject of the mail winning and inline images attached', async () => {
    const s = await sink();
    const mailer = (await boot(new FunctionRenderer({ welcome }), s.url)).get(MailerService);
    const logo = { filename: 'logo.png', content: LOGO, cid: 'logo', contentType: 'image/png' };
    await mailer.send({ to: 'zoe@example.ca', template: 'welcome', context: { name: 'Zoé <Z>' }, locale: 'fr_CA', attachments: [logo] });
    await mailer.send({ to: 'ada@example.org', template: 'welcome', context: { name: 'Ada' }, subject: 'Hello from Lumen', attachments: [logo] });
    const [french, english] = await s.waitFor(2);

    expect(french!.parsed.subject).toBe('Bienvenue, Zoé <Z> !');
    expect(french!.parsed.text?.trim()).toBe('Bienvenue, Zoé <Z> !');
    const doc = parseHtml(String(french!.parsed.html));
    expect(doc.elements('html')[0]!.attribs.lang).toBe('fr-CA');
    expect(String(french!.parsed.html)).toContain('<h1>Bienvenue, Zoé &#60;Z&#62; !</h1>');
    expect(french!.parsed.attachments.map((a) => [a.filename, a.cid])).toEqual([['logo.png', 'logo']]);

    expect(english!.parsed.subject).toBe('Hello from Lumen');
    expect(english!.parsed.text?.trim()).toBe('Welcome, Ada!');
  });

  it('refuses an unknown template before anything is sent, naming the known ones', async () => {
    const s = await sink();
    const mailer = (await boot(new FunctionRenderer({ welcome }), s.url)).get(MailerService);
    const error = await mailer.send({ to: 'a@example.com', template: 'welcom' }).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(TemplateNotFoundError);
    expect((error as Error).message).toBe('Template "welcom" does not exist (known: welcome).');
    expect(s.received).toHaveLength(0);
  });
});

describe('a React Email renderer (README example)', () => {
  it('renders the component per send, asynchronously, to HTML and a text part, in the mail\'s locale', async () => {
    const s = await sink();
    const mailer = (await boot(new ReactEmailRenderer({ shipped }), s.url)).get(MailerService);
    await mailer.send({
      to: 'zoe@example.ca',
      template: 'shipped',
      context: { name: 'Zoé', orderId: '1003', total: 108, currency: 'CAD' },
      locale: 'fr-CA',
      attachments: [{ filename: 'logo.png', content: LOGO, cid: 'logo', contentType: 'image/png' }],
    });
    const [mail] = await s.waitFor(1);
    expect(mail!.parsed.subject).toBe('Order #1003 is on its way');
    const doc = parseHtml(String(mail!.parsed.html));
    expect(doc.elements('html')[0]!.attribs.lang).toBe('fr-CA');
    // mailparser puts the attached image that cid:logo names in its place
    expect(doc.elements('img')[0]!.attribs.src).toBe(`data:image/png;base64,${LOGO.toString('base64')}`);
    expect(doc.elements('a')[0]!.attribs.href).toBe('https://track.example/parcels/1003');
    const amount = new Intl.NumberFormat('fr-CA', { style: 'currency', currency: 'CAD' }).format(108);
    expect(String(mail!.parsed.html)).toContain(amount);
    const text = mail!.parsed.text!;
    expect(text).toContain('GOOD NEWS, ZOÉ');
    expect(text).toContain('Track your parcel https://track.example/parcels/1003');
    expect(text).toContain(amount);
    expect(text).not.toContain('<');
    expect(mail!.parsed.attachments.map((a) => a.cid)).toEqual(['logo']);

    // the mailer's own render() awaits an asynchronous renderer too
    expect((await mailer.render('shipped', { name: 'Ada', orderId: '1', total: 1, currency: 'EUR' })).subject).toBe('Order #1 is on its way');
  });
});

describe('the README', () => {
  const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');

  it.each(['function.renderer.ts', 'welcome.template.ts', 'react-email.renderer.tsx', 'shipped.mail.tsx'])('shows docs/examples/%s as it is tested here', (file) => {
    const code = readFileSync(`${EXAMPLES}${file}`, 'utf8').trim();
    expect(readme.includes(code), `README.md no longer shows docs/examples/${file} as it is`).toBe(true);
  });
});
