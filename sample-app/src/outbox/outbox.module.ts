import { Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { OutboxServer } from './outbox.server.js';

export const OUTBOX = Symbol('OUTBOX');

/** The embedded SMTP server the app sends to when MAILER_URL is not set; null when it is. */
@Module({
  providers: [
    {
      provide: OUTBOX,
      // Started only when no MAILER_URL is given: then it is where the app's mail goes.
      useFactory: async () => (process.env.MAILER_URL ? null : new OutboxServer().start(Number(process.env.OUTBOX_PORT ?? 0))),
    },
  ],
  exports: [OUTBOX],
})
export class OutboxModule implements OnApplicationShutdown {
  constructor(@Inject(OUTBOX) private readonly outbox: OutboxServer | null) {}

  async onApplicationShutdown(): Promise<void> {
    await this.outbox?.stop();
  }
}
