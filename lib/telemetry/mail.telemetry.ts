import { performance } from 'node:perf_hooks';
import type { Classification } from '../core/classification.types.js';
import type { DeliveryEvent } from '../core/delivery-event.types.js';
import type { OutgoingMail } from '../core/mail.types.js';
import type { RejectedRecipient, SendResult, TransportResult } from '../core/send-result.types.js';
import type { SendTrace, TransportIdentity } from '../core/send-trace.types.js';
import { MailCancelledError, TransportError } from '../errors/mailer.error.js';
import type { BounceResult } from '../bounces/bounce.types.js';
import { loadOtelApi } from './otel-api.loader.js';
import type { Attributes, Context, Counter, Histogram, Meter, ObservableGauge, OtelApiModule, Span, Tracer } from './otel.types.js';
import { ATTR, METRIC_NAMES, SPAN_NAMES, TELEMETRY_SCOPE } from './telemetry.names.js';
import type { MailerTelemetryOptions } from './telemetry.options.js';
import { TelemetryPrivacy } from './telemetry.privacy.js';

interface Instruments {
  sent: Counter;
  failed: Counter;
  rejected: Counter;
  suppressed: Counter;
  sendDuration: Histogram;
  attemptDuration: Histogram;
  retries: Counter;
  rateLimitWait: Histogram;
  webhookEvents: Counter;
  signatureFailures: Counter;
  bounces: Counter;
  queueJobs: ObservableGauge;
}

/** Bucket bounds for the duration histograms, in seconds: a fast API call to a slow retried send. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

const seconds = (ms: number) => ms / 1000;

/** A carrier for trace context in job data: `traceparent` and, when set, `tracestate`. */
export type TraceCarrier = Record<string, string>;

/** The fields of a failure log line. Never an address (unless configured), a subject, a body or a secret. */
export interface FailureLogRecord {
  event: 'mail.failed';
  transport: string;
  provider?: string;
  error: string;
  failure?: string;
  classification?: Pick<Classification, 'kind' | 'reason' | 'bounce' | 'retryable' | 'action' | 'status' | 'replyCode'>;
  attempts?: number;
  messageId?: string;
  recipients?: number;
  recipientDomains?: string[];
  recipientHashes?: string[];
}

function classificationOf(error: unknown): Classification | undefined {
  return error instanceof TransportError ? error.classification : undefined;
}

function errorType(error: unknown): string {
  if (error instanceof TransportError) return error.failure;
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string') return code;
  return error instanceof Error ? error.name : 'unknown';
}

function classificationAttributes(c: Classification | undefined, into: Attributes): Attributes {
  if (!c) return into;
  into[ATTR.kind] = c.kind;
  into[ATTR.reason] = c.reason;
  into[ATTR.retryable] = c.retryable;
  return into;
}

/** Everything a span may say about a failure: its type, classification and the codes; no text. */
/** Sets a failed span's error attributes and its ERROR status, naming the error's type, never its text. */
function markFailed(api: OtelApiModule, span: Span | undefined, error: unknown): void {
  if (!span) return;
  span.setAttributes(failureAttributes(error));
  span.setStatus({ code: api.SpanStatusCode.ERROR, message: errorType(error) });
}

function failureAttributes(error: unknown): Attributes {
  const attributes: Attributes = { [ATTR.errorType]: errorType(error) };
  const c = classificationOf(error);
  classificationAttributes(c, attributes);
  if (c) {
    attributes[ATTR.bounce] = c.bounce;
    attributes[ATTR.action] = c.action;
    if (c.status) attributes[ATTR.status] = c.status;
  }
  if (error instanceof TransportError) {
    if (error.provider) attributes[ATTR.provider] = error.provider;
    const reply = error.responseCode ?? c?.replyCode;
    if (reply !== undefined) attributes[ATTR.replyCode] = reply;
    if (error.statusCode !== undefined) attributes[ATTR.httpStatus] = error.statusCode;
  }
  return attributes;
}

/**
 * Spans and metrics of the mailer through `@opentelemetry/api`, and the fields of its failure log
 * line. Built once per application (the mailer runtime holds it); the service, the queue and the
 * webhook receiver call it. Without the API package, without an SDK, or turned off, its methods
 * return at once and `startSend` returns undefined, so the send path does no telemetry work.
 */
