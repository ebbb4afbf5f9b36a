import { ConfigurableModuleBuilder, Module, type DynamicModule, type Provider } from '@nestjs/common';
import { MailerConfigurationError } from '../errors/mailer.error.js';
import { MailerHealthIndicator } from './mailer.health.js';
import type { MailerModuleExtras, MailerModuleOptions } from './mailer.options.js';
import { createMailerRuntime } from './mailer.runtime.js';
import { MailerService } from './mailer.service.js';
import { getMailerToken, MAILER_RUNTIME, MAILER_TRANSPORT_OVERRIDE, type MailerTransportOverride } from './mailer.tokens.js';

function boundMailerProviders(names: readonly string[]): Provider[] {
  return [...new Set(names)].map((name) => ({
    provide: getMailerToken(name),
    useFactory: (mailer: MailerService) => mailer.use(name),
    inject: [MailerService],
  }));
}

export const {
  ConfigurableModuleClass: MailerConfigurableModule,
  MODULE_OPTIONS_TOKEN: MAILER_MODULE_OPTIONS,
  OPTIONS_TYPE: MAILER_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: MAILER_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<MailerModuleOptions>({ moduleName: 'Mailer' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createMailerOptions')
  .setExtras<MailerModuleExtras>({ isGlobal: false, mailers: [] }, (definition, extras) => {
    const bound = boundMailerProviders(extras.mailers ?? []);
    return {
      ...definition,
      global: extras.isGlobal,
      providers: [...(definition.providers ?? []), ...bound],
      exports: [...(definition.exports ?? []), MailerService, ...bound.map((p) => (p as { provide: string }).provide)],
    };
  })
  .build();

/**
 * `MailerModule.forRoot({ transport: process.env.MAILER_URL, defaults: { from }, templates: { dir } })`
 * or `forRootAsync({ imports, inject, useFactory | useClass | useExisting })`.
 */
@Module({
  providers: [
    {
      provide: MAILER_RUNTIME,
      useFactory: (options: MailerModuleOptions, override?: MailerTransportOverride) => createMailerRuntime(options, override),
      inject: [MAILER_MODULE_OPTIONS, { token: MAILER_TRANSPORT_OVERRIDE, optional: true }],
    },
    MailerService,
    // Safe without @nestjs/terminus: the package is imported only when isHealthy() runs.
    MailerHealthIndicator,
  ],
  exports: [MailerService, MailerHealthIndicator],
})
export class MailerModule extends MailerConfigurableModule {
  static override forRoot(options: typeof MAILER_OPTIONS_TYPE): DynamicModule {
    const names = Object.keys(options.transports ?? {});
    return super.forRoot({ ...options, mailers: [...(options.mailers ?? []), ...names] });
  }

  static override forRootAsync(options: typeof MAILER_ASYNC_OPTIONS_TYPE): DynamicModule {
    // @nestjs-modules/mailer's async options take extraProviders; Nest's builder would drop them.
    if ((options as { extraProviders?: unknown }).extraProviders !== undefined) {
      throw new MailerConfigurationError('MailerModule.forRootAsync: extraProviders (@nestjs-modules/mailer) is not supported; put those providers in a module and list it in imports.');
    }
    return super.forRootAsync(options);
  }
}
