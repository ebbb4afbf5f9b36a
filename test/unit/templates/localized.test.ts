import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  InvalidMailError,
  MailerConfigurationError,
  TemplateNotFoundError,
  TemplateRenderError,
  TemplateSyntaxError,
} from '../../../lib/errors/mailer.error.js';
import { HandlebarsRenderer, type HandlebarsTemplateOptions } from '../../../lib/templates/index.js';
import { fileLocale, localeChain, normalizeLocale, textDirection } from '../../../lib/templates/locale.js';
import { parseHtml } from '../../support/html-document.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function folderWith(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mailroom-locale-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  for (const [name, source] of Object.entries(files)) {
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), source);
  }
  return dir;
}

async function renderer(files: Record<string, string>, options: Partial<HandlebarsTemplateOptions> = {}): Promise<HandlebarsRenderer> {
  const made = new HandlebarsRenderer({ dir: await folderWith(files), ...options });
  await made.init();
  cleanups.push(() => made.close());
  return made;
}

const LAYOUT = `<!doctype html>
<html lang="{{@locale}}" dir="{{@dir}}">
<head><meta charset="utf-8"><style>p { color: #333333; }</style></head>
<body>{{{body}}}</body>
</html>`;

const RECEIPT = {
  'layouts/main.hbs': LAYOUT,
  'receipt.hbs': '<p>Thanks for your order, {{name}}.</p>',
  'receipt.fr.hbs': '<p>Merci pour votre commande, {{name}}.</p>',
  'receipt.fr-CA.hbs': '<p>Merci pour votre achat, {{name}}.</p>',
  'receipt.subject.hbs': 'Your receipt',
  'receipt.fr.subject.hbs': 'Votre reçu',
};

function htmlOf(html: string | undefined): { lang: string | undefined; dir: string | undefined; text: string } {
  const doc = parseHtml(html ?? '');
  const root = doc.elements('html')[0];
  const p = doc.elements('p')[0];
  const text = p ? p.children.map((child) => ('data' in child ? String(child.data) : '')).join('') : '';
  return { lang: root?.attribs.lang, dir: root?.attribs.dir, text };
}

describe('locale tags', () => {
  it('normalizes the spellings people write to BCP 47 and refuses what is no tag', () => {
    expect(normalizeLocale('fr_CA')).toBe('fr-CA');
    expect(normalizeLocale('fr-ca')).toBe('fr-CA');
    expect(normalizeLocale('ZH-hant-tw')).toBe('zh-Hant-TW');
    expect(normalizeLocale(' en ')).toBe('en');
    for (const bad of ['', 'x', 'fr CA', 'fr--CA', '../fr', 'en;q=0.9', 'fr-CA, fr', 'français', 'French', 'english']) expect(normalizeLocale(bad)).toBeUndefined();
  });

  it('looks a tag up from the most specific form to the language', () => {
    expect(localeChain('fr-CA')).toEqual(['fr-CA', 'fr']);
    expect(localeChain('zh-Hant-TW')).toEqual(['zh-Hant-TW', 'zh-Hant', 'zh']);
    expect(localeChain('ar-EG-u-nu-latn')).toEqual(['ar-EG', 'ar']);
  });

  it('knows which languages are written right to left', () => {
    for (const rtl of ['ar', 'ar-EG', 'he', 'he-IL', 'fa', 'ur', 'yi', 'ps', 'ckb', 'dv']) expect(textDirection(rtl), rtl).toBe('rtl');
    for (const ltr of ['en', 'fr-CA', 'tr', 'az-Latn', 'zh-Hant', 'ru']) expect(textDirection(ltr), ltr).toBe('ltr');
  });

  it('reads a file suffix as a locale only when it is a language code, so other dotted names stay templates', () => {
    expect(fileLocale('fr')).toBe('fr');
    expect(fileLocale('fr-CA')).toBe('fr-CA');
    expect(fileLocale('fr_CA')).toBe('fr-CA');
    expect(fileLocale('pt-BR')).toBe('pt-BR');
    for (const word of ['pdf', 'bak', 'v2', 'old', 'summary', 'txt', 'eng', 'und']) expect(fileLocale(word), word).toBeUndefined();
  });
});

