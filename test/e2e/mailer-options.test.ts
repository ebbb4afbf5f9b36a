import 'reflect-metadata';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { EjsAdapter } from '@nestjs-modules/mailer/adapters/ejs.adapter';
import { MjmlAdapter } from '@nestjs-modules/mailer/adapters/mjml.adapter';
import { HandlebarsAdapter } from '@nestjs-modules/mailer/adapters/handlebars.adapter';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  MailerConfigurationError, MailerModule, MailerService, MailerWebhooksModule, MemoryTransport, TemplateRenderError,
  type MailerModuleOptions,
} from '../../lib/index.js';
import { MAILER_RUNTIME } from '../../lib/nest/mailer.tokens.js';
import type { MailerRuntime } from '../../lib/nest/mailer.runtime.js';
import { TokenBucketRateLimiter } from '../../lib/retry/rate-limiter.js';

const SECRET = 'Opt1onS3cretValue';

const contexts: INestApplicationContext[] = [];
afterEach(async () => {
  for (const c of contexts.splice(0)) await c.close();
});

async function boot(imports: unknown[]) {
  const moduleRef = await Test.createTestingModule({ imports: imports as never[] }).compile();
  await moduleRef.init();
  contexts.push(moduleRef);
  return moduleRef;
}

/** Start-up with these options, through forRoot and through a forRootAsync factory: both must refuse alike. */
async function startupErrors(options: unknown): Promise<string[]> {
  const messages: string[] = [];
  for (const module of [
    MailerModule.forRoot(options as MailerModuleOptions),
    MailerModule.forRootAsync({ useFactory: async () => options as MailerModuleOptions }),
  ]) {
    const error = await boot([module]).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(MailerConfigurationError);
    const message = (error as Error).message;
    expect(message).not.toContain(SECRET);
    messages.push(message);
  }
  expect(messages[1]).toBe(messages[0]);
  return messages;
}

describe('unknown keys stop start-up, with forRoot and inside a forRootAsync factory', () => {
  it.each([
    ['a top-level typo', { transport: 'memory://', default: { from: 'a@example.com' } }, /MailerModule: unknown option "default". Did you mean "defaults"\?/],
    ['a typo in defaults', { transport: 'memory://', defaults: { form: 'a@example.com' } }, /MailerModule: defaults: unknown option "form". Did you mean "from"\?/],
    ['a per-mail field in defaults', { transport: 'memory://', defaults: { bcc: 'audit@example.com' } }, /"bcc" is not a default here/],
    ['a typo in attachments', { transport: 'memory://', attachments: { allowFilepaths: true } }, /attachments: unknown option "allowFilepaths". Did you mean "allowFilePaths"\?/],
    ['a typo in templates', { transport: 'memory://', templates: { dir: 'x', partialDir: 'y' } }, /templates: unknown option "partialDir". Did you mean "partialsDir"\?/],
    ['a retry name from p-retry', { transport: 'memory://', retry: { retries: 3 } }, /retry: "retries" is written limit here/],
    ['a typo in a per-transport retry', { transport: 'memory://', retry: { transports: { default: { limt: 1 } } } }, /retry.transports.default: unknown option "limt". Did you mean "limit"\?/],
    ['a typo in backoff', { transport: 'memory://', retry: { backoff: { inital: 10 } } }, /backoff: unknown option "inital". Did you mean "initial"\?/],
    ['a typo in rateLimit', { transport: 'memory://', rateLimit: { perSecnd: 5 } }, /rateLimit: unknown option "perSecnd". Did you mean "perSecond"\?/],
    ['a typo in a per-transport rateLimit', { transport: 'memory://', rateLimit: { transports: { default: { brust: 2 } } } }, /rateLimit.transports.default: unknown option "brust". Did you mean "burst"\?/],
    ['a typo in suppression', { transport: 'memory://', suppression: { polcy: {} } }, /suppression: unknown option "polcy". Did you mean "policy"\?/],
    ['a typo in the suppression policy', { transport: 'memory://', suppression: { policy: { hardBounce: true } } }, /unknown option "hardBounce". Did you mean "hardBounces"\?/],
    ['a typo in the Redis store options', { transport: 'memory://', suppression: { redis: { url: 'redis://127.0.0.1:6379', prefix: 'x' } } }, /"prefix" is written keyPrefix here/],
    ['a Redis command timeout that is no duration', { transport: 'memory://', suppression: { redis: { url: 'redis://127.0.0.1:6379', commandTimeout: 0 } } }, /`commandTimeout` must be a whole number of milliseconds, 1 or more, got 0/],
    ['an unknown onUnavailable', { transport: 'memory://', suppression: { onUnavailable: 'drop' } }, /suppression.onUnavailable must be 'send' or 'fail', got "drop"/],
    ['a typo in the suppression circuit', { transport: 'memory://', suppression: { circuit: { timout: 500 } } }, /suppression.circuit: unknown option "timout". Did you mean "timeout"\?/],
    ['a circuit buffer of no entries', { transport: 'memory://', suppression: { circuit: { maxBuffered: 0 } } }, /suppression.circuit.maxBuffered must be a whole number, 1 or more, got 0/],
    ['probes spaced wider than their maximum', { transport: 'memory://', suppression: { circuit: { probeInterval: 5_000, maxProbeInterval: 1_000 } } }, /probeInterval must not be longer than maxProbeInterval/],
    ["nodemailer's SMTP shape with secure on 587", { transport: { host: 'smtp.example.com', port: 587, secure: true, auth: { user: 'u', pass: SECRET } } }, /transport "default".*secure: true.*port 587.*use port 465, or drop secure/],
    ['a mistyped SMTP key', { transports: { bulk: { host: 'smtp.example.com', auth: { user: 'u', pass: SECRET }, requiretls: true } } }, /transport "bulk": unknown option "requiretls". Did you mean "requireTLS"\?/],
    ['a wrong type', { transport: 'memory://', eventEmitter: 'no' }, /eventEmitter must be true or false, got a string/],
  ])('%s', async (_what, options, pattern) => {
    const [message] = await startupErrors(options);
    expect(message).toMatch(pattern);
  });
});

