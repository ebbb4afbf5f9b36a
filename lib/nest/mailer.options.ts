import type { AddressInput, AddressListInput } from '../core/mail.types.js';
import type { TemplateRenderer } from '../templates/template-renderer.types.js';
import type { HandlebarsTemplateOptions } from '../templates/handlebars-renderer.options.js';
import type { SuppressionPolicyOptions } from '../suppression/suppression.policy.js';
import type { SuppressionStore } from '../suppression/suppression.types.js';
import type { RedisSuppressionStoreOptions } from '../suppression/redis-suppression.store.js';
import type { SuppressionCircuitOptions, SuppressionUnavailableMode } from '../suppression/suppression.circuit.js';
import type { AttachmentPolicy } from '../transports/mail.compose.js';
import type { RateLimiter, RateLimitOptions } from '../retry/rate-limiter.js';
import type { RetryOptions } from '../retry/retry.options.js';
import type { Type } from '@nestjs/common';
import type { OptionHints, OptionShape } from '../errors/option.checker.js';
import type { MailInterceptor } from './mail-interceptor.js';
import type { TransportConfig } from '../transports/transport.config.js';
import type { IncumbentRuntimeOptions, IncumbentTemplateOptions } from './incumbent-options.compat.js';
import type { MailerTransportCacheOptions, TransportResolver } from './transport-resolver.types.js';
import type { MailerLocaleOptions } from './mail-locale.js';
import type { MailerTelemetryOptions } from '../telemetry/telemetry.options.js';