describe('HandlebarsRenderer: localized templates', () => {
  it('picks receipt.fr-CA, then receipt.fr, then receipt for the HTML, and the subject along its own chain', async () => {
    const r = await renderer(RECEIPT);
    const canada = r.render('receipt', { name: 'Zoé' }, { locale: 'fr-CA' });
    expect(htmlOf(canada.html).text).toBe('Merci pour votre achat, Zoé.');
    expect(canada.subject).toBe('Votre reçu');

    const france = r.render('receipt', { name: 'Zoé' }, { locale: 'fr-FR' });
    expect(htmlOf(france.html).text).toBe('Merci pour votre commande, Zoé.');
    expect(france.subject).toBe('Votre reçu');

    const german = r.render('receipt', { name: 'Zoé' }, { locale: 'de' });
    expect(htmlOf(german.html).text).toBe('Thanks for your order, Zoé.');
    expect(german.subject).toBe('Your receipt');

    const none = r.render('receipt', { name: 'Zoé' });
    expect(htmlOf(none.html).text).toBe('Thanks for your order, Zoé.');
  });

  it('reads fr_CA and fr-ca as fr-CA, and refuses a locale that is not a tag with InvalidMailError', async () => {
    const r = await renderer(RECEIPT);
    for (const spelled of ['fr_CA', 'fr-ca', 'FR_ca']) {
      expect(htmlOf(r.render('receipt', { name: 'A' }, { locale: spelled }).html).text, spelled).toBe('Merci pour votre achat, A.');
    }
    expect(() => r.render('receipt', { name: 'A' }, { locale: 'fr CA' })).toThrow(InvalidMailError);
    expect(() => r.render('receipt', { name: 'A' }, { locale: 'en;q=0.8' })).toThrow(/is not a BCP 47 language tag/);
  });

  it('uses a localized subject with the base HTML when only the subject is translated', async () => {
    const r = await renderer({ 'welcome.hbs': '<p>Hello {{name}}</p>', 'welcome.fr.subject.hbs': 'Bienvenue {{name}}' });
    const mail = r.render('welcome', { name: 'Ada' }, { locale: 'fr-BE' });
    expect(mail.subject).toBe('Bienvenue Ada');
    expect(mail.html).toContain('Hello Ada');
    expect(r.render('welcome', { name: 'Ada' }, { locale: 'en' }).subject).toBeUndefined();
  });

  it('lists templates by their base name and each template\'s locales', async () => {
    const r = await renderer({ ...RECEIPT, 'invoice.pdf.hbs': '<p>not a locale</p>' });
    expect(r.templateNames()).toEqual(['invoice.pdf', 'receipt']);
    expect(r.locales('receipt')).toEqual(['fr', 'fr-CA']);
    expect(r.locales('invoice.pdf')).toEqual([]);
  });

  it('derives the text part from the localized HTML rather than use a text template in another language', async () => {
    const r = await renderer({
      'notice.hbs': '<p>Your parcel is on its way.</p>',
      'notice.text.hbs': 'Your parcel is on its way (text).',
      'notice.fr.hbs': '<p>Votre colis est en route.</p>',
      'notice.de.hbs': '<p>Ihr Paket ist unterwegs.</p>',
      'notice.de.text.hbs': 'Ihr Paket ist unterwegs (Text).',
    });
    expect(r.render('notice', {}, { locale: 'fr' }).text).toBe('Votre colis est en route.');
    expect(r.render('notice', {}, { locale: 'de-AT' }).text).toBe('Ihr Paket ist unterwegs (Text).');
    expect(r.render('notice', {}, { locale: 'es' }).text).toBe('Your parcel is on its way (text).');
    expect(r.inlineMode('notice', { locale: 'fr' }).text).toBe('compiled');
  });

  it('falls back to the base template for an unknown locale, and names the locales when a template has no base', async () => {
    const r = await renderer({ ...RECEIPT, 'promo.fr.hbs': '<p>Soldes</p>', 'promo.de.hbs': '<p>Rabatt</p>' });
    expect(htmlOf(r.render('receipt', { name: 'A' }, { locale: 'ja' }).html).text).toBe('Thanks for your order, A.');
    expect(r.render('promo', {}, { locale: 'fr-CH' }).html).toContain('Soldes');
    const missing = (() => {
      try {
        r.render('promo', {}, { locale: 'es' });
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    expect(missing).toBeInstanceOf(TemplateNotFoundError);
    expect((missing as Error).message).toBe('Template "promo.es" does not exist (known: promo.de, promo.fr).');
  });

  it('compiles every localized file at start-up: a syntax error in one stops init() and names its file', async () => {
    const dir = await folderWith({ 'receipt.hbs': '<p>ok</p>', 'receipt.fr.hbs': '<p>{{#if}}</p>' });
    const made = new HandlebarsRenderer({ dir });
    const error = await made.init().then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(TemplateSyntaxError);
    expect((error as TemplateSyntaxError).file).toBe(join(dir, 'receipt.fr.hbs'));
  });

  it('refuses two files that are the same part in the same locale', async () => {
    const dir = await folderWith({ 'receipt.hbs': '<p>ok</p>', 'receipt.fr-CA.hbs': '<p>a</p>', 'receipt.fr_CA.hbs': '<p>b</p>' });
    const error = await new HandlebarsRenderer({ dir }).init().then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(MailerConfigurationError);
    expect((error as Error).message).toMatch(/receipt\.fr-CA\.hbs and .*receipt\.fr_CA\.hbs are both the HTML of "receipt" in locale fr-CA/);
  });

  it('inlines the stylesheet of every locale at start-up, with @locale and @dir in the layout', async () => {
    const r = await renderer(RECEIPT);
    for (const locale of [undefined, 'fr', 'fr-CA', 'ar']) expect(r.inlineMode('receipt', { locale }).css, locale).toBe('compiled');
    const html = r.render('receipt', { name: 'A' }, { locale: 'fr-CA' }).html!;
    expect(parseHtml(html).inlineStyle(parseHtml(html).elements('p')[0]!)).toMatchObject({ color: '#333333' });
  });
});

describe('HandlebarsRenderer: right-to-left mail', () => {
  const files = {
    ...RECEIPT,
    'receipt.ar.hbs': '<p>شكرا لطلبك يا {{name}}، المجموع {{currency total "EGP"}}.</p>',
    'receipt.ar.subject.hbs': 'إيصالك',
    'receipt.he.hbs': '<p>תודה על ההזמנה, {{name}}. נשלח ב־{{date sentAt dateStyle="long"}}.</p>',
  };

  it('sets dir="rtl" and lang on the layout for Arabic, with amounts in Arabic digits for ar-EG', async () => {
    const r = await renderer(files);
    const mail = r.render('receipt', { name: 'ليلى', total: 1234.5 }, { locale: 'ar-EG' });
    const html = htmlOf(mail.html);
    expect(html.lang).toBe('ar-EG');
    expect(html.dir).toBe('rtl');
    expect(html.text).toContain('شكرا لطلبك يا ليلى');
    const amount = new Intl.NumberFormat('ar-EG', { style: 'currency', currency: 'EGP' }).format(1234.5);
    expect(amount).toMatch(/[\u0660-\u0669]/);
    expect(html.text).toContain(amount);
    expect(mail.subject).toBe('إيصالك');
    expect(mail.text).toContain('شكرا لطلبك يا ليلى');
  });

  it('sets dir="rtl" for Hebrew, with the date written in Hebrew', async () => {
    const r = await renderer(files);
    const html = htmlOf(r.render('receipt', { name: 'נועה', sentAt: new Date('2026-03-05T10:00:00Z') }, { locale: 'he-IL' }).html);
    expect(html).toMatchObject({ lang: 'he-IL', dir: 'rtl' });
    expect(html.text).toContain('במרץ 2026');
  });

  it('keeps dir="ltr" for left-to-right locales and an empty lang without a locale', async () => {
    const r = await renderer(files);
    expect(htmlOf(r.render('receipt', { name: 'A' }, { locale: 'fr-CA' }).html)).toMatchObject({ lang: 'fr-CA', dir: 'ltr' });
    expect(htmlOf(r.render('receipt', { name: 'A' }).html)).toMatchObject({ lang: '', dir: 'ltr' });
  });
});

describe('HandlebarsRenderer: Intl helpers for the mail\'s locale', () => {
  const files = {
    'order.hbs': [
      '<p id="n">{{number count}}</p>',
      '<p id="c">{{currency total "EUR"}}</p>',
      '<p id="c2">{{currency total currency=code}}</p>',
      '<p id="p">{{number ratio style="percent"}}</p>',
      '<p id="d">{{date placed}}</p>',
      '<p id="l">{{list names}}</p>',
      '<p id="o">{{list names type="disjunction"}}</p>',
      '<p id="q">{{plural items one="# article" other="# articles"}}</p>',
    ].join('\n'),
  };
  const context = { count: 1234567.891, total: 1234.5, code: 'JPY', ratio: 0.256, placed: '2026-01-31T23:30:00Z', names: ['Ada', 'Grace', 'Alan'], items: 1 };

  function fields(html: string): Record<string, string> {
    const doc = parseHtml(html);
    return Object.fromEntries(doc.elements('p').map((p) => [p.attribs.id!, p.children.map((c) => ('data' in c ? String(c.data) : '')).join('')]));
  }

  it('formats numbers, money, dates, lists and plurals for the locale of the render, not the server', async () => {
    const r = await renderer(files);
    const fr = fields(r.render('order', context, { locale: 'fr-FR' }).html!);
    const nf = (locale: string, options?: Intl.NumberFormatOptions) => new Intl.NumberFormat(locale, options);
    expect(fr).toEqual({
      n: nf('fr-FR').format(1234567.891),
      c: nf('fr-FR', { style: 'currency', currency: 'EUR' }).format(1234.5),
      c2: nf('fr-FR', { style: 'currency', currency: 'JPY' }).format(1234.5),
      p: nf('fr-FR', { style: 'percent' }).format(0.256),
      d: new Intl.DateTimeFormat('fr-FR', { dateStyle: 'medium', timeZone: 'UTC' }).format(new Date('2026-01-31T23:30:00Z')),
      l: 'Ada, Grace et Alan',
      o: 'Ada, Grace ou Alan',
      q: '1 article',
    });
    expect(fr.c).toMatch(/^1\s234,50\s€$/);
    const en = fields(r.render('order', { ...context, items: 3 }, { locale: 'en-US' }).html!);
    expect(en).toMatchObject({ c: '€1,234.50', l: 'Ada, Grace, and Alan', q: '3 articles', d: 'Jan 31, 2026' });
    // without a locale the helpers format for "en", whatever the server's own locale is
    expect(fields(r.render('order', context).html!).c).toBe('€1,234.50');
  });

  it('chooses the plural form of the language: Arabic has few and many', async () => {
    const r = await renderer({ 'n.hbs': '<p>{{plural n one="واحد" two="اثنان" few="# قليلة" many="# كثيرة" other="# أخرى"}}</p>' });
    const say = (n: number) => r.render('n', { n }, { locale: 'ar' }).html!;
    expect(say(1)).toContain('واحد');
    expect(say(2)).toContain('اثنان');
    expect(say(3)).toContain(`${new Intl.NumberFormat('ar').format(3)} قليلة`);
    expect(say(11)).toContain(`${new Intl.NumberFormat('ar').format(11)} كثيرة`);
  });

  it('uses the time zone option, and a call\'s own', async () => {
    const r = await renderer({ 't.hbs': '<p>{{date at timeStyle="short"}} | {{date at timeStyle="short" timeZone="Asia/Tokyo"}}</p>' }, { timeZone: 'America/New_York' });
    expect(r.render('t', { at: new Date('2026-01-01T12:00:00Z') }, { locale: 'en-GB' }).html).toContain('07:00 | 21:00');
  });

  it('still prints a context value named like a helper when it is written alone', async () => {
    const r = await renderer({ 'legacy.hbs': '<p>Order {{number}} of {{date}}: {{list}}</p>' });
    expect(r.render('legacy', { number: 'A-17', date: 'today', list: 'lamps' }).html).toContain('Order A-17 of today: lamps');
  });

  it('fails a render in strict mode when a helper gets no value, and prints nothing otherwise', async () => {
    const lenient = await renderer({ 'm.hbs': '<p>[{{currency total "EUR"}}]</p>' });
    expect(lenient.render('m', {}).html).toContain('[]');
    const strict = await renderer({ 'm.hbs': '<p>[{{currency total "EUR"}}]</p>' }, { strict: true });
    expect(() => strict.render('m', {})).toThrow(TemplateRenderError);
    expect(() => strict.render('m', {})).toThrow(/\{\{currency\}\} was given no value/);
  });

  it('refuses a bad time zone at start-up', () => {
    expect(() => new HandlebarsRenderer({ dir: '.', timeZone: 'Mars/Olympus' })).toThrow(MailerConfigurationError);
  });
});

describe('HandlebarsRenderer: the t helper', () => {
  const files = {
    'layouts/main.hbs': LAYOUT,
    'hello.hbs': '<p>{{t "hello" name=name}}</p>',
    'hello.subject.hbs': '{{t "hello.subject"}}',
  };
  const table: Record<string, Record<string, string>> = {
    fr: { hello: 'Bonjour {name} & bienvenue', 'hello.subject': 'Bienvenue' },
    en: { hello: 'Hello {name}' },
  };
  const translate = (locale: string) => (key: string, values: Record<string, unknown>) => {
    const text = table[locale]?.[key];
    return text?.replace(/\{(\w+)\}/g, (_m, name: string) => String(values[name]));
  };

  it('prints the translation for the mail\'s locale, escaped like any value', async () => {
    const r = await renderer(files);
    const mail = r.render('hello', { name: '<Zoé>' }, { locale: 'fr', translate: translate('fr') });
    expect(mail.html).toContain('>Bonjour &lt;Zoé&gt; &amp; bienvenue</p>');
    expect(mail.subject).toBe('Bienvenue');
  });

  it('prints the key of a missing translation, and fails the render in strict mode', async () => {
    const lenient = await renderer(files);
    expect(lenient.render('hello', { name: 'A' }, { locale: 'en', translate: translate('en') }).subject).toBe('hello.subject');
    const strict = await renderer(files, { strict: true });
    const error = (() => {
      try {
        strict.render('hello', { name: 'A' }, { locale: 'en', translate: translate('en') });
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(TemplateRenderError);
    expect(error!.message).toBe('Template "hello" could not be rendered: missing translation "hello.subject" for locale en');
  });

  it('says how to configure translations when a template uses t without any', async () => {
    const r = await renderer(files);
    expect(() => r.render('hello', { name: 'A' }, { locale: 'fr' })).toThrow(/\{\{t "hello.subject"\}\} needs translations: set locale\.translations/);
  });
});