export class MailTelemetry {
  readonly privacy: TelemetryPrivacy;
  readonly logFailures: boolean;
  /** @internal */
  readonly api?: OtelApiModule;
  /** @internal */
  readonly tracer?: Tracer;
  /** @internal */
  readonly instruments?: Instruments;
  private readonly transportName: (name: string) => string;

  private constructor(options: MailerTelemetryOptions, api?: OtelApiModule) {
    this.privacy = new TelemetryPrivacy(options);
    this.logFailures = options.logFailures ?? true;
    this.transportName = options.metricTransportName ?? ((name) => name);
    if (!api) return;
    this.api = api;
    if (options.tracing !== false) {
      const provider = (options.tracerProvider ?? api.trace.getTracerProvider()) as { getTracer(name: string): Tracer };
      this.tracer = provider.getTracer(TELEMETRY_SCOPE);
    }
    if (options.metrics !== false) {
      const provider = (options.meterProvider ?? api.metrics.getMeterProvider()) as { getMeter(name: string): Meter };
      const meter = provider.getMeter(TELEMETRY_SCOPE);
      // The metrics API has no proxy: a meter taken before an SDK is registered stays a no-op.
      if (meter.constructor !== api.createNoopMeter().constructor) this.instruments = createInstruments(meter);
    }
  }

  /** Telemetry that records nothing (no API package, or `telemetry: false`); the failure log line still works. */
  static off(options: MailerTelemetryOptions = {}): MailTelemetry {
    return new MailTelemetry(options);
  }

  /**
   * Loads `@opentelemetry/api` when it is installed. `false` turns spans and metrics off; options
   * given while the package is missing are a configuration error naming the install command.
   */
  static async create(options: MailerTelemetryOptions | boolean | undefined, loader?: () => Promise<unknown>): Promise<MailTelemetry> {
    if (options === false) return MailTelemetry.off({ logFailures: true });
    const given = typeof options === 'object' && options !== null ? options : {};
    if (given.tracing === false && given.metrics === false) return MailTelemetry.off(given);
    const api = await loadOtelApi(typeof options === 'object' && options !== null, loader);
    return new MailTelemetry(given, api);
  }

  /** True when anything may be recorded: the API is loaded and tracing or metrics are on. */
  get enabled(): boolean {
    return this.tracer !== undefined || this.instruments !== undefined;
  }

  /** The `mailroom.transport` metric attribute for a transport name. */
  metricTransport(name: string): string {
    return this.transportName(name);
  }

  /** Starts the `mail.send` span of one send; undefined when nothing is recorded. */
  startSend(route: TransportIdentity, details: { tenant?: string; template?: string } = {}, name: string = SPAN_NAMES.send): SendTelemetry | undefined {
    const api = this.api;
    if (!api) return undefined;
    let span: Span | undefined;
    const parent = api.context.active();
    if (this.tracer) {
      const attributes: Attributes = { [ATTR.transport]: route.name, [ATTR.transportKind]: route.kind };
      if (details.tenant !== undefined) attributes[ATTR.tenant] = details.tenant;
      if (details.template !== undefined) attributes[ATTR.template] = details.template;
      const started = this.tracer.startSpan(name, { kind: api.SpanKind.INTERNAL, attributes }, parent);
      if (started.isRecording()) span = started;
    }
    if (!span && !this.instruments) return undefined;
    return new SendTelemetry(this, route, span, span ? api.trace.setSpan(parent, span) : parent);
  }

  /**
   * The attributes every send metric has, kept per transport, provider and outcome: the same few
   * objects are handed to the SDK on every send instead of new ones.
   */
  private readonly bases = new Map<string, Attributes>();

  private metricBase(route: TransportIdentity, provider: string | undefined, outcome?: string): Attributes {
    const kind = provider ?? route.kind;
    const key = `${route.name}\0${kind}\0${outcome ?? ''}`;
    let base = this.bases.get(key);
    if (!base) {
      base = { [ATTR.transport]: this.metricTransport(route.name), [ATTR.provider]: kind };
      if (outcome !== undefined) base[ATTR.outcome] = outcome;
      // Bounded by the transports and providers configured; a resolver's transports are folded by metricTransportName.
      if (this.bases.size < 10_000) this.bases.set(key, base);
    }
    return base;
  }

