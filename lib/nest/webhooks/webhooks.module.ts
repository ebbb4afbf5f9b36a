import { ConfigurableModuleBuilder, Module } from '@nestjs/common';
import { createMailerWebhooksController } from './webhooks.controller.js';
import {
  DEFAULT_WEBHOOKS_PATH,
  type MailerWebhooksModuleExtras,
  type MailerWebhooksModuleOptions,
} from './webhooks.options.js';
import { MailerWebhooksService } from './webhooks.service.js';
import { MAILER_WEBHOOKS_OPTIONS } from './webhooks.tokens.js';

export const {
  ConfigurableModuleClass: MailerWebhooksConfigurableModule,
  OPTIONS_TYPE: MAILER_WEBHOOKS_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: MAILER_WEBHOOKS_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<MailerWebhooksModuleOptions>({ optionsInjectionToken: MAILER_WEBHOOKS_OPTIONS })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createMailerWebhooksOptions')
  .setExtras<MailerWebhooksModuleExtras>({ path: DEFAULT_WEBHOOKS_PATH, isGlobal: false }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal,
    // The path is an extra, not an option: a controller's route is fixed before async options resolve.
    controllers: [...(definition.controllers ?? []), createMailerWebhooksController(extras.path ?? DEFAULT_WEBHOOKS_PATH)],
  }))
  .build();

/**
 * Mounts `POST <path>/<provider>` for each configured provider (default path `webhooks/mail`):
 *
 * ```ts
 * MailerWebhooksModule.forRoot({
 *   path: 'webhooks/mail',
 *   providers: { sendgrid: { publicKey }, mailgun: { signingKey }, resend: { secret },
 *                ses: { region, topicArn, autoConfirm }, postmark: { username, password } },
 * })
 * ```
 *
 * or `forRootAsync({ path, imports, inject, useFactory | useClass | useExisting })`. The application
 * must be created with `rawBody: true`. Subscribe to `MailerWebhooksService.events$`, listen for
 * `mail.delivery.<type>` with @nestjs/event-emitter, or bind a sink to MAILER_DELIVERY_SINKS.
 */
@Module({
  providers: [MailerWebhooksService],
  exports: [MailerWebhooksService],
})
export class MailerWebhooksModule extends MailerWebhooksConfigurableModule {}
