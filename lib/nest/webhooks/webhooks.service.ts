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
import { WebhookPayloadError } from '../../errors/mailer.error.js';
import { MailerConfigurationError } from '../../errors/mailer.error.js';
import { parseMailgunWebhook, verifyMailgunWebhook } from '../../transports/providers/mailgun/mailgun.webhook.js';
import {
  assertPostmarkCredentials,
  parsePostmarkWebhook,
  verifyPostmarkWebhook,
} from '../../transports/providers/postmark/postmark.webhook.js';
import { parseResendWebhook, resendSigningKey, verifyResendWebhook } from '../../transports/providers/resend/resend.webhook.js';
import { parseSendGridWebhook, sendGridPublicKey, verifySendGridWebhook } from '../../transports/providers/sendgrid/sendgrid.webhook.js';
import {
  assertSesWebhookOptions,
  confirmSnsSubscription,
  parseSesWebhook,
  readSnsMessage,
  verifySesWebhook,
  type SnsSubscriptionOutcome,
} from '../../transports/providers/ses/ses.webhook.js';
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
      subscription?: SnsSubscriptionOutcome;
    }
  | { status: 'unauthorized'; verification: Extract<WebhookVerification, { ok: false }> }
  | { status: 'invalid'; error: WebhookPayloadError }
  | { status: 'unknown-provider'; provider: string };

interface ProviderAdapter {
  verify(request: WebhookRequest, now: number): WebhookVerification | Promise<WebhookVerification>;
  /** An id that is the same when the provider delivers the same request again. */
  deliveryId(request: WebhookRequest): string | undefined;
  parse(rawBody: Buffer): DeliveryEvent[];
}

const DEDUPE_CAPACITY = 10_000;
const DEDUPE_SLACK_MS = 60_000;

function header(headers: WebhookHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function mailgunToken(rawBody: Buffer): string | undefined {
  try {
    const token = (JSON.parse(rawBody.toString()) as { signature?: { token?: unknown } }).signature?.token;
    return typeof token === 'string' ? token : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Receives provider webhooks: verifies, parses, then hands each event to the sinks and publishes it
 * on `events$` and as `mail.delivery.<type>`. A request that does not verify changes nothing.
 */
@Injectable()
export class MailerWebhooksService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('MailerWebhooks');
  private readonly subject = new Subject<DeliveryEvent>();
  private readonly adapters = new Map<string, ProviderAdapter>();
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
    if (!p || typeof p !== 'object') throw new MailerConfigurationError('MailerWebhooksModule needs `providers` (sendgrid, mailgun, resend, ses, postmark).');
    if (p.sendgrid) {
      const publicKey = sendGridPublicKey(p.sendgrid.publicKey);
      const tolerance = p.sendgrid.toleranceSeconds;
      this.adapters.set('sendgrid', {
        verify: (r, now) => verifySendGridWebhook(r.headers, r.rawBody, { publicKey, toleranceSeconds: tolerance }, now),
        deliveryId: (r) => header(r.headers, 'x-twilio-email-event-webhook-signature'),
        parse: parseSendGridWebhook,
      });
    }
    if (p.mailgun) {
      if (!p.mailgun.signingKey) throw new MailerConfigurationError('The Mailgun webhook needs `signingKey` (the HTTP webhook signing key).');
      const options = p.mailgun;
      this.adapters.set('mailgun', {
        verify: (r, now) => verifyMailgunWebhook(r.rawBody, options, now),
        deliveryId: (r) => mailgunToken(r.rawBody),
        parse: parseMailgunWebhook,
      });
    }
    if (p.resend) {
      const secret = resendSigningKey(p.resend.secret);
      const tolerance = p.resend.toleranceSeconds;
      this.adapters.set('resend', {
        verify: (r, now) => verifyResendWebhook(r.headers, r.rawBody, { secret, toleranceSeconds: tolerance }, now),
        deliveryId: (r) => header(r.headers, 'svix-id') ?? header(r.headers, 'webhook-id'),
        parse: parseResendWebhook,
      });
    }
    if (p.ses) {
      assertSesWebhookOptions(p.ses);
      const options = p.ses;
      this.adapters.set('ses', {
        verify: (r, now) => verifySesWebhook(r.rawBody, options, now),
        deliveryId: (r) => readSnsMessage(r.rawBody)?.MessageId,
        parse: parseSesWebhook,
      });
    }
    if (p.postmark) {
      assertPostmarkCredentials(p.postmark);
      const options = p.postmark;
      this.adapters.set('postmark', {
        verify: (r) => verifyPostmarkWebhook(r.headers, options),
        deliveryId: () => undefined,
        parse: parsePostmarkWebhook,
      });
    }
    if (this.adapters.size === 0) {
      throw new MailerConfigurationError('MailerWebhooksModule has no provider configured (sendgrid, mailgun, resend, ses, postmark).');
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

    let subscription: SnsSubscriptionOutcome | undefined;
    if (provider === 'ses') {
      const message = readSnsMessage(request.rawBody);
      if (message && message.Type === 'SubscriptionConfirmation' && this.options.providers.ses) {
        subscription = await confirmSnsSubscription(message, this.options.providers.ses);
        if (subscription.confirmed) this.logger.log(`Confirmed the SNS subscription to ${message.TopicArn}.`);
        else this.logger.warn(`SNS subscription to ${message.TopicArn} not confirmed (${subscription.reason}); confirm it at ${subscription.subscribeUrl ?? 'the SubscribeURL'}.`);
      }
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
