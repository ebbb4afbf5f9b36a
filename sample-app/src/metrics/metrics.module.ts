import type { IncomingMessage, ServerResponse } from 'node:http';
import { Controller, Get, Inject, Module, NotFoundException, Req, Res, type OnApplicationShutdown } from '@nestjs/common';
import type { MeterProvider } from '@opentelemetry/sdk-metrics';
import type { PrometheusExporter } from '@opentelemetry/exporter-prometheus';

export const METRICS = Symbol('METRICS');

/** The meter provider the mailer records into and the exporter that renders it for Prometheus. */
export interface PrometheusMetrics {
  meterProvider: MeterProvider;
  exporter: PrometheusExporter;
}

const INSTALL = 'npm install @opentelemetry/api @opentelemetry/sdk-metrics @opentelemetry/exporter-prometheus';

/**
 * With METRICS=prometheus, an OpenTelemetry meter provider whose metrics GET /metrics serves in
 * Prometheus' text format; null otherwise. The packages are loaded only then, so an app that does
 * not ask for metrics does not need them.
 */
async function startMetrics(): Promise<PrometheusMetrics | null> {
  if (process.env.METRICS !== 'prometheus') return null;
  let sdk: typeof import('@opentelemetry/sdk-metrics');
  let prometheus: typeof import('@opentelemetry/exporter-prometheus');
  try {
    [sdk, prometheus] = await Promise.all([import('@opentelemetry/sdk-metrics'), import('@opentelemetry/exporter-prometheus')]);
  } catch (cause) {
    throw new Error(`METRICS=prometheus needs the OpenTelemetry metrics packages: run \`${INSTALL}\`.`, { cause });
  }
  // Served by this app's own HTTP server at /metrics rather than on a port of the exporter's.
  const exporter = new prometheus.PrometheusExporter({ preventServerStart: true });
  const meterProvider = new sdk.MeterProvider({ readers: [exporter] });
  return { meterProvider, exporter };
}

@Controller('metrics')
export class MetricsController {
  constructor(@Inject(METRICS) private readonly metrics: PrometheusMetrics | null) {}

  @Get()
  scrape(@Req() request: IncomingMessage, @Res() response: ServerResponse): void {
    if (!this.metrics) throw new NotFoundException('Metrics are off: start the app with METRICS=prometheus.');
    this.metrics.exporter.getMetricsRequestHandler(request, response);
  }
}

@Module({
  providers: [{ provide: METRICS, useFactory: startMetrics }],
  controllers: [MetricsController],
  exports: [METRICS],
})
export class MetricsModule implements OnApplicationShutdown {
  constructor(@Inject(METRICS) private readonly metrics: PrometheusMetrics | null) {}

  async onApplicationShutdown(): Promise<void> {
    await this.metrics?.meterProvider.shutdown();
  }
}