  private countRejected(route: TransportIdentity, rejected: readonly RejectedRecipient[], provider: string | undefined): void {
    const counter = this.instruments?.rejected;
    if (!counter) return;
    for (const r of rejected) counter.add(1, classificationAttributes(r.classification, { ...this.metricBase(route, provider) }));
  }

  /**
   * Metrics of a send that ended with a result: `held` recipients (the first of `rejected`) were
   * suppressed before it left; `ms` since it began.
   */
  countSent(route: TransportIdentity, result: SendResult, held: number, ms: number): void {
    const instruments = this.instruments;
    if (!instruments) return;
    const provider = result.attempts.at(-1)?.kind;
    if (result.attempts.length) instruments.sent.add(1, this.metricBase(route, provider));
    if (result.rejected.length > held) this.countRejected(route, result.rejected.slice(held), provider);
    instruments.sendDuration.record(seconds(ms), this.metricBase(route, provider, result.attempts.length ? 'sent' : 'suppressed'));
  }

  /** Metrics of a send that failed `ms` after it began; a cancelled send is not a failure. */
  countFailed(route: TransportIdentity, error: unknown, ms: number): void {
    const instruments = this.instruments;
    if (!instruments || error instanceof MailCancelledError) return;
    const provider = error instanceof TransportError ? (error.attempts?.at(-1)?.kind ?? error.provider) : undefined;
    const base = this.metricBase(route, provider);
    instruments.failed.add(1, classificationAttributes(classificationOf(error), { ...base, [ATTR.errorType]: errorType(error) }));
    if (error instanceof TransportError && error.rejected) this.countRejected(route, error.rejected, provider);
    instruments.sendDuration.record(seconds(ms), this.metricBase(route, provider, 'failed'));
  }

  /** Recipients the suppression list held back from a send through `route`. */
  countSuppressed(route: TransportIdentity, count: number): void {
    if (count) this.instruments?.suppressed.add(count, { [ATTR.transport]: this.metricTransport(route.name) });
  }

  /**
   * Runs `run` inside a span named `name` (child of the active one) when tracing records; the
   * span ends with `run`, marked failed when it throws.
   */
  async span<T>(name: string, attributes: Attributes, run: (span: Span | undefined) => Promise<T>): Promise<T> {
    const api = this.api;
    if (!api || !this.tracer) return run(undefined);
    const parent = api.context.active();
    const started = this.tracer.startSpan(name, { kind: api.SpanKind.INTERNAL, attributes }, parent);
    if (!started.isRecording()) return run(undefined);
    try {
      return await api.context.with(api.trace.setSpan(parent, started), () => run(started));
    } catch (error) {
      markFailed(api, started, error);
      throw error;
    } finally {
      started.end();
    }
  }

  /** @internal The attributes of an attempt's duration on `transport` (its own name and kind). */
  attemptBase(transport: TransportIdentity, outcome: string): Attributes {
    return this.metricBase({ name: transport.name, kind: transport.kind }, transport.kind, outcome);
  }

  /** The fields of the log line of a failed send. */
  failureLog(transport: string, error: Error, mail?: OutgoingMail): FailureLogRecord {
    const record: FailureLogRecord = { event: 'mail.failed', transport, error: (error as { code?: string }).code ?? error.name };
    if (error instanceof TransportError) {
      record.failure = error.failure;
      if (error.provider) record.provider = error.provider;
      const c = error.classification;
      if (c) {
        record.classification = { kind: c.kind, reason: c.reason, bounce: c.bounce, retryable: c.retryable, action: c.action };
        if (c.status) record.classification.status = c.status;
        const reply = error.responseCode ?? c.replyCode;
        if (reply !== undefined) record.classification.replyCode = reply;
      }
      if (error.attempts?.length) record.attempts = error.attempts.length;
    }
    if (mail) {
      if (this.privacy.messageId) record.messageId = mail.messageId;
      record.recipients = mail.envelope.to.length;
      const shown = this.privacy.showRecipients(mail.envelope.to);
      if (shown && this.privacy.recipients === 'domain') record.recipientDomains = shown;
      if (shown && this.privacy.recipients === 'hash') record.recipientHashes = shown;
    }
    return record;
  }

