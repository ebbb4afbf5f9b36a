import { Module } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { MailerQueueModuleOptions } from './mailer-queue.options.js';
import { MailerQueue } from './mailer-queue.service.js';
import { MAILER_QUEUE_OPTIONS, MAILER_QUEUE_OVERRIDE, MailerQueueConfigurableModule, type MailerQueueOverride } from './mailer-queue.tokens.js';

/**
 * `MailerQueueModule.forRoot({ connection: { url: process.env.REDIS_URL }, mode: 'producer' })`
 * or `forRootAsync({ imports, inject, useFactory | useClass | useExisting })`. Workers send with
 * the application's MailerService, so MailerModule must be imported too (before this module, or
 * as a global module, so that it shuts down after the worker). See docs/queue.md.
 */
@Module({
  providers: [
    {
      provide: MailerQueue,
      useFactory: (options: MailerQueueModuleOptions, moduleRef: ModuleRef, override?: MailerQueueOverride) =>
        override ? override.createQueue(options, moduleRef) : new MailerQueue(options, moduleRef),
      inject: [MAILER_QUEUE_OPTIONS, ModuleRef, { token: MAILER_QUEUE_OVERRIDE, optional: true }],
    },
  ],
  exports: [MailerQueue],
})
export class MailerQueueModule extends MailerQueueConfigurableModule {}
