import { fileURLToPath } from 'node:url';
import { Test, type TestingModule } from '@nestjs/testing';
import { InvalidMailError, isMailerError, MailerModule } from 'nestjs-mailroom';
import { Mailbox, MailerTestingModule } from 'nestjs-mailroom/testing';
import { SHOP, WelcomeService } from './welcome.service.js';

describe('WelcomeService', () => {
  let moduleRef: TestingModule;
  let mailbox: Mailbox;

  beforeEach(async () => {
    moduleRef = await Test.createTestingModule({
      imports: [
        MailerModule.forRoot({
          // A production URL: MailerTestingModule captures the mail, so no connection is ever opened.
          transport: 'smtp://user:pass@smtp.example.com:587',
          defaults: { from: 'app@example.com' },
          templates: { dir: fileURLToPath(new URL('./templates', import.meta.url)) },
        }),
        MailerTestingModule,
      ],
      providers: [WelcomeService],
    }).compile();
    await moduleRef.init();
    mailbox = moduleRef.get(Mailbox);
  });

  afterEach(() => moduleRef.close());

  it('renders the template with its layout and sends it', async () => {
    const result = await moduleRef.get(WelcomeService).welcome('ada@example.org', 'Ada');
    expect(result.accepted).toEqual(['ada@example.org']);
    const mail = mailbox.expectSent({ to: 'ada@example.org', template: 'welcome', context: { name: 'Ada' }, subject: `Welcome to ${SHOP}, Ada` });
    expect(mail.kind).toBe('smtp');
    expect(mail.html).toContain(`The ${SHOP} team`);
    // The stylesheet was inlined: the native CSS inliner loads under Vitest.
    expect(mail.html).toMatch(/<p[^>]*style="[^"]*color:\s*#0a7/i);
    expect(mail.text).toContain('Welcome, Ada!');
  });

  it('refuses a malformed address with a typed error and sends nothing', async () => {
    const failure = await moduleRef.get(WelcomeService).welcome('not an address', 'Ada').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(InvalidMailError);
    expect(isMailerError(failure) && failure.code).toBe('MAILER_INVALID_MAIL');
    mailbox.expectNotSent();
  });

  it('fails on an unknown recipient, then leaves the address out', async () => {
    mailbox.failNext('550 5.1.1 <gone@example.org>: User unknown');
    const welcomes = moduleRef.get(WelcomeService);
    await expect(welcomes.welcome('gone@example.org', 'Gone')).rejects.toMatchObject({ code: 'MAILER_TRANSPORT', classification: { reason: 'userunknown' } });
    const again = await welcomes.welcome('gone@example.org', 'Gone');
    expect(again.rejected).toMatchObject([{ address: 'gone@example.org', classification: { reason: 'suppressed' } }]);
    mailbox.expectNotSent();
  });
});
