import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, Optional, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { findEventEmitter, type EventSink } from '../event-emitter.js';
import { MailerService } from '../mailer.service.js';
import { findMailerTelemetry } from '../mailer.runtime.js';
import { MailTelemetry } from '../../telemetry/mail.telemetry.js';
import { Subject, type Observable } from 'rxjs';
import {
  type DeliveryEvent,
  type DeliveryEventProvider,
  type WebhookHeaders,
  type WebhookVerification,
} from '../../core/delivery-event.types.js';
import { MailerConfigurationError, WebhookPayloadError } from '../../errors/mailer.error.js';
import { checkOptions, type OptionShape, type OptionType } from '../../errors/option.checker.js';
import { redact } from '../../errors/redact.js';
import type { WebhookDeliveryKeys, WebhookSubscriptionOutcome } from '../../transports/providers/provider.definition.js';
import { PROVIDER_DEFINITIONS } from '../../transports/providers/providers.registry.js';
import { prepareWebhookReceiver, type PreparedWebhookReceiver } from '../../transports/providers/webhook-receiver.js';
import { MemoryWebhookClaimStore } from './memory-webhook-claim.store.js';
import { RedisWebhookClaimStore, type RedisWebhookClaimStoreOptions } from './redis-webhook-claim.store.js';
import type { ClaimState, WebhookClaimStore } from './webhook-claim.store.js';
import type { MailerWebhooksDedupeOptions, MailerWebhooksModuleOptions } from './webhooks.options.js';
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
      /** The events processed: recorded by the sinks, then published. */
      events: DeliveryEvent[];
      /**
       * The delivery was processed before (a provider's retry, a replay): nothing was recorded or
       * published again. Answer 200, so the provider stops.
       */
      duplicate?: boolean;
      /** For an SNS SubscriptionConfirmation. */
      subscription?: WebhookSubscriptionOutcome;
    }
  | { status: 'unauthorized'; verification: Extract<WebhookVerification, { ok: false }> }
  | { status: 'invalid'; error: WebhookPayloadError }
  | {
      /**
       * Nothing was processed, and the provider should deliver the request again later (answer
       * 503): `in-flight` — a copy of the same delivery is being processed right now, and may yet
       * fail; `dedupe-unavailable` — duplicates cannot be checked (Redis does not answer).
       */
      status: 'retry';
      reason: 'in-flight' | 'dedupe-unavailable';
      message: string;
    }
  | { status: 'unknown-provider'; provider: string };

/**
 * How long a request holds the keys it claimed while it is processed. A holder that vanished (a
 * crashed instance) stops blocking the provider's retries after this; sinks are expected to take
 * far less.
 */
export const CLAIM_LEASE_MS = 30_000;

const WEBHOOKS_OPTION_SHAPE = {
  providers: 'object',
  sinks: 'array',
  suppress: 'boolean',
  eventEmitter: 'boolean',
  bodyLimit: 'number',
  dedupe: 'object',
} as const satisfies OptionShape<MailerWebhooksModuleOptions>;

const DEDUPE_OPTION_SHAPE = {
  redis: 'object',
  ttlSeconds: 'number',
} as const satisfies OptionShape<MailerWebhooksDedupeOptions>;

const DEDUPE_REDIS_OPTION_SHAPE = {
  client: 'object',
  url: 'string',
  keyPrefix: 'string',
} as const satisfies OptionShape<RedisWebhookClaimStoreOptions>;

const EXTRA_HINT = 'is a module extra, not an option: give it to forRoot({ … }) or forRootAsync({ path, isGlobal, useFactory, … }) next to useFactory, not in what the factory returns.';

/** The claims a request holds and the events it may process. */
interface Claimed {
  keys: string[];
  events: DeliveryEvent[];
}

/**
 * Receives provider webhooks: verifies, parses, claims the delivery, then hands each event to the
 * sinks and publishes it on `events$` and as `mail.delivery.<type>`. A request that does not
 * verify changes nothing; a copy of a delivery that was processed is processed no more.
 */
