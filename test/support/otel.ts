import { context, metrics, propagation, trace, type Attributes } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { MeterProvider, MetricReader, type DataPoint, type Histogram } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';

/** A metric reader the test collects from when it wants to. */
class CollectingReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }

  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

export interface OtelHarness {
  exporter: InMemorySpanExporter;
  reader: CollectingReader;
  spans(): ReadableSpan[];
  /** The data points of one metric, by name (empty when it has none). */
  points(name: string): Array<DataPoint<number | Histogram>>;
  /** The sum of a counter's points whose attributes include `match`. */
  count(name: string, match?: Attributes): number;
  shutdown(): Promise<void>;
}

let points: Map<string, Array<DataPoint<number | Histogram>>> = new Map();

/**
 * Registers an OpenTelemetry SDK globally, as an application's tracing bootstrap does: a tracer
 * provider with an in-memory exporter, a meter provider with a reader the test collects from, the
 * AsyncLocalStorage context manager and the W3C trace-context propagator. Call before the Nest
 * application is created (the metrics API has no proxy for meters taken earlier).
 */
export function registerOtel(): OtelHarness {
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const reader = new CollectingReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(tracerProvider);
  metrics.setGlobalMeterProvider(meterProvider);
  const harness: OtelHarness & { collect(): Promise<void> } = {
    exporter,
    reader,
    spans: () => exporter.getFinishedSpans(),
    async collect() {
      const { resourceMetrics } = await reader.collect();
      points = new Map();
      for (const scope of resourceMetrics.scopeMetrics) {
        for (const metric of scope.metrics) {
          const list = points.get(metric.descriptor.name) ?? [];
          list.push(...(metric.dataPoints as Array<DataPoint<number | Histogram>>));
          points.set(metric.descriptor.name, list);
        }
      }
    },
    points: (name) => points.get(name) ?? [],
    count: (name, match = {}) => (points.get(name) ?? [])
      .filter((p) => Object.entries(match).every(([k, v]) => p.attributes[k] === v))
      .reduce((sum, p) => sum + (typeof p.value === 'number' ? p.value : p.value.count), 0),
    async shutdown() {
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
      trace.disable();
      metrics.disable();
      context.disable();
      propagation.disable();
    },
  };
  return harness;
}

/** Collects the metrics recorded so far; `points` and `count` read what this collected. */
export async function collect(harness: OtelHarness): Promise<void> {
  await (harness as OtelHarness & { collect(): Promise<void> }).collect();
}

/** The span's children among `spans`, in start order. */
export function childrenOf(span: ReadableSpan, spans: readonly ReadableSpan[]): ReadableSpan[] {
  return spans
    .filter((s) => s.parentSpanContext?.spanId === span.spanContext().spanId)
    .sort((a, b) => (a.startTime[0] - b.startTime[0]) || (a.startTime[1] - b.startTime[1]));
}

/** Every attribute value on every span and span event, as text. */
export function everyAttributeValue(spans: readonly ReadableSpan[]): string[] {
  const values: string[] = [];
  for (const span of spans) {
    for (const value of Object.values(span.attributes)) values.push(String(value));
    for (const event of span.events) for (const value of Object.values(event.attributes ?? {})) values.push(String(value));
    if (span.status.message) values.push(span.status.message);
  }
  return values;
}
