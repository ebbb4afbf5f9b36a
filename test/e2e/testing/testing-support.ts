import 'reflect-metadata';
import { Test, type TestingModule } from '@nestjs/testing';
import { fileURLToPath } from 'node:url';
import { MailerModule, MailerService, type MailerModuleOptions } from 'nestjs-mailroom';
import { Mailbox, MailerTestingModule } from 'nestjs-mailroom/testing';
import { onCleanup } from '../../support/cleanup.js';

export const TEMPLATES = fileURLToPath(new URL('../../fixtures/mail-templates', import.meta.url));

/** An application whose own module configures the mailer, tested with MailerTestingModule beside it. */
export async function testApp(
  options: MailerModuleOptions,
  extra: { imports?: unknown[]; providers?: unknown[] } = {},
): Promise<{ moduleRef: TestingModule; mailer: MailerService; mailbox: Mailbox }> {
  const moduleRef = await Test.createTestingModule({
    imports: [MailerModule.forRoot(options), ...(extra.imports ?? []), MailerTestingModule] as never[],
    providers: (extra.providers ?? []) as never[],
  }).compile();
  moduleRef.useLogger(false);
  await moduleRef.init();
  onCleanup(() => moduleRef.close());
  return { moduleRef, mailer: moduleRef.get(MailerService), mailbox: moduleRef.get(Mailbox) };
}
