import { fileURLToPath } from 'node:url';
import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { MailerModule } from 'nestjs-mailroom';
import { MailErrorsFilter } from './mail-errors.filter.js';
import { OrdersController } from './orders/orders.controller.js';
import { OrdersService } from './orders/orders.service.js';
import { OUTBOX, OutboxModule } from './outbox/outbox.module.js';
import type { OutboxServer } from './outbox/outbox.server.js';

@Module({
  imports: [
    OutboxModule,
    MailerModule.forRootAsync({
      imports: [OutboxModule],
      inject: [OUTBOX],
      // The transport comes from MAILER_URL alone; without it, mail goes to the embedded outbox.
      useFactory: (outbox: OutboxServer | null) => ({
        transport: process.env.MAILER_URL ?? outbox!.url,
        defaults: { from: process.env.MAIL_FROM ?? 'Lumen & Co <orders@lumen.example>' },
        templates: { dir: fileURLToPath(new URL('../templates', import.meta.url)) },
      }),
    }),
  ],
  controllers: [OrdersController],
  providers: [OrdersService, { provide: APP_FILTER, useClass: MailErrorsFilter }],
})
export class AppModule {}