it('a module extra returned by a forRootAsync factory is refused with where it goes', async () => {
  const error = await boot([MailerModule.forRootAsync({ useFactory: () => ({ transport: 'memory://', isGlobal: true }) as MailerModuleOptions })])
    .then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(MailerConfigurationError);
  expect((error as Error).message).toMatch(/"isGlobal" is a module extra, not an option: give it to forRootAsync\(\{ isGlobal, mailers, useFactory, … \}\)/);
});

it("forRootAsync refuses @nestjs-modules/mailer's extraProviders, which would be dropped", () => {
  expect(() => MailerModule.forRootAsync({ useFactory: () => ({ transport: 'memory://' }), extraProviders: [] } as never))
    .toThrow(/extraProviders \(@nestjs-modules\/mailer\) is not supported; put those providers in a module and list it in imports/);
});

describe("@nestjs-modules/mailer's module options", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mailroom-incumbent-'));
    mkdirSync(join(dir, 'partials'));
    mkdirSync(join(dir, 'layouts'));
    writeFileSync(join(dir, 'welcome.hbs'), '<p>Welcome, {{name}}! You have {{money credit}}.</p>{{> signature}}');
    writeFileSync(join(dir, 'partials', 'signature.hbs'), '<p class="sig">{{concat "The " "Shop"}}</p>');
    writeFileSync(join(dir, 'layouts', 'main.hbs'), '<html><body><div class="frame">{{{body}}}</div></body></html>');
    writeFileSync(join(dir, 'layouts', 'escaping.hbs'), '<html><body>{{ body }}</body></html>');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const incumbent = (extra: Partial<MailerModuleOptions> = {}): MailerModuleOptions => ({
    transport: 'memory://',
    defaults: { from: '"No Reply" <noreply@example.com>' },
    template: {
      dir,
      adapter: new HandlebarsAdapter({ money: (n: number) => `€${n.toFixed(2)}` }),
      options: { strict: true },
    },
    options: { partials: { dir: join(dir, 'partials') }, layout: 'layouts/main' },
    preview: false,
    ...extra,
  });

  it('template, options and a HandlebarsAdapter with helpers work as they did, with forRoot and forRootAsync', async () => {
    for (const module of [MailerModule.forRoot(incumbent()), MailerModule.forRootAsync({ useFactory: () => incumbent() })]) {
      const app = await boot([module]);
      const mailer = app.get(MailerService);
      const info = await mailer.sendMail({ to: 'ada@example.org', subject: 'Welcome', template: './welcome', context: { name: 'Ada', credit: 5 } });
      expect(info.accepted).toEqual(['ada@example.org']);
      const sent = mailer.getTransport<MemoryTransport>().sent.at(-1)!;
      expect(sent.html).toContain('<div class="frame">');
      expect(sent.html).toContain('Welcome, Ada! You have €5.00.');
      expect(sent.html).toContain('The Shop');
      // strict: true came across too
      await expect(mailer.sendMail({ to: 'ada@example.org', subject: 'Welcome', template: 'welcome', context: { credit: 1 } }))
        .rejects.toBeInstanceOf(TemplateRenderError);
    }
  });

  it('rateLimit { maxMessages, period } becomes a rate per second with that burst', async () => {
    const app = await boot([MailerModule.forRoot({ transport: 'memory://', rateLimit: { maxMessages: 10, period: 2000 } as never })]);
    const limiter = app.get<MailerRuntime>(MAILER_RUNTIME).limiters.get('default') as TokenBucketRateLimiter;
    expect(limiter.baseRate).toBe(5 / 1000);
    expect(limiter.burst).toBe(10);
  });

  it.each([
    ['another engine', () => incumbent({ template: { dir, adapter: new EjsAdapter() } }), /template.adapter: EjsAdapter renders EJS.*templates: \{ renderer \}/],
    ['the MJML adapter', () => incumbent({ template: { dir, adapter: new MjmlAdapter('handlebars') } }), /template.adapter: MjmlAdapter is not needed here.*Rename each template from <name>\.hbs to <name>\.mjml\.hbs/],
    ['several folders', () => incumbent({ template: { dir, dirs: [dir] } }), /template: "dirs" is not supported: templates come from one folder/],
    ['a template resolver', () => incumbent({ template: { dir, resolver: { resolve: async () => ({ content: '' }) } } }), /"resolver" is not supported/],
    ['a Handlebars compile option without equivalent', () => incumbent({ template: { dir, options: { noEscape: true } } }), /template.options: "noEscape" is not supported: HTML templates escape values/],
    ['a layout next to the templates', () => incumbent({ options: { layout: 'main' } }), /options.layout 'main' is a file next to the templates.*layouts\/main.hbs.*defaultLayout: 'main'/],
    ['a layout that prints the mail with {{body}}', () => incumbent({ options: { layout: 'layouts/escaping' } }), /escaping.hbs places the mail with \{\{body\}\}, which escapes its HTML here; write \{\{\{body\}\}\}/],
    ['preview', () => incumbent({ preview: true }), /preview is not supported yet.*mailer.render/],
    ['i18n', () => ({ ...incumbent(), i18n: { defaultLocale: 'en' } }), /"i18n" \(@nestjs-modules\/mailer\) is written locale here/],
    ['verifyTransporters', () => ({ ...incumbent(), verifyTransporters: true }), /"verifyTransporters".*MailerHealthIndicator.*mailer.verify/],
    ['both templates and template', () => incumbent({ templates: { dir } }), /templates and @nestjs-modules\/mailer's template\/options are both set/],
  ])('refuses %s at start-up with the replacement', async (_what, options, pattern) => {
    const [message] = await startupErrors(options());
    expect(message).toMatch(pattern);
  });
});

describe('MailerWebhooksModule options', () => {
  it.each([
    ['a provider name in another case', { providers: { sendGrid: { publicKey: 'x' } } }, /providers: unknown option "sendGrid". Did you mean "sendgrid"\?/],
    ["a typo in a provider's options", { providers: { mailgun: { signingKey: SECRET, tolerance: 60 } } }, /providers.mailgun: unknown option "tolerance". Did you mean "toleranceSeconds"\?/],
    ['a typo at the top', { providers: { mailgun: { signingKey: SECRET } }, supress: false }, /unknown option "supress". Did you mean "suppress"\?/],
    ['the path inside a factory result', { path: 'hooks', providers: { mailgun: { signingKey: SECRET } } }, /"path" is a module extra/],
  ])('%s stops start-up', async (_what, options, pattern) => {
    const error = await boot([MailerWebhooksModule.forRootAsync({ useFactory: () => options as never })]).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(MailerConfigurationError);
    expect((error as Error).message).toMatch(pattern);
    expect((error as Error).message).not.toContain(SECRET);
  });

  it('forRoot takes path as the module extra it is', async () => {
    await boot([MailerWebhooksModule.forRoot({ path: 'hooks', providers: { mailgun: { signingKey: SECRET } } })]);
  });
});
