import { Controller, Get, Inject, Module, NotFoundException, type OnApplicationShutdown } from '@nestjs/common';
import { OutboxServer, type OutboxEntry } from './outbox.server.js';

export const OUTBOX = Symbol('OUTBOX');

@Controller('outbox')
export class OutboxController {
  constructor(@Inject(OUTBOX) private readonly outbox: OutboxServer | null) {}

  @Get()
  list(): OutboxEntry[] {
    if (!this.outbox) throw new NotFoundException('The embedded outbox is off because MAILER_URL is set; mail goes to that transport.');
    return this.outbox.entries;
  }
}

@Module({
  controllers: [OutboxController],
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
