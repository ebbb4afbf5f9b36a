import { ConfigurableModuleBuilder, Module, type DynamicModule } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { createMailerPreviewController } from './preview.controller.js';
import { PreviewResponseInterceptor } from './preview.headers.js';
import { DEFAULT_PREVIEW_PATH, type MailerPreviewModuleExtras, type MailerPreviewModuleOptions } from './preview.options.js';
import { MailerPreviewService } from './preview.service.js';
import { MAILER_PREVIEW_OPTIONS } from './preview.tokens.js';

export const {
  ConfigurableModuleClass: MailerPreviewConfigurableModule,
  OPTIONS_TYPE: MAILER_PREVIEW_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: MAILER_PREVIEW_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<MailerPreviewModuleOptions>({ optionsInjectionToken: MAILER_PREVIEW_OPTIONS })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createMailerPreviewOptions')
  .setExtras<MailerPreviewModuleExtras>({ path: DEFAULT_PREVIEW_PATH }, (definition, extras) => ({
    ...definition,
    // The path is an extra, not an option: a controller's route is fixed before async options resolve.
    controllers: [...(definition.controllers ?? []), createMailerPreviewController(extras.path ?? DEFAULT_PREVIEW_PATH)],
  }))
  .build();

/**
 * A mail preview and development inbox in the browser, under `path` (default `mail-preview`):
 * every template with the sample contexts of `@MailPreview()` classes, and every mail the
 * application sends, arriving live. Off unless `enabled`; refuses to start with
 * `NODE_ENV=production` unless `force`.
 *
 * ```ts
 * MailerPreviewModule.forRoot({ path: 'dev/mail', enabled: process.env.NODE_ENV !== 'production' })
 * ```
 *
 * or `forRootAsync({ path, imports, inject, useFactory | useClass | useExisting })`. Needs a
 * MailerModule in the application. Import it from `nestjs-mailroom/preview`, which the main entry
 * point never loads.
 */
@Module({
  imports: [DiscoveryModule],
  providers: [MailerPreviewService, PreviewResponseInterceptor],
})
export class MailerPreviewModule extends MailerPreviewConfigurableModule {
  /** With `enabled` not true nothing is mounted at all. */
  static override forRoot(options: typeof MAILER_PREVIEW_OPTIONS_TYPE): DynamicModule {
    const definition = super.forRoot(options);
    return options?.enabled === true ? definition : { ...definition, controllers: [] };
  }
}
