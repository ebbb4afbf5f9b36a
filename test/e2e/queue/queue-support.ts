import 'reflect-metadata';
import { Test, type TestingModule } from '@nestjs/testing';
import { Redis } from 'ioredis';
import { MailerModule, type MailerModuleOptions } from '../../../lib/index.js';
import { MailerQueueModule, type MailerQueueModuleOptions } from '../../../lib/queue/index.js';
import { deleteKeysByPrefix, redisUrl, uniqueKeyPrefix } from '../../support/redis.js';
import { startSmtpSink, type SmtpSink, type SmtpSinkOptions } from '../../support/smtp-sink.js';

/** Everything a queue test opened, closed in reverse order by `cleanup()`. */
export class QueueTestBed {
  readonly prefix: string;
  private readonly closers: Array<() => Promise<unknown>> = [];
  private admin?: Redis;

  constructor(name: string) {
    this.prefix = uniqueKeyPrefix(`queue-${name}`).replace(/:$/, '');
  }

  async redis(): Promise<Redis> {
    this.admin ??= new Redis(await redisUrl());
    return this.admin;
  }

  async sink(options: SmtpSinkOptions = {}): Promise<SmtpSink> {
    const s = await startSmtpSink({ starttls: false, ...options });
    this.closers.push(() => s.stop());
    return s;
  }

  /** A Nest application with MailerModule (to `sink`) and MailerQueueModule sharing this bed's prefix. */
  async app(
    sink: SmtpSink | undefined,
    queue: Partial<MailerQueueModuleOptions> = {},
    mailer: Partial<MailerModuleOptions> = {},
    imports: unknown[] = [],
  ): Promise<TestingModule> {
    const url = await redisUrl();
    const moduleRef = await Test.createTestingModule({
      imports: [
        ...imports,
        ...(sink ? [MailerModule.forRoot({ transport: `${sink.url}?tlsMode=none`, defaults: { from: 'Shop <shop@example.com>' }, ...mailer })] : []),
        MailerQueueModule.forRoot({ connection: { url }, prefix: this.prefix, ...queue }),
      ] as never[],
    }).compile();
    await moduleRef.init();
    this.closers.push(() => moduleRef.close());
    return moduleRef;
  }

  defer(fn: () => Promise<unknown>): void {
    this.closers.push(fn);
  }

  async cleanup(): Promise<void> {
    for (const fn of this.closers.splice(0).reverse()) await fn().catch(() => undefined);
    if (this.admin) {
      await deleteKeysByPrefix(this.admin, this.prefix);
      await this.admin.quit();
      this.admin = undefined;
    }
  }
}

export async function until(check: () => boolean | Promise<boolean>, timeout = 15_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
