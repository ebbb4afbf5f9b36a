import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { ModuleRef } from '@nestjs/core';
import type { MailerQueueModuleExtras, MailerQueueModuleOptions } from './mailer-queue.options.js';
import type { MailerQueue } from './mailer-queue.service.js';

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

/**
 * Optional provider that `MailerQueueModule` consults for its MailerQueue. Production code never
 * provides it: `nestjs-mailroom/testing`'s `MailerTestingModule` does (globally), with a queue that
 * hands jobs straight to the mailer instead of Redis.
 */
export const MAILER_QUEUE_OVERRIDE = Symbol.for('nestjs-mailroom:queue-override');

export interface MailerQueueOverride {
  createQueue(options: MailerQueueModuleOptions, moduleRef: ModuleRef): MailerQueue;
}
