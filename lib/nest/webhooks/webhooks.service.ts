import { Inject, Injectable, Logger, Optional, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { findEventEmitter, type EventSink } from '../event-emitter.js';
import { MailerService } from '../mailer.service.js';
import { Subject, type Observable } from 'rxjs';
import {
  type DeliveryEvent,
  type DeliveryEventProvider,
  type WebhookHeaders,
  type WebhookVerification,
} from '../../core/delivery-event.types.js';
import { MailerConfigurationError, WebhookPayloadError } from '../../errors/mailer.error.js';
import { checkOptions, type OptionShape, type OptionType } from '../../errors/option.checker.js';
import type { WebhookSubscriptionOutcome } from '../../transports/providers/provider.definition.js';
import { PROVIDER_DEFINITIONS } from '../../transports/providers/providers.registry.js';
import { prepareWebhookReceiver, type WebhookReceiver } from '../../transports/providers/webhook-receiver.js';
import type { MailerWebhooksModuleOptions } from './webhooks.options.js';
import { deliveryEventName, MAILER_DELIVERY_SINKS, MAILER_WEBHOOKS_OPTIONS, type DeliveryEventSink } from './webhooks.tokens.js';

/** A webhook request as the endpoint saw it: its headers (lower-case names) and its raw body. */
export interface WebhookRequest {
  headers: WebhookHeaders;
  rawBody: Buffer;
}

/** What became of one webhook request. */
export type WebhookOutcome =
  | {
      status: 'accepted';
      events: DeliveryEvent[];
      /** The same delivery was accepted before (a provider retry); nothing was published again. */
      duplicate?: boolean;
      /** For an SNS SubscriptionConfirmation. */
      subscription?: WebhookSubscriptionOutcome;
    }
  | { status: 'unauthorized'; verification: Extract<WebhookVerification, { ok: false }> }
  | { status: 'invalid'; error: WebhookPayloadError }
  | { status: 'unknown-provider'; provider: string };

const DEDUPE_CAPACITY = 10_000;
const DEDUPE_SLACK_MS = 60_000;

const WEBHOOKS_OPTION_SHAPE = {
  providers: 'object',
  sinks: 'array',
  suppress: 'boolean',
  eventEmitter: 'boolean',
  bodyLimit: 'number',
} as const satisfies OptionShape<MailerWebhooksModuleOptions>;

const EXTRA_HINT = 'is a module extra, not an option: give it to forRoot({ … }) or forRootAsync({ path, isGlobal, useFactory, … }) next to useFactory, not in what the factory returns.';

/**
 * Receives provider webhooks: verifies, parses, then hands each event to the sinks and publishes it
 * on `events$` and as `mail.delivery.<type>`. A request that does not verify changes nothing.
 */
@Injectable()
export class MailerWebhooksService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('MailerWebhooks');
  private readonly subject = new Subject<DeliveryEvent>();
  private readonly adapters = new Map<string, WebhookReceiver>();
  private readonly sinks: DeliveryEventSink[];
  private readonly seen = new Map<string, number>();
  private readonly dedupeMs: number;
  private eventSink?: EventSink;

  /** Every verified delivery event, after the sinks have recorded it. Subscribers run synchronously. */
  readonly events$: Observable<DeliveryEvent> = this.subject.asObservable();

  constructor(
    @Inject(MAILER_WEBHOOKS_OPTIONS) private readonly options: MailerWebhooksModuleOptions,
    private readonly moduleRef: ModuleRef,
    @Optional() @Inject(MAILER_DELIVERY_SINKS) bound?: DeliveryEventSink | DeliveryEventSink[] | null,
  ) {
    checkOptions(options, WEBHOOKS_OPTION_SHAPE, 'MailerWebhooksModule', { path: EXTRA_HINT, isGlobal: EXTRA_HINT });
    const extra = bound == null ? [] : Array.isArray(bound) ? bound : [bound];
    this.sinks = [...(options.sinks ?? []), ...extra];
    for (const sink of this.sinks) {
      if (typeof sink?.record !== 'function') throw new MailerConfigurationError('A delivery event sink must have a record(event) method.');
    }
    let tolerance = 0;
    for (const p of Object.values(options.providers ?? {})) {
      tolerance = Math.max(tolerance, (p as { toleranceSeconds?: number } | undefined)?.toleranceSeconds ?? 300);
    }
    this.dedupeMs = tolerance * 1000 + DEDUPE_SLACK_MS;
    this.prepare();
  }

  /** Keys and secrets are read here, so a bad one fails at start-up. */
  private prepare(): void {
    const p = this.options.providers;
    const names = PROVIDER_DEFINITIONS.filter((d) => d.webhook).map((d) => d.name);
    if (!p || typeof p !== 'object') throw new MailerConfigurationError(`MailerWebhooksModule needs \`providers\` (${names.join(', ')}).`);
    const shape: Record<string, OptionType> = Object.fromEntries(names.map((n) => [n, 'object']));
    checkOptions(p, shape, 'MailerWebhooksModule: providers');
    for (const definition of PROVIDER_DEFINITIONS) {
      const given: unknown = (p as Record<string, unknown>)[definition.name];
      if (!given || !definition.webhook) continue;
      this.adapters.set(definition.name, prepareWebhookReceiver(definition, given, `MailerWebhooksModule: providers.${definition.name}`));
    }
    if (this.adapters.size === 0) {
      throw new MailerConfigurationError(`MailerWebhooksModule has no provider configured (${names.join(', ')}).`);
    }
  }

  async onModuleInit(): Promise<void> {
    this.attachSuppression();
    if (this.options.eventEmitter === false) return;
    this.eventSink = await findEventEmitter(this.moduleRef);
  }

  /** Hard bounces and complaints reach the MailerModule's suppression list unless turned off. */
  private attachSuppression(): void {
    if (this.options.suppress === false) return;
    let mailer: MailerService | undefined;
    try {
      mailer = this.moduleRef.get(MailerService, { strict: false });
    } catch {
      return; // no MailerModule in this application
    }
    this.sinks.push({ record: (event) => mailer!.handleDeliveryEvents([event]) });
  }

  onModuleDestroy(): void {
    this.subject.complete();
  }

  /** Names of the providers that have an endpoint. */
  get providers(): DeliveryEventProvider[] {
    return [...this.adapters.keys()] as DeliveryEventProvider[];
  }

  /**
   * Handles one request for `provider`: verification first (nothing is parsed or published when it
   * fails), then parsing, then the sinks (awaited; a failure rejects, so the endpoint answers 500
   * and the provider delivers again), then `events$` and the event emitter.
   */
  async receive(provider: string, request: WebhookRequest, now: number = Date.now()): Promise<WebhookOutcome> {
    const adapter = this.adapters.get(provider);
    if (!adapter) return { status: 'unknown-provider', provider };
    const verification = await adapter.verify(request, now);
    if (!verification.ok) {
      this.logger.warn(`Refused a ${provider} webhook (${verification.reason}): ${verification.message}`);
      return { status: 'unauthorized', verification };
    }
    const id = adapter.deliveryId(request);
    const key = id === undefined ? undefined : `${provider}:${id}`;
    if (key !== undefined && this.wasSeen(key, now)) return { status: 'accepted', events: [], duplicate: true };

    let subscription: WebhookSubscriptionOutcome | undefined;
    const handshake = await adapter.handshake(request);
    if (handshake) {
      subscription = handshake.outcome;
      if (subscription.confirmed) this.logger.log(`Confirmed the subscription to ${handshake.subject}.`);
      else this.logger.warn(`Subscription to ${handshake.subject} not confirmed (${subscription.reason}); confirm it at ${subscription.subscribeUrl ?? 'the SubscribeURL'}.`);
    }

    let events: DeliveryEvent[];
    try {
      events = adapter.parse(request.rawBody);
    } catch (error) {
      if (error instanceof WebhookPayloadError) return { status: 'invalid', error };
      throw error;
    }
    await this.dispatch(events);
    if (key !== undefined) this.remember(key, now);
    return subscription ? { status: 'accepted', events, subscription } : { status: 'accepted', events };
  }

  private async dispatch(events: DeliveryEvent[]): Promise<void> {
    for (const event of events) {
      for (const sink of this.sinks) await sink.record(event);
    }
    for (const event of events) {
      try {
        this.subject.next(event);
      } catch (error) {
        this.logger.error(`A delivery event subscriber threw: ${(error as Error).message}`);
      }
      this.eventSink?.emitAsync(deliveryEventName(event.type), event).catch((error: unknown) => {
        this.logger.error(`A ${deliveryEventName(event.type)} listener failed: ${(error as Error).message}`);
      });
    }
  }

  private wasSeen(key: string, now: number): boolean {
    const expires = this.seen.get(key);
    if (expires === undefined) return false;
    if (expires < now) {
      this.seen.delete(key);
      return false;
    }
    return true;
  }

  private remember(key: string, now: number): void {
    if (this.seen.size >= DEDUPE_CAPACITY) {
      for (const [k, expires] of this.seen) {
        if (expires < now || this.seen.size >= DEDUPE_CAPACITY) this.seen.delete(k);
        else break;
      }
    }
    this.seen.set(key, now + this.dedupeMs);
  }
}
