import 'reflect-metadata';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Controller, HttpCode, Module, Post, type INestApplication } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import i18next from 'i18next';
import { AcceptLanguageResolver, I18nModule } from 'nestjs-i18n';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import {
  InvalidMailError,
  MailerConfigurationError,
  MailerModule,
  MailerService,
  TemplateRenderError,
  type MailerModuleOptions,
} from '../../lib/index.js';
import { importPeer } from '../../lib/nest/mail-locale.js';
import { Mailbox, MailerTestingModule } from '../../lib/testing/index.js';
import { onCleanup, smtpSink as sink } from '../support/cleanup.js';
import { parseHtml } from '../support/html-document.js';

async function folderWith(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mailroom-localized-'));
  onCleanup(() => rm(dir, { recursive: true, force: true }));
  for (const [name, source] of Object.entries(files)) {
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), source);
  }
  return dir;
}

const TEMPLATES = {
  'layouts/main.hbs': '<!doctype html>\n<html lang="{{@locale}}" dir="{{@dir}}"><head><meta charset="utf-8"></head><body>{{{body}}}</body></html>',
  'receipt.hbs': '<p>Thanks, {{name}}. Total: {{currency total "EUR"}}</p>',
  'receipt.fr.hbs': '<p>Merci, {{name}}. Total : {{currency total "EUR"}}</p>',
  'receipt.subject.hbs': 'Your receipt',
  'receipt.fr-CA.subject.hbs': 'Votre reçu (Canada)',
  'receipt.fr.subject.hbs': 'Votre reçu',
  'receipt.ar.hbs': '<p>شكرا يا {{name}}</p>',
  'greeting.hbs': '<p>{{t "greeting.hello" name=name}}</p>',
  'greeting.subject.hbs': '{{t "greeting.subject"}}',
};

async function boot(options: MailerModuleOptions, imports: unknown[] = []): Promise<TestingModule> {
  const moduleRef = await Test.createTestingModule({ imports: [MailerModule.forRoot(options), ...imports] as never[] }).compile();
  moduleRef.useLogger(false);
  await moduleRef.init();
  onCleanup(() => moduleRef.close());
  return moduleRef;
}

function paragraph(html: unknown): string {
  const p = parseHtml(String(html)).elements('p')[0];
  return p ? p.children.map((c) => ('data' in c ? String(c.data) : '')).join('') : '';
}

function rootOf(html: unknown): Record<string, string> {
  return parseHtml(String(html)).elements('html')[0]?.attribs ?? {};
}

describe('localized mail over real SMTP', () => {
  it('sends each mail in its own locale: fr_CA, fr-BE and an unknown locale fall back along their chains', async () => {
    const s = await sink();
    const app = await boot({ transport: `${s.url}?tlsMode=none`, defaults: { from: 'shop@example.com' }, templates: { dir: await folderWith(TEMPLATES) } });
    const mailer = app.get(MailerService);
    const sent: Array<string | undefined> = [];
    mailer.events$.subscribe((event) => {
      if (event.type === 'mail.sent') sent.push(event.mail.locale);
    });
    await mailer.send({ to: 'zoe@example.ca', template: 'receipt', context: { name: 'Zoé', total: 1234.5 }, locale: 'fr_CA' });
    await mailer.send({ to: 'lea@example.be', template: 'receipt', context: { name: 'Léa', total: 1234.5 }, locale: 'fr-BE' });
    await mailer.send({ to: 'ken@example.jp', template: 'receipt', context: { name: 'Ken', total: 1234.5 }, locale: 'ja' });
    const [canada, belgium, japan] = await s.waitFor(3);

    expect(canada!.parsed.subject).toBe('Votre reçu (Canada)');
    expect(paragraph(canada!.parsed.html)).toBe(`Merci, Zoé. Total : ${new Intl.NumberFormat('fr-CA', { style: 'currency', currency: 'EUR' }).format(1234.5)}`);
    expect(rootOf(canada!.parsed.html)).toMatchObject({ lang: 'fr-CA', dir: 'ltr' });
    expect(canada!.parsed.text).toContain('Merci, Zoé.');

    expect(belgium!.parsed.subject).toBe('Votre reçu');
    expect(paragraph(belgium!.parsed.html)).toContain(new Intl.NumberFormat('fr-BE', { style: 'currency', currency: 'EUR' }).format(1234.5));

    expect(japan!.parsed.subject).toBe('Your receipt');
    expect(paragraph(japan!.parsed.html)).toBe(`Thanks, Ken. Total: ${new Intl.NumberFormat('ja', { style: 'currency', currency: 'EUR' }).format(1234.5)}`);
    expect(sent).toEqual(['fr-CA', 'fr-BE', 'ja']);
  });

  it('sends right-to-left mail with dir="rtl" on the layout', async () => {
    const s = await sink();
    const app = await boot({ transport: `${s.url}?tlsMode=none`, defaults: { from: 'shop@example.com' }, templates: { dir: await folderWith(TEMPLATES) } });
    await app.get(MailerService).send({ to: 'layla@example.eg', template: 'receipt', context: { name: 'ليلى', total: 1 }, locale: 'ar-EG' });
    const [mail] = await s.waitFor(1);
    expect(rootOf(mail!.parsed.html)).toMatchObject({ lang: 'ar-EG', dir: 'rtl' });
    expect(paragraph(mail!.parsed.html)).toBe('شكرا يا ليلى');
  });

  it('refuses a locale that is not a tag with InvalidMailError, and sends nothing', async () => {
    const s = await sink();
    const app = await boot({ transport: `${s.url}?tlsMode=none`, defaults: { from: 'shop@example.com' }, templates: { dir: await folderWith(TEMPLATES) } });
    const error = await app.get(MailerService).send({ to: 'a@example.com', template: 'receipt', context: { name: 'A', total: 1 }, locale: 'fr-CA, fr;q=0.9' })
      .then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidMailError);
    expect((error as InvalidMailError).field).toBe('locale');
    expect(s.received).toHaveLength(0);
  });
});

