import 'reflect-metadata';
import { Inject, Injectable, Module, type INestApplicationContext } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { afterEach, describe, expect, it } from 'vitest';
import {
  InjectMailer, MailerConfigurationError, MailerModule, MailerService, MemoryTransport,
  type BoundMailer, type MailerModuleOptions, type OutgoingMail, type Transport, type TransportResult,
} from '../../lib/index.js';

const CONFIG = Symbol('CONFIG');

@Module({ providers: [{ provide: CONFIG, useValue: { url: 'memory://', from: 'Config <config@example.com>' } }], exports: [CONFIG] })
class ConfigModule {}

@Injectable()
class OptionsFactory {
  createMailerOptions(): MailerModuleOptions {
    return { transport: 'memory://', defaults: { from: 'Factory <factory@example.com>' } };
  }
}

@Module({ providers: [OptionsFactory], exports: [OptionsFactory] })
class FactoryModule {}

const contexts: INestApplicationContext[] = [];
afterEach(async () => {
  for (const c of contexts.splice(0)) await c.close();
});

async function boot(imports: unknown[], providers: unknown[] = []) {
  const moduleRef = await Test.createTestingModule({ imports: imports as never[], providers: providers as never[] }).compile();
  await moduleRef.init();
  contexts.push(moduleRef);
  return moduleRef;
}

async function sendOne(mailer: MailerService, from?: string) {
  const result = await mailer.send({ from, to: 'ada@example.org', subject: 'Hello', text: 'Hi' });
  const sent = mailer.getTransport<MemoryTransport>().sent;
  return { result, sent };
}

