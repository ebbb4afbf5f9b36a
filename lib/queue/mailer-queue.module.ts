import { Module } from '@nestjs/common';
import { MailerQueue } from './mailer-queue.service.js';
import { MailerQueueConfigurableModule } from './mailer-queue.tokens.js';

/**
 * `MailerQueueModule.forRoot({ connection: { url: process.env.REDIS_URL }, mode: 'producer' })`
 * or `forRootAsync({ imports, inject, useFactory | useClass | useExisting })`. Workers send with
 * the application's MailerService, so MailerModule must be imported too (before this module, or
 * as a global module, so that it shuts down after the worker). See docs/queue.md.
 */
@Module({
  providers: [MailerQueue],
  exports: [MailerQueue],
})
export class MailerQueueModule extends MailerQueueConfigurableModule {}
