import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { MailerQueueModuleExtras, MailerQueueModuleOptions } from './mailer-queue.options.js';

export const {
  ConfigurableModuleClass: MailerQueueConfigurableModule,
  MODULE_OPTIONS_TOKEN: MAILER_QUEUE_OPTIONS,
  OPTIONS_TYPE: MAILER_QUEUE_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: MAILER_QUEUE_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<MailerQueueModuleOptions>({ moduleName: 'MailerQueue' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createMailerQueueOptions')
  .setExtras<MailerQueueModuleExtras>({ isGlobal: false }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();