describe('the locale option', () => {
  it('resolves the locale of a mail that names none, then uses the default', async () => {
    const dir = await folderWith(TEMPLATES);
    const app = await boot({
      transport: 'memory://',
      defaults: { from: 'shop@example.com' },
      templates: { dir },
      locale: { default: 'fr_FR', resolve: (mail) => (String(mail.to).endsWith('.ca') ? 'fr-CA' : undefined) },
      suppression: false,
    }, [MailerTestingModule]);
    const mailer = app.get(MailerService);
    const mailbox = app.get(Mailbox);
    await mailer.send({ to: 'zoe@example.ca', template: 'receipt', context: { name: 'Zoé', total: 2 } });
    await mailer.send({ to: 'jean@example.fr', template: 'receipt', context: { name: 'Jean', total: 2 } });
    await mailer.send({ to: 'ada@example.org', template: 'receipt', context: { name: 'Ada', total: 2 }, locale: 'en' });
    mailbox.expectSent({ to: 'zoe@example.ca', locale: 'fr-CA', subject: 'Votre reçu (Canada)' });
    mailbox.expectSent({ to: 'jean@example.fr', locale: 'fr_fr', subject: 'Votre reçu' });
    mailbox.expectSent({ to: 'ada@example.org', locale: 'en', subject: 'Your receipt' });
    expect(() => mailbox.expectSent({ to: 'zoe@example.ca', locale: 'fr' })).toThrow();
    // render() uses the default locale too
    expect((await mailer.render('receipt', { name: 'X', total: 1 })).subject).toBe('Votre reçu');
  });

  it('refuses a resolver\'s locale that is not a tag, naming the resolver', async () => {
    const app = await boot({ transport: 'memory://', defaults: { from: 'shop@example.com' }, templates: { dir: await folderWith(TEMPLATES) }, locale: { resolve: () => 'French' } });
    await expect(app.get(MailerService).send({ to: 'a@example.com', template: 'receipt', context: { name: 'A', total: 1 } }))
      .rejects.toThrow(/locale \(from locale\.resolve\): "French" is not a BCP 47 language tag/);
  });

  it('stops start-up on a default that is not a tag, an unknown key or unknown translations', async () => {
    const dir = await folderWith(TEMPLATES);
    const cases: Array<[MailerModuleOptions['locale'], RegExp]> = [
      [{ default: 'english!' }, /locale\.default "english!" is not a BCP 47 language tag/],
      [{ defualt: 'en' } as never, /locale: unknown option "defualt"\. Did you mean "default"\?/],
      [{ translations: 'i18n' as never }, /locale\.translations must be 'nestjs-i18n', 'i18next', an i18next instance or a function/],
    ];
    for (const [locale, message] of cases) {
      const error = await boot({ transport: 'memory://', templates: { dir }, locale }).then(() => undefined, (e: unknown) => e);
      expect(error, String(message)).toBeInstanceOf(MailerConfigurationError);
      expect((error as Error).message).toMatch(message);
    }
  });

  it('keeps the locale through sendMail(), the call shape of @nestjs-modules/mailer', async () => {
    const app = await boot({ transport: 'memory://', defaults: { from: 'shop@example.com' }, templates: { dir: await folderWith(TEMPLATES) } }, [MailerTestingModule]);
    await app.get(MailerService).sendMail({ to: 'a@example.com', template: './receipt', context: { name: 'A', total: 1 }, locale: 'fr' });
    app.get(Mailbox).expectSent({ locale: 'fr', subject: 'Votre reçu' });
  });
});