export interface MailerModuleOptions {
  /**
   * One transport, registered under the name `default`: a URL (`smtp://user:pass@host:587`,
   * `smtps://…`, `memory://`, `postmark+api://TOKEN@default`, `sendgrid+api://KEY@default`,
   * `ses+api://default?region=eu-west-1`, `mailgun+api://KEY:DOMAIN@default`,
   * `resend+api://KEY@default`, `failover(URL URL …)`, `roundrobin(URL URL …)`), an options object
   * with a `type`, or a Transport instance. See docs/transports.md.
   */
  transport?: TransportConfig;
  /** Several named transports (`{ default: 'smtps://…', bulk: { … } }`). Use with or instead of `transport`. */
  transports?: Record<string, TransportConfig>;
  /** Name of the transport used when a send names none. Default: `default`, else the first one. */
  defaultTransport?: string;
  /**
   * Chooses the transport of each send, for an application that sends for many tenants with
   * their own mail accounts: `(mail, { tenant, transport }) => name | URL | options | { name,
   * transport, retry, rateLimit, suppressionScope } | undefined`, sync or async. `tenant` is what
   * the send named (`send(mail, { tenant })`) and travels with queued mail. Answers are checked as
   * start-up configuration is; transports built from URLs and options stay open for later sends,
   * within `transportCache`. `undefined` sends as without a resolver. See the README's "Many tenants".
   */
  transportResolver?: TransportResolver;
  /**
   * Bounds on the transports opened for `transportResolver`'s answers: `max` open at once (default
   * 100; the least recently used is closed first) and `idleTimeout` (default 300 000 ms) before
   * an unused one is closed. A transport is closed only once its sends in flight are done.
   */
  transportCache?: MailerTransportCacheOptions;
  /** Values applied to every mail that does not set them. */
  defaults?: {
    from?: AddressInput;
    replyTo?: AddressListInput;
    headers?: Record<string, string>;
  };
  /** Handlebars templates (`{ dir: 'templates', … }`), or `{ renderer }` for a renderer of your own. */
  templates?: HandlebarsTemplateOptions | { renderer: TemplateRenderer };
  /**
   * Localized mail: the locale of a mail that names none (`default`, `resolve(mail)`, or the
   * request's with nestjs-i18n) and where `{{t}}` finds translations (`translations`:
   * `'nestjs-i18n'`, `'i18next'`, an i18next instance or a function). See "Localized mail" in the README.
   */
  locale?: MailerLocaleOptions;
  /** Whether mails may attach local files or URLs by path. Both are off by default. */
  attachments?: AttachmentPolicy;
  /**
   * The suppression list: recipients that hard-bounced or complained are left out of later sends
   * and reported as rejected with reason `suppressed`. Default: on, kept in memory. `false` turns
   * it off; `{ store }` takes any SuppressionStore, `{ redis: { url } }` shares one list between
   * instances (needs ioredis). `policy` chooses what gets suppressed and for how long.
   */
  suppression?: false | {
    store?: SuppressionStore;
    redis?: RedisSuppressionStoreOptions;
    policy?: SuppressionPolicyOptions;
    /**
     * What a send does while the store does not answer (Redis down, say). `'send'` (default): the
     * mail goes out without the list — only addresses this process learned during the outage are
     * left out — because a missed suppression costs less than mail that stops. `'fail'`: the send
     * rejects with SuppressionUnavailableError and nothing leaves; a queue worker keeps the job
     * for a later attempt. Either way hard bounces and complaints learned meanwhile are kept in
     * memory and written when the store answers again. See docs/suppression.md.
     */
    onUnavailable?: SuppressionUnavailableMode;
    /** Timeout of store calls on the send path, probing of a store that failed, buffer size. */
    circuit?: SuppressionCircuitOptions;
  };
  /**
   * Publish mail.sending / mail.sent / mail.failed through @nestjs/event-emitter when its
   * EventEmitterModule is present. Default true.
   */
  eventEmitter?: boolean;
  /**
   * Retrying a send that failed for a transient reason (a 4xx reply, a dropped connection, a
   * timeout, HTTP 429 or 5xx): exponential backoff with jitter, Retry-After honoured. On by default
   * (`limit: 2`, backoff 1 s → 2 s, at most 30 s, deadline 60 s); `false` turns it off.
   * `transports` sets or overrides options per transport name (`false` turns it off for one);
   * `send(mail, { retry })` overrides both for one send. See docs/retry.md.
   */
  retry?: false | MailerRetryOptions;
  /**
   * A send-rate limit per transport, as a token bucket: the top-level values apply to every
   * transport (each gets its own bucket), `transports` sets them per name — options, a
   * RateLimiter of your own (e.g. one shared through Redis), or `false` for none. Whether or not a
   * rate is set, a transport told to slow down (SMTP 421 4.7.0, HTTP 429) pauses for the
   * Retry-After it was given, and a configured rate is halved for a cool-down period.
   */
  rateLimit?: MailerRateLimitOptions;
  /**
   * Before-send hooks run in order on every mail (after rendering, before mail.sending): each may
   * rewrite the mail or cancel it. Instances, or classes resolved from the module's injector
   * (created when they are not providers). `StagingRedirectInterceptor` is one.
   */
  interceptors?: Array<MailInterceptor | Type<MailInterceptor>>;
  /**
   * OpenTelemetry spans and metrics, and the log line of a failed send. On by default when
   * `@opentelemetry/api` is installed (and costs nothing until an SDK is registered); `false` turns
   * spans and metrics off. No address, subject or body is recorded unless `recipients` / `subject`
   * say so. See "Observability" in the README.
   */
  telemetry?: boolean | MailerTelemetryOptions;
  /**
   * `@nestjs-modules/mailer`'s name, understood so that its configuration moves over unchanged:
   * `dir` is `templates.dir`, `options.strict` is `templates.strict`, a `HandlebarsAdapter` gives
   * its helpers. Other adapters, `dirs` and `resolver` are refused at start-up with the
   * replacement. Prefer `templates`.
   */
  template?: IncumbentTemplateOptions;
  /**
   * `@nestjs-modules/mailer`'s name: `partials.dir` is `templates.partialsDir`, `layout:
   * 'layouts/main'` is `templates.defaultLayout: 'main'`, `helpers` is `templates.helpers`.
   * Prefer `templates`.
   */
  options?: IncumbentRuntimeOptions;
  /** `@nestjs-modules/mailer`'s name: `false` is accepted; a preview is not supported yet and is refused. */
  preview?: boolean | Record<string, unknown>;
}

