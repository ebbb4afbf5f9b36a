import 'reflect-metadata';
import { Test, type TestingModule } from '@nestjs/testing';
import { describe, expect, it } from 'vitest';
import { MailerModule, MailerService, type MailerModuleOptions } from '../../lib/index.js';
import { onCleanup, smtpSink as sink } from '../support/cleanup.js';
import { parseHtml } from '../support/html-document.js';
import {
  RESPONSIVE_TEMPLATES,
  expectResponsive,
  expectTextWithoutCss,
  newsletterContext,
  offerContext,
} from '../support/responsive-mail.js';

async function boot(options: MailerModuleOptions): Promise<TestingModule> {
  const moduleRef = await Test.createTestingModule({ imports: [MailerModule.forRoot(options)] }).compile();
  await moduleRef.init();
  onCleanup(() => moduleRef.close());
  return moduleRef;
}

describe('a responsive mail over real SMTP', () => {
  it('arrives with its plain rules inlined and its media queries, fonts and hover rules in one <style> in <head>', async () => {
    const s = await sink();
    const app = await boot({
      transport: `${s.url}?tlsMode=none`,
      defaults: { from: 'Lumen <news@example.com>' },
      templates: { dir: RESPONSIVE_TEMPLATES },
    });
    const mailer = app.get(MailerService);
    await mailer.send({ to: 'ada@example.org', template: 'newsletter', context: newsletterContext });
    await mailer.send({ to: 'ada@example.org', subject: 'Only today', template: 'offer', context: offerContext });
    const [newsletter, offer] = await s.waitFor(2);

    expect(newsletter!.parsed.subject).toBe('This week at Lumen');
    expectResponsive(String(newsletter!.parsed.html));
    expectTextWithoutCss(newsletter!.parsed.text);
    expect(newsletter!.parsed.text).toContain('Read more [https://shop.test/lamps]');
    expect(parseHtml(String(newsletter!.parsed.html)).withClass('hide-mobile')).toHaveLength(1);

    expectResponsive(String(offer!.parsed.html));
    expectTextWithoutCss(offer!.parsed.text);
    expect(offer!.parsed.text).toContain('-20% on lamps');
  });

  it('arrives without any <style> when keepAtRules and removeInlinedSelectors are off', async () => {
    const s = await sink();
    const app = await boot({
      transport: `${s.url}?tlsMode=none`,
      defaults: { from: 'news@example.com' },
      templates: { dir: RESPONSIVE_TEMPLATES, inlineCss: { keepAtRules: false, removeInlinedSelectors: false } },
    });
    await app.get(MailerService).send({ to: 'ada@example.org', template: 'newsletter', context: newsletterContext });
    const [mail] = await s.waitFor(1);
    const doc = parseHtml(String(mail!.parsed.html));
    expect(doc.styles()).toEqual([]);
    expect(doc.withClass('col')).toHaveLength(2);
    for (const column of doc.withClass('col')) expect(doc.inlineStyle(column)).toMatchObject({ width: '50%' });
  });
});
