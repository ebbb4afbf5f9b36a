import { performance } from 'node:perf_hooks';
import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { findEventEmitter, publishEvent, type EventSink } from './event-emitter.js';
import { Subject, type Observable } from 'rxjs';
import { MAIL_EVENTS, SUPPRESSION_EVENTS, type MailEvent, type MailSendingEvent } from '../core/events.types.js';
import type { Mail, OutgoingMail } from '../core/mail.types.js';
import type { RejectedRecipient, SendAttempt, SendResult, TransportBatchOutcome, TransportResult } from '../core/send-result.types.js';
import type { Transport } from '../core/transport.types.js';
import {
  InvalidMailError, MailCancelledError, MailerConfigurationError, SuppressionUnavailableError, TransportError, type MailerError,
} from '../errors/mailer.error.js';
import { redact } from '../errors/redact.js';
import { checkSuppressionScope } from '../suppression/suppression.scope.js';
import { parseBounce, type BounceResult } from '../bounces/index.js';
import type { DeliveryEvent } from '../core/delivery-event.types.js';
import { normalizeAddress } from '../suppression/suppression.address.js';
import { entriesToSuppress, suppressedRejection } from '../suppression/suppression.policy.js';
import type { SuppressionSource, SuppressionStore } from '../suppression/suppression.types.js';
import type { RenderedMail, RenderOptions } from '../templates/template-renderer.types.js';
import { mapWithConcurrency } from '../transports/http/concurrency.js';
import { composeMail } from '../transports/mail.compose.js';
import { assertSafeMail } from '../transports/mail.check.js';
import { DEFAULT_SEND_CONCURRENCY, sendThrough } from '../transports/transport-batch.js';
import { failedAttempt, normalizeTransportFailure } from '../transports/transport-failure.js';
import { limitedTransport } from '../retry/rate-limited.transport.js';
import { RetryPolicy } from '../retry/retry.policy.js';
import type { RetryOptions } from '../retry/retry.options.js';
import { sendWithRetry } from '../retry/retry-send.js';
import { isRetryableFailure } from '../retry/retry.decision.js';
import type { TransportConfig } from '../transports/transport.config.js';
import { keepTemplateContext } from './mail-context.js';
import { checkedLocale, MailLocales } from './mail-locale.js';
import type { MailInterceptor } from './mail-interceptor.js';
import { toIncumbentMail, type IncumbentSendMailOptions, type IncumbentSentMessageInfo } from './incumbent.compat.js';
import type { MailerRuntime } from './mailer.runtime.js';
import { MAILER_RUNTIME } from './mailer.tokens.js';
import type { AddTransportOptions } from './transport-resolver.types.js';
import type { TransportLease, TransportRoute } from './transport.route.js';
import { ATTR, SPAN_NAMES } from '../telemetry/telemetry.names.js';
import type { SendTelemetry } from '../telemetry/mail.telemetry.js';

export interface SendOptions {
  /**
   * Name of a configured or added transport; default: the module's default transport. With a
   * `transportResolver`, it is passed to the resolver, which may answer otherwise.
   */
  transport?: string;
  /**
   * Whom the mail is sent for, handed to the module's `transportResolver` to choose the
   * transport (refused without one). It travels with a queued mail, so a worker chooses alike.
   */
  tenant?: string;
  /**
   * Retry options for this send, laid over the module's and the transport's; `false` sends once.
   * See docs/retry.md.
   */
  retry?: false | RetryOptions;
  /** Stops retrying (a wait in progress ends at once) and aborts an HTTP API request in flight. */
  signal?: AbortSignal;
}

export interface SendBatchOptions extends Omit<SendOptions, 'signal'> {
  /**
   * Mails prepared (rendered, composed, passed through mail.sending) at once, and mails in flight
   * at once when the transport has no `sendBatch` of its own. Default 8.
   */
  concurrency?: number;
}

/** The outcome of one mail of `sendBatch`, in input order. */
export type BatchSendResult =
  | { ok: true; result: SendResult }
  | {
      ok: false;
      /**
       * InvalidMailError, a template error, MailCancelledError or SuppressionUnavailableError
       * before sending; TransportError after.
       */
      error: Error;
      /** Attempts made when the transport (a failover or round-robin) tried several ways. */
      attempts?: SendAttempt[];
    };

