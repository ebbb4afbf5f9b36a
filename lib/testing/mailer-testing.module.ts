import { Global, Module } from '@nestjs/common';
import type { ModuleRef } from '@nestjs/core';
import { MAILER_TRANSPORT_OVERRIDE, type MailerTransportOverride } from '../nest/mailer.tokens.js';
import type { MailerQueueModuleOptions } from '../queue/mailer-queue.options.js';
import { MAILER_QUEUE_OVERRIDE, type MailerQueueOverride } from '../queue/mailer-queue.tokens.js';
import { captureTransport } from './capturing.transport.js';
import { CapturingMailerQueue } from './capturing-queue.service.js';
import { MailRecorder } from './mail.recorder.js';
import { Mailbox } from './mailbox.service.js';
import { SkippedWaitClock } from './skipped-wait.clock.js';

/**
 * Import it next to your application's module in a test —
 * `Test.createTestingModule({ imports: [AppModule, MailerTestingModule] })` — and every transport
 * of every `MailerModule` (the members of a failover or round-robin transport too) captures mail
 * into the `Mailbox` instead of sending it: no connection is opened. The configuration is still
 * read and checked as in production, and the rest of the way is the real one: templates,
 * interceptors, `mail.sending` listeners, suppression, retry (without its waits), events.
 * `MailerQueueModule` hands its jobs straight to the mailer, without Redis.
 */
@Global()
@Module({
  providers: [
    MailRecorder,
    Mailbox,
    {
      provide: MAILER_TRANSPORT_OVERRIDE,
      useFactory: (recorder: MailRecorder): MailerTransportOverride => ({
        replaceTransport: (transport) => captureTransport(transport, recorder),
        clock: new SkippedWaitClock(),
        keepTemplateContext: true,
      }),
      inject: [MailRecorder],
    },
    {
      provide: MAILER_QUEUE_OVERRIDE,
      useValue: {
        createQueue: (options: MailerQueueModuleOptions, moduleRef: ModuleRef) => new CapturingMailerQueue(options, moduleRef),
      } satisfies MailerQueueOverride,
    },
  ],
  exports: [Mailbox, MAILER_TRANSPORT_OVERRIDE, MAILER_QUEUE_OVERRIDE],
})
export class MailerTestingModule {}