describe('translations for {{t}}', () => {
  const resources = {
    en: { translation: { greeting: { hello: 'Hello {{name}}', subject: 'Welcome' } } },
    fr: { translation: { greeting: { hello: 'Bonjour {{name}}', subject: 'Bienvenue' } } },
  };

  it('bridges to an i18next instance, with the mail\'s locale and values escaped once', async () => {
    const i18n = i18next.createInstance();
    await i18n.init({ resources, fallbackLng: 'en', initImmediate: false } as never);
    const app = await boot({ transport: 'memory://', defaults: { from: 'shop@example.com' }, templates: { dir: await folderWith(TEMPLATES) }, locale: { translations: i18n } }, [MailerTestingModule]);
    await app.get(MailerService).send({ to: 'a@example.com', template: 'greeting', context: { name: 'Zoé & <Léa>' }, locale: 'fr-CA' });
    const mail = app.get(Mailbox).expectSent({ locale: 'fr-CA', subject: 'Bienvenue' });
    expect(mail.html).toContain('Bonjour Zoé &amp; &lt;Léa&gt;');
  });

  it("uses i18next's default instance with 'i18next'", async () => {
    await i18next.init({ resources, fallbackLng: 'en', initImmediate: false } as never);
    const app = await boot({ transport: 'memory://', defaults: { from: 'shop@example.com' }, templates: { dir: await folderWith(TEMPLATES) }, locale: { translations: 'i18next' } }, [MailerTestingModule]);
    await app.get(MailerService).send({ to: 'a@example.com', template: 'greeting', context: { name: 'Ada' }, locale: 'en' });
    expect(app.get(Mailbox).expectSent({ subject: 'Welcome' }).html).toContain('Hello Ada');
  });

  it('fails the send in strict mode on a missing translation, and sends nothing', async () => {
    const i18n = i18next.createInstance();
    await i18n.init({ resources: { en: { translation: { greeting: { hello: 'Hello {{name}}' } } } }, fallbackLng: 'en', initImmediate: false } as never);
    const app = await boot({
      transport: 'memory://', defaults: { from: 'shop@example.com' },
      templates: { dir: await folderWith(TEMPLATES), strict: true }, locale: { translations: i18n },
    }, [MailerTestingModule]);
    const error = await app.get(MailerService).send({ to: 'a@example.com', template: 'greeting', context: { name: 'Ada' }, locale: 'de' })
      .then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(TemplateRenderError);
    expect((error as Error).message).toBe('Template "greeting" could not be rendered: missing translation "greeting.subject" for locale de');
    expect(app.get(Mailbox).mails).toHaveLength(0);
  });

  it('bridges to nestjs-i18n: its translations, and the locale of the request for mails that name none', async () => {
    const i18nDir = await folderWith({
      'en/greeting.json': JSON.stringify({ hello: 'Hello {name}', subject: 'Welcome' }),
      'fr/greeting.json': JSON.stringify({ hello: 'Bonjour {name}', subject: 'Bienvenue' }),
      'de/greeting.json': JSON.stringify({ hello: 'Hallo {name}', subject: 'Willkommen' }),
    });

    @Controller('welcome')
    class WelcomeController {
      constructor(private readonly mailer: MailerService) {}

      @Post()
      @HttpCode(202)
      async send(): Promise<void> {
        await this.mailer.send({ to: 'ada@example.org', template: 'greeting', context: { name: 'Ada' } });
      }

      @Post('de')
      @HttpCode(202)
      async sendGerman(): Promise<void> {
        await this.mailer.send({ to: 'max@example.de', template: 'greeting', context: { name: 'Max' }, locale: 'de' });
      }
    }

    @Module({
      imports: [
        I18nModule.forRoot({ fallbackLanguage: 'en', loaderOptions: { path: i18nDir, watch: false }, resolvers: [AcceptLanguageResolver], logging: false }),
        MailerModule.forRoot({ transport: 'memory://', defaults: { from: 'shop@example.com' }, templates: { dir: await folderWith(TEMPLATES) }, locale: { translations: 'nestjs-i18n' } }),
        MailerTestingModule,
      ],
      controllers: [WelcomeController],
    })
    class AppModule {}

    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    const app: INestApplication = moduleRef.createNestApplication({ logger: false });
    await app.init();
    onCleanup(() => app.close());
    const mailbox = app.get(Mailbox);

    await request(app.getHttpServer()).post('/welcome').set('Accept-Language', 'fr-FR,fr;q=0.9').expect(202);
    await request(app.getHttpServer()).post('/welcome/de').set('Accept-Language', 'fr').expect(202);
    await request(app.getHttpServer()).post('/welcome').expect(202);
    expect(mailbox.mails.map((m) => [m.locale, m.subject, paragraph(m.html)])).toEqual([
      ['fr', 'Bienvenue', 'Bonjour Ada'],
      ['de', 'Willkommen', 'Hallo Max'],
      ['en', 'Welcome', 'Hello Ada'],
    ]);
  });

  it("says that 'nestjs-i18n' needs an I18nModule in the application", async () => {
    const error = await boot({ transport: 'memory://', templates: { dir: await folderWith(TEMPLATES) }, locale: { translations: 'nestjs-i18n' } })
      .then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(MailerConfigurationError);
    expect((error as Error).message).toMatch(/no I18nService was found: import I18nModule\.forRoot/);
  });

  it('names the install command when an optional peer is missing', async () => {
    const error = await importPeer('nestjs-mailroom-absent-peer', "locale.translations: 'i18next'").then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(MailerConfigurationError);
    expect((error as Error).message).toBe("MailerModule: locale.translations: 'i18next' needs the nestjs-mailroom-absent-peer package: run `npm install nestjs-mailroom-absent-peer`.");
  });
});
