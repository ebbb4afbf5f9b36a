import { fileURLToPath } from 'node:url';
import { Test, type TestingModule } from '@nestjs/testing';
import { InvalidMailError, isMailerError, MailerModule, MailerService, type MemoryTransport } from 'nestjs-mailroom';
import { SHOP, WelcomeService } from './welcome.service.js';

describe('WelcomeService', () => {
  let moduleRef: TestingModule;
  let sent: MemoryTransport['sent'];

  beforeEach(async () => {
    moduleRef = await Test.createTestingModule({
      imports: [
        MailerModule.forRoot({
          transport: 'memory://',
          defaults: { from: 'app@example.com' },
          templates: { dir: fileURLToPath(new URL('./templates', import.meta.url)) },
        }),
      ],
      providers: [WelcomeService],
    }).compile();
    sent = moduleRef.get(MailerService).getTransport<MemoryTransport>().sent;
  });

  afterEach(() => moduleRef.close());

  it('renders the template with its layout and sends it', async () => {
    const result = await moduleRef.get(WelcomeService).welcome('ada@example.org', 'Ada');
    expect(result.accepted).toEqual(['ada@example.org']);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.subject).toBe(`Welcome to ${SHOP}, Ada`);
    expect(sent[0]!.html).toContain('Welcome, Ada!');
    expect(sent[0]!.html).toContain(`The ${SHOP} team`);
    // The stylesheet was inlined: the native CSS inliner loads under Vitest.
    expect(sent[0]!.html).toMatch(/<p[^>]*style="[^"]*color:\s*#0a7/i);
    expect(sent[0]!.text).toContain('Welcome, Ada!');
  });

  it('refuses a malformed address with a typed error and sends nothing', async () => {
    const failure = await moduleRef.get(WelcomeService).welcome('not an address', 'Ada').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(InvalidMailError);
    expect(isMailerError(failure) && failure.code).toBe('MAILER_INVALID_MAIL');
    expect(sent).toHaveLength(0);
  });
});
