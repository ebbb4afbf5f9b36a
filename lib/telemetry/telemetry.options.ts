import { MailerConfigurationError } from '../errors/mailer.error.js';
import { checkOptions, type OptionShape } from '../errors/option.checker.js';

/** How recipient addresses appear on spans and in the failure log line. */
export type TelemetryRecipients = 'none' | 'domain' | 'hash';

/**
 * Traces, metrics and the failure log line. Spans and metrics go through `@opentelemetry/api`
 * (install it, and an SDK, to get them); without the package, or without an SDK registered,
 * nothing is recorded and the send path does no telemetry work. Nothing personal leaves by
 * default: no address, subject or body is put on a span, a metric or a log line unless asked.
 */
export interface MailerTelemetryOptions {
  /** Spans (`mail.send` and its children, `mail.enqueue`, `mail.process`, webhooks, bounces). Default true. */
  tracing?: boolean;
  /** Counters and histograms (`mailroom.*`). Default true. */
  metrics?: boolean;
  /**
   * Recipients on the `mail.send` span and the failure log line: `'none'` (default) gives only their
   * count; `'domain'` their domains (`example.com`); `'hash'` a keyed SHA-256 of each normalized
   * address (with `hashKey`), to match a complaint to a send without storing the address. Metrics
   * never carry recipients.
   */
  recipients?: TelemetryRecipients;
  /** `'hash'` puts a keyed SHA-256 of the subject on the `mail.send` span. Default `'none'`. */
  subject?: 'none' | 'hash';
  /**
   * The key of the `'hash'` options (HMAC-SHA-256). Without one the hash is plain SHA-256, which
   * anyone holding a list of addresses can reverse; set a secret of your own.
   */
  hashKey?: string;
  /** The Message-ID on spans and the failure log line (`mailroom.message.id`). Default true. */
  messageId?: boolean;
  /**
   * The value of the `mailroom.transport` metric attribute for a transport name. Default: the
   * name. With a `transportResolver` that opens a transport per tenant, map those names to a few
   * groups (`(name) => name.startsWith('tenant-') ? 'tenant' : name`) to keep series bounded.
   */
  metricTransportName?: (name: string) => string;
  /**
   * One structured log line per failed send through Nest's Logger (`MailerService` context):
   * `error` when the failure is permanent, `warn` when it is transient. Default true.
   */
  logFailures?: boolean;
  /** A TracerProvider to use instead of the global one (`trace.getTracerProvider()`). */
  tracerProvider?: { getTracer(name: string, version?: string): unknown };
  /** A MeterProvider to use instead of the global one (`metrics.getMeterProvider()`). */
  meterProvider?: { getMeter(name: string, version?: string): unknown };
}

export const TELEMETRY_OPTION_SHAPE = {
  tracing: 'boolean',
  metrics: 'boolean',
  recipients: 'string',
  subject: 'string',
  hashKey: 'string',
  messageId: 'boolean',
  metricTransportName: 'function',
  logFailures: 'boolean',
  tracerProvider: 'object',
  meterProvider: 'object',
} as const satisfies OptionShape<MailerTelemetryOptions>;

/** Checks `telemetry` options at start-up; unknown keys and wrong values are configuration errors. */
export function checkTelemetryOptions(options: unknown, where = 'MailerModule: telemetry'): void {
  if (options === undefined || options === false) return;
  if (options === true) return;
  checkOptions(options, TELEMETRY_OPTION_SHAPE, where, {
    privacy: 'is written recipients / subject / messageId here.',
    addresses: 'is written recipients here.',
    logs: 'is written logFailures here.',
  });
  const { recipients, subject } = options as MailerTelemetryOptions;
  if (recipients !== undefined && !['none', 'domain', 'hash'].includes(recipients)) {
    throw new MailerConfigurationError(`${where}.recipients: expected 'none', 'domain' or 'hash', got ${JSON.stringify(recipients)}.`);
  }
  if (subject !== undefined && !['none', 'hash'].includes(subject)) {
    throw new MailerConfigurationError(`${where}.subject: expected 'none' or 'hash', got ${JSON.stringify(subject)}.`);
  }
}