  /**
   * Runs an enqueue inside a `mail.enqueue` producer span, handing `add` the carrier to store
   * with the job (undefined when there is no trace to continue).
   */
  async enqueue<T>(queue: string, count: number, add: (carrier: TraceCarrier | undefined) => Promise<T>, jobIdOf?: (value: T) => string | undefined): Promise<T> {
    const api = this.api;
    if (!api) return add(undefined);
    const parent = api.context.active();
    const started = this.tracer?.startSpan(SPAN_NAMES.enqueue, {
      kind: api.SpanKind.PRODUCER,
      attributes: { [ATTR.messagingSystem]: 'bullmq', [ATTR.messagingOperation]: 'send', [ATTR.queueName]: queue, ...(count > 1 ? { [ATTR.batchSize]: count } : {}) },
    }, parent);
    const span = started?.isRecording() ? started : undefined;
    const ctx = span ? api.trace.setSpan(parent, span) : parent;
    const carrier: TraceCarrier = {};
    api.propagation.inject(ctx, carrier);
    try {
      const value = await api.context.with(ctx, () => add(Object.keys(carrier).length ? carrier : undefined));
      const jobId = span && jobIdOf ? jobIdOf(value) : undefined;
      if (jobId !== undefined) span!.setAttribute(ATTR.jobId, jobId);
      return value;
    } catch (error) {
      markFailed(api, span, error);
      throw error;
    } finally {
      span?.end();
    }
  }

  /** Runs a job's send inside a `mail.process` consumer span, continuing the trace in `carrier`. */
  async processJob<T>(queue: string, job: { id: string; attempt: number }, carrier: unknown, run: () => Promise<T>): Promise<T> {
    const api = this.api;
    if (!api) return run();
    let parent = api.context.active();
    if (carrier && typeof carrier === 'object') parent = api.propagation.extract(parent, carrier as TraceCarrier);
    const started = this.tracer?.startSpan(SPAN_NAMES.process, {
      kind: api.SpanKind.CONSUMER,
      attributes: { [ATTR.messagingSystem]: 'bullmq', [ATTR.messagingOperation]: 'process', [ATTR.queueName]: queue, [ATTR.jobId]: job.id, [ATTR.jobAttempt]: job.attempt },
    }, parent);
    const span = started?.isRecording() ? started : undefined;
    const ctx = span ? api.trace.setSpan(parent, span) : parent;
    try {
      return await api.context.with(ctx, run);
    } catch (error) {
      markFailed(api, span, error);
      throw error;
    } finally {
      span?.end();
    }
  }

  /**
   * Reports the job counts of a queue as the `mailroom.queue.jobs` gauge (by state) while it
   * runs; returns what stops it.
   */
  observeQueue(queue: string, counts: () => Promise<Record<string, number>>): () => void {
    const gauge = this.instruments?.queueJobs;
    if (!gauge) return () => undefined;
    const callback = async (result: { observe(value: number, attributes?: Attributes): void }) => {
      let found: Record<string, number>;
      try {
        found = await counts();
      } catch {
        return; // Redis away: no sample rather than a wrong one.
      }
      for (const state of ['waiting', 'active', 'delayed', 'failed', 'prioritized']) {
        if (typeof found[state] === 'number') result.observe(found[state], { [ATTR.queueName]: queue, [ATTR.queueState]: state });
      }
    };
    gauge.addCallback(callback);
    return () => gauge.removeCallback(callback);
  }

  /** Runs the handling of one webhook request inside a `mail.webhook` span. */
  async webhook<T extends { status: string; events?: DeliveryEvent[] }>(provider: string, run: () => Promise<T>): Promise<T> {
    const api = this.api;
    if (!api) return run();
    const parent = api.context.active();
    const started = this.tracer?.startSpan(SPAN_NAMES.webhook, { kind: api.SpanKind.INTERNAL, attributes: { [ATTR.provider]: provider } }, parent);
    const span = started?.isRecording() ? started : undefined;
    try {
      const outcome = await (span ? api.context.with(api.trace.setSpan(parent, span), run) : run());
      if (span) {
        span.setAttribute(ATTR.webhookOutcome, outcome.status);
        if (outcome.events) span.setAttribute('mailroom.webhook.events', outcome.events.length);
      }
      if (outcome.status === 'accepted' && outcome.events) this.webhookEvents(provider, outcome.events);
      return outcome;
    } catch (error) {
      markFailed(api, span, error);
      throw error;
    } finally {
      span?.end();
    }
  }

