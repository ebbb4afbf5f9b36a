/*
 * The part of `@opentelemetry/api` (1.x) this package calls, typed by shape so that the package's
 * declarations never name the optional peer: an application without it compiles as before.
 */

export type AttributeValue = string | number | boolean | string[] | number[] | boolean[];
export type Attributes = Record<string, AttributeValue | undefined>;

/** An immutable context (the API's `Context`). */
export interface Context {
  getValue(key: symbol): unknown;
}

export interface SpanStatus {
  code: number;
  message?: string;
}

export interface Span {
  setAttribute(key: string, value: AttributeValue): this;
  setAttributes(attributes: Attributes): this;
  addEvent(name: string, attributes?: Attributes): this;
  setStatus(status: SpanStatus): this;
  isRecording(): boolean;
  end(): void;
}

export interface SpanOptions {
  kind?: number;
  attributes?: Attributes;
}

export interface Tracer {
  startSpan(name: string, options?: SpanOptions, context?: Context): Span;
}

export interface Counter {
  add(value: number, attributes?: Attributes): void;
}

export interface Histogram {
  record(value: number, attributes?: Attributes): void;
}

export interface ObservableResult {
  observe(value: number, attributes?: Attributes): void;
}

export type ObservableCallback = (result: ObservableResult) => void | Promise<void>;

export interface ObservableGauge {
  addCallback(callback: ObservableCallback): void;
  removeCallback(callback: ObservableCallback): void;
}

export interface MetricOptions {
  description?: string;
  unit?: string;
  advice?: { explicitBucketBoundaries?: number[] };
}

export interface Meter {
  createCounter(name: string, options?: MetricOptions): Counter;
  createHistogram(name: string, options?: MetricOptions): Histogram;
  createObservableGauge(name: string, options?: MetricOptions): ObservableGauge;
}

/** What this package uses of the `@opentelemetry/api` module. */
export interface OtelApiModule {
  trace: {
    getTracerProvider(): { getTracer(name: string, version?: string): Tracer };
    setSpan(context: Context, span: Span): Context;
    getActiveSpan(): Span | undefined;
  };
  metrics: {
    getMeterProvider(): { getMeter(name: string, version?: string): Meter };
  };
  context: {
    active(): Context;
    with<R>(context: Context, fn: () => R): R;
  };
  propagation: {
    inject(context: Context, carrier: Record<string, string>): void;
    extract(context: Context, carrier: Record<string, string>): Context;
  };
  SpanKind: { INTERNAL: number; SERVER: number; CLIENT: number; PRODUCER: number; CONSUMER: number };
  SpanStatusCode: { UNSET: number; OK: number; ERROR: number };
  createNoopMeter(): Meter;
}