/** The keys of MailerModuleOptions and their types, checked at start-up. */
export const MAILER_OPTION_SHAPE = {
  transport: ['string', 'object'],
  transports: 'object',
  defaultTransport: 'string',
  transportResolver: 'function',
  transportCache: 'object',
  defaults: 'object',
  templates: 'object',
  locale: 'object',
  attachments: 'object',
  suppression: ['boolean', 'object'],
  eventEmitter: 'boolean',
  retry: ['boolean', 'object'],
  rateLimit: 'object',
  interceptors: 'array',
  telemetry: ['boolean', 'object'],
  template: 'object',
  options: 'object',
  preview: ['boolean', 'object'],
} as const satisfies OptionShape<MailerModuleOptions>;

const EXTRA_HINT = 'is a module extra, not an option: give it to forRootAsync({ isGlobal, mailers, useFactory, … }) next to useFactory, not in what the factory returns.';

/** Names people bring from `@nestjs-modules/mailer` and nodemailer, each with what to write instead. */
export const MAILER_HINTS: OptionHints = {
  isGlobal: EXTRA_HINT,
  mailers: EXTRA_HINT,
  i18n: '(@nestjs-modules/mailer) is written locale here: locale: { default, resolve, translations } (see "Localized mail").',
  verifyTransporters: '(@nestjs-modules/mailer) is not supported: check transports with MailerHealthIndicator, or call mailer.verify(name) in onApplicationBootstrap to fail start-up.',
  plugins: "(@nestjs-modules/mailer) is not supported: nodemailer plugins do not run here; change or cancel mails with interceptors (MailInterceptor), and sign with the transport's dkim option.",
  sendTimeout: "(@nestjs-modules/mailer) is not supported: one attempt is bounded by the transport's timeouts (SMTP socketTimeout, ?timeout= on API URLs), all attempts by retry.deadline.",
  transporter: 'is written transport here.',
  tracing: 'is written telemetry: { tracing } here.',
  metrics: 'is written telemetry: { metrics } here.',
  opentelemetry: 'is written telemetry here.',
};

export const DEFAULTS_SHAPE = {
  from: ['string', 'object'],
  replyTo: ['string', 'object', 'array'],
  headers: 'object',
} as const satisfies OptionShape<NonNullable<MailerModuleOptions['defaults']>>;

const PER_MAIL = 'is not a default here (defaults are from, replyTo and headers); set it on each mail.';

export const DEFAULTS_HINTS: OptionHints = Object.fromEntries(
  ['to', 'cc', 'bcc', 'subject', 'text', 'html', 'attachments', 'priority', 'list', 'envelope', 'messageId', 'date', 'sender',
    'inReplyTo', 'references', 'template', 'context', 'tags', 'metadata', 'listUnsubscribe'].map((key) => [key, PER_MAIL]),
);

export const ATTACHMENT_POLICY_SHAPE = {
  allowFilePaths: 'boolean',
  allowUrls: 'boolean',
  urlTimeout: 'number',
} as const satisfies OptionShape<AttachmentPolicy>;

export const SUPPRESSION_OPTION_SHAPE = {
  store: 'object',
  redis: 'object',
  policy: 'object',
  onUnavailable: 'string',
  circuit: 'object',
} as const satisfies OptionShape<Exclude<NonNullable<MailerModuleOptions['suppression']>, false>>;

/** Module-wide retry options plus per-transport ones. */
export interface MailerRetryOptions extends RetryOptions {
  /** Options per transport name, laid over the module-wide ones; `false` turns retrying off for it. */
  transports?: Record<string, RetryOptions | false>;
}

/** A rate for every transport plus per-transport ones. */
export interface MailerRateLimitOptions extends Omit<RateLimitOptions, 'clock'> {
  /** Per transport name: options laid over the top-level ones, a RateLimiter, or `false` for none. */
  transports?: Record<string, Omit<RateLimitOptions, 'clock'> | RateLimiter | false>;
  /** For tests; shared by every bucket this creates. */
  clock?: RateLimitOptions['clock'];
}

/** Options that shape the module itself rather than the mailer. */
export interface MailerModuleExtras {
  /** Register the module globally. Default false. */
  isGlobal?: boolean;
  /**
   * Transport names that get an injectable mailer bound to them (`@InjectMailer('bulk')`). With
   * `forRoot` the names of `transports` are registered on their own.
   */
  mailers?: string[];
}