  private webhookEvents(provider: string, events: readonly DeliveryEvent[]): void {
    const counter = this.instruments?.webhookEvents;
    if (!counter) return;
    for (const event of events) {
      const attributes: Attributes = { [ATTR.provider]: provider, [ATTR.eventType]: event.type };
      if (event.classification) {
        attributes[ATTR.reason] = event.classification.reason;
        attributes[ATTR.bounce] = event.classification.bounce;
      }
      counter.add(1, attributes);
    }
  }

  /** A webhook request refused before parsing: a bad or missing signature, an expired timestamp. */
  signatureFailure(provider: string, reason: string): void {
    this.instruments?.signatureFailures.add(1, { [ATTR.provider]: provider, [ATTR.webhookReason]: reason });
    const span = this.api?.trace.getActiveSpan();
    if (span?.isRecording()) span.setAttribute(ATTR.webhookReason, reason);
  }

  /** Runs a bounce parse inside a `mail.bounce.parse` span and counts what it found. */
  async bounce(parse: () => Promise<BounceResult[]>): Promise<BounceResult[]> {
    const api = this.api;
    if (!api) return parse();
    const parent = api.context.active();
    const started = this.tracer?.startSpan(SPAN_NAMES.bounce, { kind: api.SpanKind.INTERNAL }, parent);
    const span = started?.isRecording() ? started : undefined;
    try {
      const results = await parse();
      if (span) {
        span.setAttribute(ATTR.bounceResults, results.length);
        const reasons = [...new Set(results.map((r) => r.classification.reason))].sort();
        if (reasons.length) span.setAttribute(ATTR.reason, reasons);
        const kinds = [...new Set(results.map((r) => r.classification.kind))].sort();
        if (kinds.length) span.setAttribute(ATTR.kind, kinds);
      }
      const counter = this.instruments?.bounces;
      if (counter) {
        for (const r of results) {
          counter.add(1, { [ATTR.kind]: r.classification.kind, [ATTR.reason]: r.classification.reason, [ATTR.bounce]: r.classification.bounce });
        }
      }
      return results;
    } catch (error) {
      markFailed(api, span, error);
      throw error;
    } finally {
      span?.end();
    }
  }
}

function createInstruments(meter: Meter): Instruments {
  const durations = { unit: 's', advice: { explicitBucketBoundaries: DURATION_BUCKETS } };
  return {
    sent: meter.createCounter(METRIC_NAMES.sent, { unit: '{mail}', description: 'Mails a transport accepted.' }),
    failed: meter.createCounter(METRIC_NAMES.failed, { unit: '{mail}', description: 'Sends that failed after their last attempt.' }),
    rejected: meter.createCounter(METRIC_NAMES.rejected, { unit: '{recipient}', description: 'Recipients a transport refused.' }),
    suppressed: meter.createCounter(METRIC_NAMES.suppressed, { unit: '{recipient}', description: 'Recipients left out because they are on the suppression list.' }),
    sendDuration: meter.createHistogram(METRIC_NAMES.sendDuration, { ...durations, description: 'One send, from render to the last attempt, retries and waits included.' }),
    attemptDuration: meter.createHistogram(METRIC_NAMES.attemptDuration, { ...durations, description: 'One attempt on one transport.' }),
    retries: meter.createCounter(METRIC_NAMES.retries, { unit: '{retry}', description: 'Retries the retry policy scheduled.' }),
    rateLimitWait: meter.createHistogram(METRIC_NAMES.rateLimitWait, { ...durations, description: 'Time a send waited for its transport\'s rate limit.' }),
    webhookEvents: meter.createCounter(METRIC_NAMES.webhookEvents, { unit: '{event}', description: 'Delivery events received from provider webhooks.' }),
    signatureFailures: meter.createCounter(METRIC_NAMES.signatureFailures, { unit: '{request}', description: 'Webhook requests refused before parsing (signature, token, timestamp).' }),
    bounces: meter.createCounter(METRIC_NAMES.bounces, { unit: '{recipient}', description: 'Recipients found in parsed bounce mails (DSN, ARF).' }),
    queueJobs: meter.createObservableGauge(METRIC_NAMES.queueJobs, { unit: '{job}', description: 'Jobs in the mail queue, by state.' }),
  };
}