describe('MailerModule registration', () => {
  it('forRoot with a transport URL', async () => {
    const app = await boot([MailerModule.forRoot({ transport: 'memory://', defaults: { from: 'Shop <shop@example.com>' } })]);
    const { result, sent } = await sendOne(app.get(MailerService));
    expect(result.transport).toBe('default');
    expect(result.accepted).toEqual(['ada@example.org']);
    expect(sent[0]!.from).toEqual({ name: 'Shop', address: 'shop@example.com' });
  });

  it('forRootAsync with useFactory, imports and inject', async () => {
    const app = await boot([MailerModule.forRootAsync({
      imports: [ConfigModule],
      inject: [CONFIG],
      useFactory: async (config: { url: string; from: string }) => ({ transport: config.url, defaults: { from: config.from } }),
    })]);
    const { sent } = await sendOne(app.get(MailerService));
    expect(sent[0]!.from.address).toBe('config@example.com');
  });

  it('forRootAsync with useClass', async () => {
    const app = await boot([MailerModule.forRootAsync({ useClass: OptionsFactory })]);
    const { sent } = await sendOne(app.get(MailerService));
    expect(sent[0]!.from.address).toBe('factory@example.com');
  });

  it('forRootAsync with useExisting', async () => {
    const app = await boot([MailerModule.forRootAsync({ imports: [FactoryModule], useExisting: OptionsFactory })]);
    const { sent } = await sendOne(app.get(MailerService));
    expect(sent[0]!.from.address).toBe('factory@example.com');
  });

  it('isGlobal makes MailerService injectable in modules that do not import it', async () => {
    @Injectable()
    class Notifier {
      constructor(readonly mailer: MailerService) {}
    }
    @Module({ providers: [Notifier], exports: [Notifier] })
    class FeatureModule {}
    const app = await boot([MailerModule.forRoot({ transport: 'memory://', isGlobal: true }), FeatureModule]);
    expect(app.get(Notifier).mailer).toBe(app.get(MailerService));
  });

  it('without isGlobal a module that does not import it cannot inject it', async () => {
    @Injectable()
    class Notifier {
      constructor(readonly mailer: MailerService) {}
    }
    @Module({ providers: [Notifier] })
    class FeatureModule {}
    await expect(Test.createTestingModule({ imports: [MailerModule.forRoot({ transport: 'memory://' }), FeatureModule] }).compile())
      .rejects.toThrow(/MailerService/);
  });

  it('several named transports, a default, and @InjectMailer for a named one', async () => {
    @Injectable()
    class Newsletter {
      constructor(@InjectMailer('bulk') readonly bulk: BoundMailer, readonly mailer: MailerService) {}
    }
    const app = await boot(
      [MailerModule.forRoot({ transports: { default: 'memory://', bulk: { type: 'memory' } }, defaults: { from: 'a@example.com' } })],
      [Newsletter],
    );
    const { bulk, mailer } = app.get(Newsletter);
    expect(mailer.transportNames).toEqual(['default', 'bulk']);
    const viaBound = await bulk.send({ to: 'x@example.org', text: 'news' });
    const viaOption = await mailer.send({ to: 'y@example.org', text: 'news' }, { transport: 'bulk' });
    const viaDefault = await mailer.send({ to: 'z@example.org', text: 'hi' });
    expect([viaBound.transport, viaOption.transport, viaDefault.transport]).toEqual(['bulk', 'bulk', 'default']);
    expect(mailer.getTransport<MemoryTransport>('bulk').sent.map((m) => m.to[0]!.address)).toEqual(['x@example.org', 'y@example.org']);
    expect(mailer.getTransport<MemoryTransport>('default').sent).toHaveLength(1);
    await expect(mailer.send({ to: 'z@example.org', text: 'x' }, { transport: 'nope' })).rejects.toThrow(/No transport named "nope"/);
  });

  it('forRootAsync registers @InjectMailer names listed in mailers', async () => {
    @Injectable()
    class Uses {
      constructor(@Inject('nestjs-mailroom:mailer:bulk') readonly bulk: BoundMailer) {}
    }
    const app = await boot(
      [MailerModule.forRootAsync({ mailers: ['bulk'], useFactory: () => ({ transports: { bulk: 'memory://' }, defaults: { from: 'a@example.com' } }) })],
      [Uses],
    );
    expect(app.get(Uses).bulk.transport).toBe('bulk');
  });

  it.each([['before'], ['after']])('keeps transports open until every module has finished shutting down (listed %s MailerModule)', async (position) => {
    let sentDuringShutdown = false;
    @Injectable()
    class FinishesWorkOnShutdown {
      constructor(private readonly moduleRef: ModuleRef) {}
      async onModuleDestroy() {
        const mailer = this.moduleRef.get(MailerService, { strict: false });
        await mailer.send({ from: 'a@example.com', to: 'b@example.com', text: 'last job' });
        sentDuringShutdown = true;
      }
    }
    @Module({ providers: [FinishesWorkOnShutdown] })
    class WorkerModule {}
    const mailerModule = MailerModule.forRoot({ transport: 'memory://' });
    const imports = position === 'before' ? [WorkerModule, mailerModule] : [mailerModule, WorkerModule];
    const moduleRef = await Test.createTestingModule({ imports }).compile();
    await moduleRef.init();
    const memory = moduleRef.get(MailerService).getTransport<MemoryTransport>();
    await moduleRef.close();
    expect(sentDuringShutdown).toBe(true);
    expect(memory.sent.map((m) => m.text)).toEqual(['last job']);
  });

  it('closes transports when the application shuts down', async () => {
    let closed = 0;
    const transport: Transport = {
      name: 'spy',
      kind: 'spy',
      send: async (mail: OutgoingMail): Promise<TransportResult> => ({ messageId: mail.messageId, accepted: mail.envelope.to, rejected: [], envelope: mail.envelope }),
      verify: async () => {},
      close: async () => { closed += 1; },
    };
    const moduleRef = await Test.createTestingModule({ imports: [MailerModule.forRoot({ transport })] }).compile();
    await moduleRef.init();
    await moduleRef.close();
    expect(closed).toBe(1);
    await expect(moduleRef.get(MailerService).send({ from: 'a@example.com', to: 'b@example.com', text: 'x' })).rejects.toThrow(/closed/);
  });
});

describe('bad configuration stops start-up with a message that says what to fix', () => {
  async function startupError(options: MailerModuleOptions): Promise<Error> {
    const error = await Test.createTestingModule({ imports: [MailerModule.forRoot(options)] }).compile().then(
      () => { throw new Error('start-up should have failed'); },
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(MailerConfigurationError);
    expect(`${error.message}\n${error.stack}`).not.toContain('Hunter2Secret');
    return error;
  }

  it.each([
    ['unknown scheme', { transport: 'smtpz://user:Hunter2Secret@mail.example.com' }, /unknown scheme "smtpz"/],
    ['missing host', { transport: { host: '', auth: { user: 'u', pass: 'Hunter2Secret' } } }, /host is missing/],
    ['smtps on 587', { transport: 'smtps://user:Hunter2Secret@mail.example.com:587' }, /587/],
    ['no transport at all', {}, /no transport/],
    ['unknown default transport', { transports: { a: 'memory://' }, defaultTransport: 'b' }, /defaultTransport "b"/],
    ['templates folder that does not exist', { transport: 'memory://', templates: { dir: '/nonexistent/mailroom/templates' } }, /\/nonexistent\/mailroom\/templates/],
  ] as Array<[string, MailerModuleOptions, RegExp]>)('%s', async (_name, options, pattern) => {
    expect((await startupError(options)).message).toMatch(pattern);
  });
});