/** A mailer bound to one transport (see `MailerService.use()` and `@InjectMailer()`). */
export interface BoundMailer {
  readonly transport: string;
  send(mail: Mail): Promise<SendResult>;
  sendBatch(mails: Mail[], options?: Omit<SendBatchOptions, 'transport'>): Promise<BatchSendResult[]>;
  render(template: string, context?: Record<string, unknown>, options?: RenderOptions): Promise<RenderedMail>;
  verify(): Promise<void>;
}

@Injectable()
export class MailerService implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger('MailerService');
  private readonly subject = new Subject<MailEvent>();
  private eventSink?: EventSink;
  private closing?: Promise<void>;
  private interceptors: MailInterceptor[] = [];
  private locales?: MailLocales;

  /**
   * mail.sending, mail.sent and mail.failed as they happen, and suppression.unavailable /
   * suppression.available when the suppression store stops and starts answering. Subscribers run
   * synchronously.
   */
  readonly events$: Observable<MailEvent> = this.subject.asObservable();

  constructor(
    @Inject(MAILER_RUNTIME) private readonly runtime: MailerRuntime,
    private readonly moduleRef: ModuleRef,
  ) {
    this.watchSuppression();
  }

  /** One log line and one event when the suppression store goes away, and when it is back. */
  private watchSuppression(): void {
    const circuit = this.runtime.suppression?.circuit;
    if (!circuit) return;
    const onUnavailable = circuit.onUnavailable;
    circuit.observe({
      unavailable: (error, since) => {
        const consequence = onUnavailable === 'fail'
          ? "sends are refused with SuppressionUnavailableError until it answers (onUnavailable: 'fail')"
          : 'sends go out without it until it answers; what is learned meanwhile is kept in memory';
        this.logger.warn(redact(`The suppression list is unavailable (${error.message}): ${consequence}.`));
        this.publish({ type: SUPPRESSION_EVENTS.unavailable, error, onUnavailable, since });
      },
      available: ({ downtime, written, dropped }) => {
        const lost = dropped ? `; ${dropped} more could not be kept (buffer full) and are not on the list` : '';
        this.logger.log(`The suppression list answers again after ${(downtime / 1000).toFixed(1)} s; ${written} entr${written === 1 ? 'y' : 'ies'} learned meanwhile written${lost}.`);
        this.publish({ type: SUPPRESSION_EVENTS.available, downtime, written, dropped });
      },
      overflow: (max) => {
        this.logger.warn(`The suppression list is still unavailable and ${max} addresses learned meanwhile are waiting: more are dropped (counted) until it answers.`);
      },
    });
  }

  async onModuleInit(): Promise<void> {
    await this.resolveInterceptors();
    this.locales = await MailLocales.create(this.runtime.options.locale, this.moduleRef);
    if (this.runtime.options.eventEmitter === false) return;
    this.eventSink = await findEventEmitter(this.moduleRef);
  }

  /** Interceptor classes come from the injector when they are providers, else they are created. */
  private async resolveInterceptors(): Promise<void> {
    const configured = this.runtime.options.interceptors ?? [];
    if (!Array.isArray(configured)) throw new MailerConfigurationError('interceptors: expected an array.');
    const resolved: MailInterceptor[] = [];
    for (const entry of configured) {
      let instance: unknown = entry;
      if (typeof entry === 'function') {
        try {
          instance = this.moduleRef.get(entry, { strict: false });
        } catch {
          instance = await this.moduleRef.create(entry);
        }
      }
      if (!instance || typeof (instance as MailInterceptor).intercept !== 'function') {
        throw new MailerConfigurationError('interceptors: every entry must be a MailInterceptor (an object or class with intercept(mail, context)).');
      }
      resolved.push(instance as MailInterceptor);
    }
    this.interceptors = resolved;
  }

  /**
   * Runs after every module's onModuleDestroy, so a queue worker or anything else still sending
   * while its own module shuts down finishes before the connections close.
   */
  async beforeApplicationShutdown(): Promise<void> {
    await this.close();
  }

  /** Closes pooled connections and template watchers. Later sends fail. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.subject.complete();
      const { registry, renderer, suppression } = this.runtime;
      await registry.close();
      await renderer?.close();
      if (suppression) {
        const lost = await suppression.circuit.close();
        if (lost) this.logger.error(`${lost} suppression entr${lost === 1 ? 'y' : 'ies'} learned while the list was unavailable could not be written before shutdown.`);
      }
      if (suppression?.owned) await suppression.store.close();
    })();
    return this.closing;
  }

  /** Names of the configured transports and of those added with `addTransport()`. */
  get transportNames(): string[] {
    return this.runtime.registry.names();
  }

  /**
   * The transport object behind a name — configured, added, or opened for a `transportResolver`
   * answer and still open — e.g. to read `MemoryTransport.sent` in tests.
   */
  getTransport<T extends Transport = Transport>(name = this.runtime.defaultTransport): T {
    const route = this.runtime.registry.find(name);
    if (!route) {
      throw new MailerConfigurationError(`No transport named "${name}". Configured: ${this.runtime.registry.shownNames()}.`);
    }
    return route.transport as T;
  }

  /**
   * Adds a transport while the application runs — a tenant's own mail account, say — under a name
   * sends can give (`send(mail, { transport: name })`, `use(name)`) and a `transportResolver` can
   * answer. The configuration is checked as start-up configuration is, with the same
   * MailerConfigurationError, and nothing is added when it fails: a name that is taken or
   * invalid, a URL or options that cannot work. `options` sets retry, rate limit and suppression
   * scope for it; the module's top-level retry and rate-limit values apply underneath. Nothing is
   * opened until the first send (or `verify(name)`).
   */
  addTransport(name: string, transport: TransportConfig, options?: AddTransportOptions): void {
    this.runtime.registry.add(name, transport, options);
  }

  /**
   * Removes a transport: sends that name it fail from now on, and its connections close once the
   * sends it has in flight — retries included — are done; resolves then. Works for configured,
   * added and resolver-opened transports; the default transport cannot be removed.
   */
  removeTransport(name: string): Promise<void> {
    return this.runtime.registry.remove(name);
  }

  /** A mailer that sends through `transport` unless a send names another. */
  use(transport: string): BoundMailer {
    this.getTransport(transport);
    return {
      transport,
      send: (mail) => this.send(mail, { transport }),
      sendBatch: (mails, options) => this.sendBatch(mails, { ...options, transport }),
      render: (template, context, options) => this.render(template, context, options),
      verify: () => this.verify(transport),
    };
  }

  /**
   * Renders a template without sending: `{ subject, html, text }` (a promise, since a renderer of
   * your own may render asynchronously). `options.locale` picks the
   * localized files and formats (default: the module's `locale.default`); `{{t}}` uses the
   * module's translations.
   */
  async render(template: string, context: Record<string, unknown> = {}, options?: RenderOptions): Promise<RenderedMail> {
    const renderer = this.runtime.renderer;
    if (!renderer) {
      throw new MailerConfigurationError(`Template "${template}" was requested but no templates are configured (set templates: { dir } in MailerModule options).`);
    }
    const given = options?.locale ?? this.runtime.options.locale?.default;
    const locale = given === undefined ? undefined : checkedLocale(given, 'locale');
    const translate = options?.translate ?? this.locales?.translateFor(locale);
    return renderer.render(template, context, { ...options, locale, ...(translate ? { translate } : {}) });
  }

  /**
   * The locale `send()` renders a mail in: its `locale`, else the module's `locale.resolve(mail)`,
   * else the request's (nestjs-i18n), else `locale.default`; undefined when none applies. Throws
   * InvalidMailError for a tag that is not well-formed. The queue calls it when a mail is enqueued.
   */
  async resolveLocale(mail: Mail): Promise<string | undefined> {
    this.locales ??= await MailLocales.create(this.runtime.options.locale, this.moduleRef);
    return this.locales.localeOf(mail);
  }

  /** Connects and authenticates (SMTP) or makes an authenticated call (APIs) on one transport. */
  async verify(transport = this.runtime.defaultTransport): Promise<void> {
    const lease = this.runtime.registry.lease(transport);
    try {
      await lease.route.transport.verify();
    } finally {
      lease.release();
    }
  }

  /**
   * Renders, checks and sends one mail. Throws InvalidMailError, a template error,
   * MailCancelledError or (with `suppression.onUnavailable: 'fail'`) SuppressionUnavailableError
   * before anything leaves, and TransportError when the transport fails.
   * Recipients refused while others were accepted are listed in `result.rejected`. Through a
   * failover or round-robin transport, `result.transport` names the one that delivered and
   * `result.attempts` lists those that failed before it. A transient failure is retried under the
   * retry policy (module, transport and `options.retry`), after the transport's rate limit; see
   * docs/retry.md. With a `transportResolver`, the resolver chooses the transport first (see
   * `SendOptions.tenant`).
   */
  async send(mail: Mail, options: SendOptions = {}): Promise<SendResult> {
    if (this.closing) throw new MailerConfigurationError('The mailer is closed; the application is shutting down.');
    // Held until the send is over, so that removing or evicting the transport waits for it.
    const lease = await this.runtime.registry.resolve(mail, options);
    try {
      return await this.sendThrough(lease.route, mail, options);
    } finally {
      lease.release();
    }
  }

  /** A send inside its `mail.send` span when telemetry records (see lib/telemetry). */
  private async sendThrough(route: TransportRoute, mail: Mail, options: SendOptions): Promise<SendResult> {
    const { transport } = route;
    const tel = this.runtime.telemetry.startSend(transport, { tenant: options.tenant, template: mail?.template });
    if (!tel) return this.deliver(route, mail, options);
    let result: SendResult;
    try {
      result = await tel.run(() => this.deliver(route, mail, options, tel));
    } catch (error) {
      tel.failed(error);
      throw error;
    }
    tel.sent(result);
    return result;
  }

  private async deliver(route: TransportRoute, mail: Mail, options: SendOptions, tel?: SendTelemetry): Promise<SendResult> {
    const { transport, suppressionScope: scope } = route;
    const policy = this.retryPolicy(route, options.retry);
    const prepared = await this.prepare(mail, transport, tel);
    tel?.describe(prepared);
    const { mail: ready, held } = await this.suppress(prepared, scope);
    tel?.suppressed(held);
    if (!ready) return this.nothingToSend(prepared, transport, held);

    let delivered;
    try {
      delivered = await sendWithRetry(transport, ready, {
        policy,
        limiter: route.limiter,
        signal: options.signal,
        ...(tel ? { trace: tel.trace } : {}),
      });
    } catch (error) {
      const normalized = this.normalize(transport, error);
      if (normalized instanceof TransportError && normalized.rejected) await this.remember(normalized.rejected, transport, scope);
      this.logFailure(transport, normalized, ready);
      this.publish({ type: MAIL_EVENTS.failed, mail: ready, transport: transport.name, error: normalized });
      throw normalized;
    }
    const result = this.toSendResult(transport, delivered, held);
    await this.remember(delivered.rejected, transport, scope);
    this.publish({ type: MAIL_EVENTS.sent, mail: ready, result });
    return result;
  }

  /**
   * One line per failed send, logfmt-style so that it stays one line in text and JSON logs:
   * transport, failure, classification, attempts, Message-ID; recipients only as configured
   * (`telemetry.recipients`), never the server's text, the subject, the body or credentials.
   * `error` when the failure is permanent, `warn` when a later attempt may succeed.
   */
  private logFailure(transport: Transport, error: MailerError, mail: OutgoingMail): void {
    const telemetry = this.runtime.telemetry;
    if (!telemetry.logFailures) return;
    const record = telemetry.failureLog(transport.name, error, mail);
    const fields: string[] = [];
    const add = (key: string, value: unknown) => {
      if (value === undefined) return;
      const text = Array.isArray(value) ? value.join(',') : String(value);
      fields.push(`${key}=${/[\s"=]/.test(text) || text === '' ? JSON.stringify(text) : text}`);
    };
    add('event', record.event);
    add('transport', record.transport);
    add('provider', record.provider);
    add('error', record.error);
    add('failure', record.failure);
    const c = record.classification;
    add('kind', c?.kind);
    add('reason', c?.reason);
    add('bounce', c?.bounce);
    add('retryable', c?.retryable);
    add('action', c?.action);
    add('status', c?.status);
    add('replyCode', c?.replyCode);
    add('attempts', record.attempts);
    add('messageId', record.messageId);
    add('recipients', record.recipients);
    add('recipientDomains', record.recipientDomains);
    add('recipientHashes', record.recipientHashes);
    const line = fields.join(' ');
    // The retry policy's own test of "transient": a dropped connection has no classification but is.
    if (isRetryableFailure(error)) this.logger.warn(line);
    else this.logger.error(line);
  }

  /**
   * The shared suppression list, to look up, list or remove entries (support tools); undefined
   * when turned off. A scope's list (transports with `suppressionScope`): `suppressionsFor(scope)`.
   */
  get suppressions(): SuppressionStore | undefined {
    return this.runtime.suppression?.store;
  }

  /**
   * The suppression list of one scope (a tenant), which sends through transports with that
   * `suppressionScope` read and add to. MailerConfigurationError when the list is turned off, the
   * store keeps no scopes, or the scope is no valid name.
   */
  suppressionsFor(scope: string): SuppressionStore {
    const suppression = this.runtime.suppression;
    if (!suppression) throw new MailerConfigurationError('suppressionsFor(): the suppression list is turned off (suppression: false).');
    checkSuppressionScope(scope, 'suppressionsFor()');
    return suppression.circuit.listOf(scope);
  }

  /**
   * Parses a bounce e-mail (DSN, ARF complaint, vendor format) and adds its hard bounces and
   * complaints to the suppression list — the list of `suppressionScope` when given. Returns what
   * was found; a mail that is no bounce gives [].
   */
  async handleBounce(raw: Buffer | string, options: { suppressionScope?: string } = {}): Promise<BounceResult[]> {
    const scope = this.checkedScope(options.suppressionScope, 'handleBounce()');
    const results = await this.runtime.telemetry.bounce(() => parseBounce(raw));
    await this.rememberEntries(results.map((r) => ({ recipient: r.recipient, classification: r.classification, timestamp: r.arrivalDate ? new Date(r.arrivalDate) : undefined })), 'bounce-mail', { scope });
    return results;
  }

  /**
   * Adds the hard bounces and complaints among provider webhook events to the suppression list —
   * the list of `suppressionScope` when given. Rejects when the store cannot record them, so that
   * the caller can have the provider deliver the events again (a webhook endpoint answers 5xx)
   * instead of losing them.
   */
  async handleDeliveryEvents(events: readonly DeliveryEvent[], options: { suppressionScope?: string } = {}): Promise<void> {
    const scope = this.checkedScope(options.suppressionScope, 'handleDeliveryEvents()');
    await this.rememberEntries(events, 'webhook', { failOpen: false, scope });
  }

  /** A scope given to a call, checked as a transport's is; undefined when none or when the list is off. */
  private checkedScope(scope: string | undefined, where: string): string | undefined {
    if (scope === undefined || !this.runtime.suppression) return undefined;
    checkSuppressionScope(scope, `${where}: suppressionScope`);
    this.runtime.suppression.circuit.listOf(scope);
    return scope;
  }

  /**
   * Sends several mails and reports one outcome per mail, in input order; only a programmer error
   * (an unknown transport name, a closed mailer, no array) rejects the call. Each mail is rendered,
   * composed and passed through mail.sending like `send()`; a mail that fails there is a failed
   * outcome and the others go on. The mails that are ready go out through the transport's
   * `sendBatch` when it has one (Postmark, SendGrid, Resend batch endpoints; failover and
   * round-robin), else one `send` each with at most `concurrency` in flight, under the transport's
   * rate limit; a mail that failed transiently is then retried on its own under the retry policy
   * (`options.retry` over the module's). mail.sent or mail.failed is published for each mail that
   * reached the transport.
   */
  async sendBatch(mails: Mail[], options: SendBatchOptions = {}): Promise<BatchSendResult[]> {
    if (this.closing) throw new MailerConfigurationError('The mailer is closed; the application is shutting down.');
    const registry = this.runtime.registry;
    if (!Array.isArray(mails)) throw new InvalidMailError('sendBatch() expects an array of mails.');
    const concurrency = options.concurrency ?? DEFAULT_SEND_CONCURRENCY;
    if (!(Number.isInteger(concurrency) && concurrency >= 1)) {
      throw new MailerConfigurationError(`sendBatch(): concurrency must be a whole number of at least 1, got ${String(concurrency)}.`);
    }
    const results = new Array<BatchSendResult>(mails.length);
    // The mails of each transport, in input order; with a resolver, each mail goes where it says.
    const groups = new Map<TransportRoute, number[]>();
    const leases: TransportLease[] = [];
    const take = (lease: TransportLease, index: number) => {
      leases.push(lease);
      const group = groups.get(lease.route) ?? [];
      group.push(index);
      groups.set(lease.route, group);
    };
    try {
      if (!registry.resolves) {
        const lease = registry.leaseFor(options);
        mails.forEach((_, index) => take(lease, index));
      } else {
        await mapWithConcurrency(mails, concurrency, async (mail, index) => {
          try {
            take(await registry.resolve(mail, options), index);
          } catch (error) {
            results[index] = { ok: false, error: error instanceof Error ? error : new Error(String(error)) };
          }
        });
      }
      // Every group's policy first: a send's retry options that cannot work reject the call before any mail leaves.
      const plans = [...groups].map(([route, indexes]) => ({ route, indexes: indexes.sort((a, b) => a - b), policy: this.retryPolicy(route, options.retry) }));
      const telemetry = this.runtime.telemetry;
      for (const { route, indexes, policy } of plans) {
        const attributes = { [ATTR.transport]: route.transport.name, [ATTR.transportKind]: route.transport.kind, [ATTR.batchSize]: indexes.length };
        await telemetry.span(SPAN_NAMES.batch, attributes, () => this.sendGroup(route, policy, mails, indexes, results, concurrency));
      }
    } finally {
      for (const lease of leases) lease.release();
    }
    return results;
  }

  /** sendBatch for the mails of one transport (`indexes` into `mails`), writing their outcomes into `results`. */
  private async sendGroup(
    route: TransportRoute,
    policy: RetryPolicy | undefined,
    mails: Mail[],
    indexes: number[],
    results: BatchSendResult[],
    concurrency: number,
  ): Promise<void> {
    const { transport, suppressionScope: scope } = route;
    const telemetry = this.runtime.telemetry;
    const began = performance.now();
    const prepared = await mapWithConcurrency(indexes, concurrency, async (index) => {
      try {
        return await this.prepare(mails[index]!, transport);
      } catch (error) {
        results[index] = { ok: false, error: error instanceof Error ? error : new Error(String(error)) };
        return undefined;
      }
    });
    const ready: Array<{ index: number; mail: OutgoingMail; held: RejectedRecipient[] }> = [];
    await mapWithConcurrency(prepared, concurrency, async (mail, position) => {
      if (!mail) return;
      const index = indexes[position]!;
      let filtered;
      try {
        filtered = await this.suppress(mail, scope);
      } catch (error) {
        results[index] = { ok: false, error: error instanceof Error ? error : new Error(String(error)) };
        return;
      }
      const { mail: allowed, held } = filtered;
      telemetry.countSuppressed(transport, held.length);
      if (allowed) ready.push({ index, mail: allowed, held });
      else {
        const result = this.nothingToSend(mail, transport, held);
        telemetry.countSent(transport, result, held.length, performance.now() - began);
        results[index] = { ok: true, result };
      }
    });
    ready.sort((a, b) => a.index - b.index);
    const outcomes = await this.sendReady(route, ready.map((r) => r.mail), concurrency, policy);
    const refused: RejectedRecipient[] = [];
    ready.forEach(({ index, mail, held }, position) => {
      const outcome = outcomes[position]!;
      if (outcome.ok) {
        const result = this.toSendResult(transport, outcome.result, held);
        refused.push(...outcome.result.rejected);
        results[index] = { ok: true, result };
        telemetry.countSent(transport, result, held.length, performance.now() - began);
        this.publish({ type: MAIL_EVENTS.sent, mail, result });
      } else {
        const error = this.normalize(transport, outcome.error);
        if (error instanceof TransportError && error.rejected) refused.push(...error.rejected);
        results[index] = outcome.attempts ? { ok: false, error, attempts: outcome.attempts } : { ok: false, error };
        telemetry.countFailed(transport, error, performance.now() - began);
        this.logFailure(transport, error, mail);
        this.publish({ type: MAIL_EVENTS.failed, mail, transport: transport.name, error });
      }
    });
    await this.remember(refused, transport, scope);
  }

  /**
   * The call shape of `@nestjs-modules/mailer`: nodemailer's message fields plus `template`,
   * `context` and `transporterName`. Returns nodemailer's info shape.
   */
  async sendMail(options: IncumbentSendMailOptions): Promise<IncumbentSentMessageInfo> {
    const { mail, transport } = toIncumbentMail(options);
    const result = await this.send(mail, { transport });
    return {
      messageId: result.messageId,
      envelope: result.envelope,
      accepted: result.accepted,
      rejected: result.rejected.map((r) => r.address),
      pending: [],
      response: result.response ?? '',
      result,
    };
  }

  /**
   * The policy for one send: the transport's (module and transport options, built at start-up),
   * with the send's own options laid over them.
   */
  private retryPolicy(route: TransportRoute, override: SendOptions['retry']): RetryPolicy | undefined {
    if (override === false) return undefined;
    if (override === undefined) return route.policy;
    return RetryPolicy.merge([...route.retry.layers, override], 'send() retry');
  }

  /**
   * Steps 1–2 of a send: render, compose with the defaults, the mail interceptors, mail.sending
   * (interceptors and listeners may cancel).
   */
  private async prepare(mail: Mail, transport: Transport, tel?: SendTelemetry): Promise<OutgoingMail> {
    if (!mail || typeof mail !== 'object') throw new InvalidMailError('send() expects a mail object.');
    const locale = mail.template || mail.locale !== undefined ? await this.resolveLocale(mail) : undefined;
    const render = () => this.render(mail.template!, mail.context ?? {}, { ...(mail.layout === undefined ? {} : { layout: mail.layout }), locale });
    const rendered = mail.template ? await (tel ? tel.step(SPAN_NAMES.render, render) : render()) : {};
    return tel ? tel.step(SPAN_NAMES.compose, () => this.compose(mail, rendered, locale, transport)) : this.compose(mail, rendered, locale, transport);
  }

  /** Step 2: defaults, the mail interceptors, mail.sending. */
  private async compose(mail: Mail, rendered: Partial<RenderedMail>, locale: string | undefined, transport: Transport): Promise<OutgoingMail> {
    const { defaults = {}, attachments = {} } = this.runtime.options;
    let outgoing = await composeMail(mail, rendered, defaults, attachments);
    if (locale) outgoing.locale = locale;
    if (this.runtime.keepTemplateContext && mail.template) keepTemplateContext(outgoing, mail.context ?? {});
    for (const interceptor of this.interceptors) {
      const next = await interceptor.intercept(outgoing, { transport: transport.name });
      if (!next) throw new MailCancelledError(`cancelled by the mail interceptor ${interceptor.constructor.name}`);
      outgoing = next;
    }
    return this.emitSending(outgoing, transport.name);
  }

  /**
   * The transport step of sendBatch: one batch call (or one send per mail) under the transport's
   * rate limit, then each mail that failed transiently is retried on its own under the policy.
   * A mail that failed keeps its original outcome when the policy does not retry it.
   */
  private async sendReady(route: TransportRoute, mails: OutgoingMail[], concurrency: number, policy: RetryPolicy | undefined): Promise<TransportBatchOutcome[]> {
    const { transport, limiter } = route;
    const outcomes = await sendThrough(limitedTransport(transport, limiter), mails, concurrency);
    if (!policy) return outcomes;
    await mapWithConcurrency(outcomes, concurrency, async (outcome, index) => {
      if (outcome.ok || !(await policy.isRetryable(outcome.error, 1))) return;
      const error = outcome.error as MailerError;
      const attempts = outcome.attempts ?? (error instanceof TransportError ? error.attempts : undefined) ?? [failedAttempt(transport, error)];
      try {
        const result = await sendWithRetry(transport, mails[index]!, { policy, limiter, previous: { error, attempts: [...attempts] } });
        outcomes[index] = { ok: true, result };
      } catch (thrown) {
        if (thrown === error) return;
        const final = this.normalize(transport, thrown);
        outcomes[index] = { ok: false, error: final, attempts: final instanceof TransportError ? final.attempts : undefined };
      }
    });
    return outcomes;
  }

  /** The one normalization every transport failure passes through (see normalizeTransportFailure). */
  private normalize(transport: Transport, error: unknown): MailerError {
    return normalizeTransportFailure(transport, error);
  }

  /** The transport's result with the name of the one that delivered and every attempt made. */
  private toSendResult(transport: Transport, delivered: TransportResult, held: RejectedRecipient[] = []): SendResult {
    const by = delivered.deliveredBy ?? transport.name;
    return {
      ...delivered,
      rejected: held.length ? [...held, ...delivered.rejected] : delivered.rejected,
      transport: by,
      attempts: delivered.attempts ?? [{ transport: transport.name, kind: transport.kind, ok: true }],
    };
  }

  /** Every recipient was on the suppression list: nothing goes out and no attempt is made. */
  private nothingToSend(mail: OutgoingMail, transport: Transport, held: RejectedRecipient[]): SendResult {
    return { messageId: mail.messageId, accepted: [], rejected: held, envelope: mail.envelope, transport: transport.name, attempts: [] };
  }

  /**
   * Step 3: leaves suppressed recipients out of the envelope and the address headers alike (an API
   * transport sends to the header lists). While the store does not answer, the circuit decides:
   * the send goes on filtered only by what was learned meanwhile, or SuppressionUnavailableError
   * (`onUnavailable: 'fail'`).
   */
  private async suppress(mail: OutgoingMail, scope: string | undefined): Promise<{ mail?: OutgoingMail; held: RejectedRecipient[] }> {
    const suppression = this.runtime.suppression;
    if (!suppression) return { mail, held: [] };
    let found;
    try {
      found = await suppression.circuit.filter(mail.envelope.to, scope);
    } catch (error) {
      if (error instanceof SuppressionUnavailableError || suppression.circuit.onUnavailable === 'fail') throw error;
      this.logger.warn(`The suppression list could not be read; sending without it: ${(error as Error).message}`);
      return { mail, held: [] };
    }
    if (!found.suppressed.length) return { mail, held: [] };
    const held = found.suppressed.map(suppressedRejection);
    if (!found.allowed.length) return { held };
    const out = new Set(found.suppressed.map((s) => s.address));
    const keep = (list: OutgoingMail['to']) => list.filter((a) => !out.has(normalizeAddress(a.address)));
    return {
      mail: { ...mail, to: keep(mail.to), cc: keep(mail.cc), bcc: keep(mail.bcc), envelope: { ...mail.envelope, to: found.allowed } },
      held,
    };
  }

  /** Adds the recipients a transport refused for good to the suppression list (of `scope`, when given). */
  private async remember(rejected: readonly RejectedRecipient[], transport: Transport, scope: string | undefined): Promise<void> {
    if (rejected.length) await this.rememberEntries(rejected, transport.kind === 'smtp' ? 'smtp' : 'provider', { scope });
  }

  /**
   * Adds what the policy suppresses to the store; while it is unavailable the circuit keeps the
   * entries for later. A failure is logged and swallowed unless `failOpen` is false: after a send
   * the mail has gone and nothing would retry, whereas a caller that is handed events (a webhook)
   * can have them delivered again, so it learns that the store did not take them.
   */
  private async rememberEntries(
    items: Parameters<typeof entriesToSuppress>[0],
    source: SuppressionSource,
    { failOpen = true, scope }: { failOpen?: boolean; scope?: string } = {},
  ): Promise<void> {
    const suppression = this.runtime.suppression;
    if (!suppression) return;
    const entries = entriesToSuppress(items, source, { policy: suppression.policy });
    if (!entries.length) return;
    try {
      // Kept in memory, not lost, while the store does not answer.
      const { invalid } = await suppression.circuit.record(entries, { mustStore: !failOpen, scope });
      if (invalid.length) this.logger.warn(`Could not add ${invalid.length} address(es) to the suppression list: ${invalid[0]!.message}`);
    } catch (error) {
      if (!failOpen) throw error;
      this.logger.warn(`Could not add ${entries.length} address(es) to the suppression list: ${(error as Error).message}`);
    }
  }

  private async emitSending(mail: OutgoingMail, transport: string): Promise<OutgoingMail> {
    let cancelReason: string | undefined;
    let cancelled = false;
    const event: MailSendingEvent = {
      type: MAIL_EVENTS.sending,
      mail,
      transport,
      cancel(reason?: string) {
        cancelled = true;
        cancelReason = reason;
      },
      get cancelled() { return cancelled; },
      get cancelReason() { return cancelReason; },
    };
    this.subject.next(event);
    if (this.eventSink && !cancelled) await this.eventSink.emitAsync(MAIL_EVENTS.sending, event);
    if (cancelled) throw new MailCancelledError(cancelReason);
    // Listeners may have rewritten the mail: check it again before it leaves.
    assertSafeMail(event.mail);
    return event.mail;
  }

  private publish(event: MailEvent): void {
    publishEvent(this.subject, this.eventSink, this.logger, event);
  }
}
