import { fileURLToPath } from 'node:url';
import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { MailerModule } from 'nestjs-mailroom';
import { MailerPreviewModule } from 'nestjs-mailroom/preview';
import { MailErrorsFilter } from './mail-errors.filter.js';
import { OrdersController } from './orders/orders.controller.js';
import { OrdersService } from './orders/orders.service.js';
import { ReceiptPreviews } from './orders/receipt.previews.js';
import { ShippedPreviews } from './orders/shipped.previews.js';
import { METRICS, MetricsModule, type PrometheusMetrics } from './metrics/metrics.module.js';
import { OUTBOX, OutboxModule } from './outbox/outbox.module.js';
import type { OutboxServer } from './outbox/outbox.server.js';

/** `npm start` runs without NODE_ENV: development, where templates reload when they change. */
const development = process.env.NODE_ENV === undefined || process.env.NODE_ENV === 'development';

@Module({
  imports: [
    OutboxModule,
    // METRICS=prometheus: the mailer's metrics at GET /metrics.
    MetricsModule,
    MailerModule.forRootAsync({
      imports: [OutboxModule, MetricsModule],
      inject: [OUTBOX, METRICS],
      // The transport comes from MAILER_URL alone; without it, mail goes to the embedded SMTP server.
      useFactory: (outbox: OutboxServer | null, metrics: PrometheusMetrics | null) => ({
        transport: process.env.MAILER_URL ?? outbox!.url,
        defaults: { from: process.env.MAIL_FROM ?? 'Lumen & Co <orders@lumen.example>' },
        // receipt.hbs is Handlebars HTML; shipped.mjml.hbs is MJML (compiled once, here at start-up),
        // with shipped.fr.mjml.hbs for French-speaking customers.
        templates: { dir: fileURLToPath(new URL('../templates', import.meta.url)), watch: development },
        // Spans go to whatever tracer provider the process registered (see the README's OTLP recipe).
        ...(metrics ? { telemetry: { meterProvider: metrics.meterProvider } } : {}),
      }),
    }),
    // GET /outbox: every template with the sample receipts, and every mail sent, whatever the transport.
    MailerPreviewModule.forRoot({ path: 'outbox', enabled: process.env.NODE_ENV !== 'production' }),
  ],
  controllers: [OrdersController],
  providers: [OrdersService, ReceiptPreviews, ShippedPreviews, { provide: APP_FILTER, useClass: MailErrorsFilter }],
})
export class AppModule {}