@Injectable()
export class MailerWebhooksService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('MailerWebhooks');
  private telemetry = MailTelemetry.off();
  private readonly subject = new Subject<DeliveryEvent>();
  private readonly adapters = new Map<string, PreparedWebhookReceiver>();
  private readonly sinks: DeliveryEventSink[];
  private readonly claims: WebhookClaimStore;
  private readonly redisClaims?: RedisWebhookClaimStore;
  private readonly ttlMs?: number;
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
    this.prepare();
    const dedupe = options.dedupe ?? {};
    checkOptions(dedupe, DEDUPE_OPTION_SHAPE, 'MailerWebhooksModule: dedupe');
    if (dedupe.ttlSeconds !== undefined) {
      if (!(Number.isFinite(dedupe.ttlSeconds) && dedupe.ttlSeconds > 0)) {
        throw new MailerConfigurationError(`MailerWebhooksModule: dedupe.ttlSeconds must be a positive number of seconds, got ${String(dedupe.ttlSeconds)}.`);
      }
      this.ttlMs = dedupe.ttlSeconds * 1000;
    }
    if (dedupe.redis !== undefined) {
      checkOptions(dedupe.redis, DEDUPE_REDIS_OPTION_SHAPE, 'MailerWebhooksModule: dedupe.redis', { prefix: 'is written keyPrefix here.' });
      this.redisClaims = new RedisWebhookClaimStore(dedupe.redis, (error) => {
        this.logger.error(`Redis for webhook duplicate detection is unreachable; webhooks are answered 503 until it is back: ${redact(error.message)}`);
      });
      this.claims = this.redisClaims;
    } else {
      this.claims = new MemoryWebhookClaimStore();
    }
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
    this.telemetry = await findMailerTelemetry(this.moduleRef);
    if (this.redisClaims) {
      try {
        await this.redisClaims.connect();
      } catch (error) {
        // Stop the client's reconnection attempts: the application is not starting.
        await this.redisClaims.close();
        throw error;
      }
    }
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

  async onModuleDestroy(): Promise<void> {
    this.subject.complete();
    await this.claims.close();
  }

  /** Names of the providers that have an endpoint. */
  get providers(): DeliveryEventProvider[] {
    return [...this.adapters.keys()] as DeliveryEventProvider[];
  }

  /**
   * Handles one request for `provider`: verification first (nothing is parsed or published when it
   * fails), then parsing, then the claim on the delivery's keys (a copy that was processed is a
   * duplicate; a copy in flight elsewhere is `retry`), then the handshake and the sinks (awaited;
   * a failure releases the claim and rejects, so the endpoint answers 500 and the provider's retry
   * is processed), then `events$` and the event emitter, and last the claim is marked done.
   */
  async receive(provider: string, request: WebhookRequest, now: number = Date.now()): Promise<WebhookOutcome> {
    const adapter = this.adapters.get(provider);
    if (!adapter) return { status: 'unknown-provider', provider };
    try {
      return await this.telemetry.webhook(provider, () => this.process(provider, adapter, request, now));
    } catch (error) {
      // Logged here, once; the endpoint answers 500 without logging again.
      this.logger.error(`A ${provider} webhook delivery was not recorded; the provider will deliver it again: ${redact(messageOf(error))}`);
      throw error;
    }
  }

  private async process(provider: string, adapter: PreparedWebhookReceiver, request: WebhookRequest, now: number): Promise<WebhookOutcome> {
    const verification = await adapter.verify(request, now);
    if (!verification.ok) {
      this.logger.warn(`Refused a ${provider} webhook (${verification.reason}): ${verification.message}`);
      this.telemetry.signatureFailure(provider, verification.reason);
      return { status: 'unauthorized', verification };
    }

    let events: DeliveryEvent[];
    try {
      events = adapter.parse(request.rawBody);
    } catch (error) {
      if (error instanceof WebhookPayloadError) return { status: 'invalid', error };
      throw error;
    }

    const owner = randomUUID();
    const claim = await this.claim(provider, adapter.keysOf(request, events), events, owner);
    if ('status' in claim) return claim;

    let subscription: WebhookSubscriptionOutcome | undefined;
    try {
      const handshake = await adapter.handshake(request);
      if (handshake) {
        subscription = handshake.outcome;
        if (subscription.confirmed) this.logger.log(`Confirmed the subscription to ${handshake.subject}.`);
        else this.logger.warn(`Subscription to ${handshake.subject} not confirmed (${subscription.reason}); confirm it at ${subscription.subscribeUrl ?? 'the SubscribeURL'}.`);
      }
      await this.dispatch(claim.events);
    } catch (error) {
      await this.claims.release(claim.keys, owner).catch((cause: unknown) => {
        this.logger.warn(`Could not release the claim on a ${provider} delivery; its retry waits for the claim to lapse: ${redact(messageOf(cause))}`);
      });
      throw error;
    }
    if (claim.keys.length) {
      // The events are recorded: a failure here only means a later copy may be processed again.
      await this.claims.complete(claim.keys, this.ttlMs ?? adapter.rememberMs).catch((cause: unknown) => {
        this.logger.warn(`Could not mark a ${provider} delivery as processed: ${redact(messageOf(cause))}`);
      });
    }
    return subscription ? { status: 'accepted', events: claim.events, subscription } : { status: 'accepted', events: claim.events };
  }

  /**
   * Claims the request's keys and its events' keys in one go. A request key that is done makes the
   * request a duplicate; an event key that is done leaves that event out; any key in flight
   * elsewhere means the whole request waits for the provider's retry, so that a copy is never
   * answered 200 while the processing it relies on may still fail.
   */
  private async claim(
    provider: string,
    keys: WebhookDeliveryKeys,
    events: DeliveryEvent[],
    owner: string,
  ): Promise<Claimed | Extract<WebhookOutcome, { status: 'accepted' | 'retry' }>> {
    const eventKeys = keys.events.length === events.length ? keys.events : [];
    const unique = [...new Set([...keys.request, ...eventKeys])];
    if (unique.length === 0) return { keys: [], events };
    let states: ClaimState[];
    try {
      states = await this.claims.claim(unique.map((key) => storeKey(provider, key)), owner, CLAIM_LEASE_MS);
    } catch (error) {
      this.logger.error(`Could not check a ${provider} webhook for duplicates; answered 503 so that the provider delivers it again: ${redact(messageOf(error))}`);
      return { status: 'retry', reason: 'dedupe-unavailable', message: 'Duplicates cannot be checked now; deliver the request again later.' };
    }
    const state = new Map(unique.map((key, i) => [key, states[i]!]));
    const claimed = unique.filter((key) => state.get(key) === 'claimed').map((key) => storeKey(provider, key));
    const giveBack = () => this.claims.release(claimed, owner).catch(() => undefined);

    if (keys.request.some((key) => state.get(key) === 'done')) {
      await giveBack();
      return { status: 'accepted', events: [], duplicate: true };
    }
    if (states.includes('in-flight')) {
      await giveBack();
      return { status: 'retry', reason: 'in-flight', message: 'The same delivery is being processed; deliver it again later.' };
    }
    if (eventKeys.length === 0) return { keys: claimed, events };
    // Only the first event with a key is this request's to process (a batch may repeat one).
    const mine = new Set<string>();
    const fresh = events.filter((_, i) => {
      const key = eventKeys[i]!;
      if (state.get(key) !== 'claimed' || mine.has(key)) return false;
      mine.add(key);
      return true;
    });
    if (fresh.length === 0 && events.length > 0) {
      await giveBack();
      return { status: 'accepted', events: [], duplicate: true };
    }
    return { keys: claimed, events: fresh };
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
}

/** Keys of different providers never meet. */
function storeKey(provider: string, key: string): string {
  return `${provider}:${key}`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