/** One level of a send's trace: the send itself, or an attempt whose transport tries others. */
class TraceLevel implements SendTrace {
  private tries = 0;
  /** Set once an attempt was made under this level: this level's transport delegated. */
  delegated = false;

  constructor(private readonly send: SendTelemetry, readonly ctx: Context, private readonly nested: boolean) {}

  async attempt(transport: TransportIdentity, run: (inner: SendTrace) => Promise<TransportResult>): Promise<TransportResult> {
    this.delegated = true;
    const number = ++this.tries;
    const { telemetry, root } = this.send;
    const api = telemetry.api!;
    const began = performance.now();
    let span: Span | undefined;
    if (root) {
      span = telemetry.tracer!.startSpan(SPAN_NAMES.attempt, {
        kind: this.nestedKind(transport) ? api.SpanKind.INTERNAL : api.SpanKind.CLIENT,
        attributes: {
          [ATTR.transport]: transport.name,
          [ATTR.transportKind]: transport.kind,
          [this.nested ? ATTR.hop : ATTR.attemptNumber]: this.nested ? number - 1 : number,
        },
      }, this.ctx);
    }
    const inner = new TraceLevel(this.send, span ? api.trace.setSpan(this.ctx, span) : this.ctx, true);
    try {
      const result = await (span ? api.context.with(inner.ctx, () => run(inner)) : run(inner));
      if (span) {
        span.setAttribute(ATTR.outcome, 'sent');
        if (result.rejected.length) span.setAttribute(ATTR.rejected, result.rejected.length);
        span.end();
      }
      if (!inner.delegated) this.send.recordAttempt(transport, began, 'sent');
      return result;
    } catch (error) {
      if (span) {
        span.setAttribute(ATTR.outcome, 'failed');
        markFailed(api, span, error);
        span.end();
      }
      if (!inner.delegated) this.send.recordAttempt(transport, began, 'failed', error);
      throw error;
    }
  }

  private nestedKind(transport: TransportIdentity): boolean {
    return transport.kind === 'failover' || transport.kind === 'roundrobin';
  }

  retryWait(delay: number, attempt: number, error: unknown): void {
    this.send.retryWait(delay, attempt, error);
  }

  rateLimitWait(ms: number): void {
    this.send.rateLimitWait(ms);
  }
}

/** The telemetry of one send: its `mail.send` span (when recording) and its metrics. */
export class SendTelemetry {
  private readonly began = performance.now();
  private readonly top: TraceLevel;
  private mail?: OutgoingMail;
  private held = 0;
  private ended = false;

  constructor(
    readonly telemetry: MailTelemetry,
    private readonly route: TransportIdentity,
    /** The `mail.send` span; undefined when only metrics are recorded. */
    readonly root: Span | undefined,
    private readonly ctx: Context,
  ) {
    this.top = new TraceLevel(this, ctx, false);
  }

  /** What the transports are handed: attempts, retry waits and rate-limit waits report here. */
  get trace(): SendTrace {
    return this.top;
  }

  /** Runs `fn` with the send's span as the active one, so that what it starts nests under it. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    return this.root ? this.telemetry.api!.context.with(this.ctx, fn) : fn();
  }

  /** A step of the send (`mail.render`, `mail.compose`) as a child span. */
  async step<T>(name: string, fn: () => Promise<T>): Promise<T> {
    if (!this.root) return fn();
    const api = this.telemetry.api!;
    const span = this.telemetry.tracer!.startSpan(name, { kind: api.SpanKind.INTERNAL }, this.ctx);
    try {
      return await api.context.with(api.trace.setSpan(this.ctx, span), fn);
    } catch (error) {
      markFailed(api, span, error);
      throw error;
    } finally {
      span.end();
    }
  }

  /** The mail that is about to leave: its id and recipients, as far as the privacy options allow. */
  describe(mail: OutgoingMail): void {
    this.mail = mail;
    const span = this.root;
    if (!span) return;
    const { privacy } = this.telemetry;
    const attributes: Attributes = { [ATTR.recipientCount]: mail.envelope.to.length };
    if (privacy.messageId) attributes[ATTR.messageId] = mail.messageId;
    const shown = privacy.showRecipients(mail.envelope.to);
    if (shown) attributes[privacy.recipients === 'domain' ? ATTR.recipientDomains : ATTR.recipientHashes] = shown;
    const subject = privacy.showSubject(mail.subject);
    if (subject) attributes[ATTR.subjectHash] = subject;
    span.setAttributes(attributes);
  }

  /** Recipients the suppression list held back. */
  suppressed(held: readonly RejectedRecipient[]): void {
    if (!held.length) return;
    this.held += held.length;
    this.telemetry.countSuppressed(this.route, held.length);
  }

  /** @internal */
  recordAttempt(transport: TransportIdentity, began: number, outcome: 'sent' | 'failed', error?: unknown): void {
    const histogram = this.telemetry.instruments?.attemptDuration;
    if (!histogram) return;
    let attributes = this.telemetry.attemptBase(transport, outcome);
    if (error !== undefined) {
      attributes = { ...attributes, [ATTR.errorType]: errorType(error) };
      const c = classificationOf(error);
      if (c) attributes[ATTR.reason] = c.reason;
    }
    histogram.record(seconds(performance.now() - began), attributes);
  }

  /** @internal */
  retryWait(delay: number, attempt: number, error: unknown): void {
    const c = classificationOf(error);
    this.root?.addEvent('mail.retry', {
      [ATTR.attemptNumber]: attempt,
      [ATTR.retryDelay]: seconds(delay),
      [ATTR.errorType]: errorType(error),
      ...(c ? { [ATTR.reason]: c.reason } : {}),
    });
    const attributes: Attributes = { [ATTR.transport]: this.telemetry.metricTransport(this.route.name), [ATTR.errorType]: errorType(error) };
    if (c) attributes[ATTR.reason] = c.reason;
    this.telemetry.instruments?.retries.add(1, attributes);
  }

  /** @internal */
  rateLimitWait(ms: number): void {
    this.root?.addEvent('mail.ratelimit.wait', { [ATTR.waitDuration]: seconds(ms) });
    this.telemetry.instruments?.rateLimitWait.record(seconds(ms), { [ATTR.transport]: this.telemetry.metricTransport(this.route.name) });
  }

  /** The send delivered (or every recipient was suppressed); ends the span. */
  sent(result: SendResult): void {
    if (this.ended) return;
    this.ended = true;
    const refused = result.rejected.length - this.held;
    this.telemetry.countSent(this.route, result, this.held, performance.now() - this.began);
    const span = this.root;
    if (!span) return;
    const attributes: Attributes = {
      [ATTR.outcome]: result.attempts.length ? 'sent' : 'suppressed',
      [ATTR.accepted]: result.accepted.length,
      [ATTR.attempts]: result.attempts.length,
      [ATTR.deliveredBy]: result.transport,
    };
    if (refused > 0) attributes[ATTR.rejected] = refused;
    if (this.held) attributes[ATTR.suppressed] = this.held;
    if (!this.mail && this.telemetry.privacy.messageId) attributes[ATTR.messageId] = result.messageId;
    // The provider's id, which its webhooks report: what joins a delivery event to this send.
    if (result.providerMessageId && this.telemetry.privacy.messageId) attributes[ATTR.providerMessageId] = result.providerMessageId;
    span.setAttributes(attributes);
    span.end();
  }

  /** The send failed (or was cancelled before leaving); ends the span. */
  failed(error: unknown): void {
    if (this.ended) return;
    this.ended = true;
    const api = this.telemetry.api!;
    const cancelled = error instanceof MailCancelledError;
    this.telemetry.countFailed(this.route, error, performance.now() - this.began);
    const span = this.root;
    if (!span) return;
    if (cancelled) {
      span.setAttribute(ATTR.outcome, 'cancelled');
    } else {
      span.setAttribute(ATTR.outcome, 'failed');
      if (error instanceof TransportError && error.attempts) span.setAttribute(ATTR.attempts, error.attempts.length);
      markFailed(api, span, error);
    }
    span.end();
  }
}
