import type { DeliveryEventSink } from './webhooks.tokens.js';
import type { RedisWebhookClaimStoreOptions } from './redis-webhook-claim.store.js';
import type { MailgunWebhookOptions } from '../../transports/providers/mailgun/mailgun.webhook.js';
import type { PostmarkWebhookOptions } from '../../transports/providers/postmark/postmark.webhook.js';
import type { ResendWebhookOptions } from '../../transports/providers/resend/resend.webhook.js';
import type { SendGridWebhookOptions } from '../../transports/providers/sendgrid/sendgrid.webhook.js';
import type { SesWebhookOptions } from '../../transports/providers/ses/ses.webhook.js';

/** The path the endpoints are mounted under when none is given. */
export const DEFAULT_WEBHOOKS_PATH = 'webhooks/mail';

/** Bytes read from a request whose body no body parser has read (SNS posts text/plain). */
export const DEFAULT_WEBHOOK_BODY_LIMIT = 1_048_576;

/**
 * One entry per provider whose endpoint should exist; a provider left out has no endpoint (404).
 * Every endpoint checks its signature or credentials before it reads the payload.
 */
export interface MailerWebhookProviders {
  /** `POST <path>/sendgrid`: Signed Event Webhook, `{ publicKey }` = the verification key. */
  sendgrid?: SendGridWebhookOptions;
  /** `POST <path>/mailgun`: `{ signingKey }` = the HTTP webhook signing key. */
  mailgun?: MailgunWebhookOptions;
  /** `POST <path>/resend`: `{ secret }` = the webhook's `whsec_…` signing secret. */
  resend?: ResendWebhookOptions;
  /** `POST <path>/ses`: SES notifications through an SNS HTTPS subscription. */
  ses?: SesWebhookOptions;
  /** `POST <path>/postmark`: `{ username, password }` put in the webhook URL as basic auth. */
  postmark?: PostmarkWebhookOptions;
}

export interface MailerWebhooksModuleOptions {
  providers: MailerWebhookProviders;
  /**
   * Receivers of every verified event, awaited before the request is answered (a failing one makes
   * the answer 500, so the provider delivers again). The place for a suppression store. Sinks bound
   * to MAILER_DELIVERY_SINKS are called too.
   */
  sinks?: DeliveryEventSink[];
  /**
   * Add hard bounces and complaints to the MailerModule's suppression list (when the application
   * has a MailerModule with suppression on). Default true.
   */
  suppress?: boolean;
  /**
   * Publish each event as `mail.delivery.<type>` through @nestjs/event-emitter when its
   * EventEmitterModule is present. Default true.
   */
  eventEmitter?: boolean;
  /** Largest body read when no body parser has read it. Default 1 MiB. */
  bodyLimit?: number;
  /**
   * Duplicate detection: every verified delivery is claimed by its keys (see docs/webhooks.md)
   * before it is processed, so that a copy — a provider's retry, a replay — is processed once.
   * In memory by default, which is right for one instance.
   */
  dedupe?: MailerWebhooksDedupeOptions;
}

/** Where claims on webhook deliveries are kept, and for how long. */
export interface MailerWebhooksDedupeOptions {
  /**
   * Keep claims in Redis, so that instances behind one load balancer recognise each other's
   * deliveries: `{ url }` opens a client (ioredis, an optional peer to install) and closes it on
   * shutdown, `{ client }` uses an ioredis client of the application's. `keyPrefix` defaults to
   * `mailroom:webhooks:`. Redis is checked with a PING at start-up.
   */
  redis?: RedisWebhookClaimStoreOptions;
  /**
   * Seconds a processed delivery is remembered. Default per provider: twice its
   * `toleranceSeconds` plus a minute (11 minutes with the default tolerance), as long as a copy
   * of the request still verifies; one hour for Postmark, which signs no time.
   */
  ttlSeconds?: number;
}

/** Options that shape the module itself; known before any async options resolve. */
export interface MailerWebhooksModuleExtras {
  /** Route prefix of the endpoints (`POST <path>/<provider>`). Default `webhooks/mail`. */
  path?: string;
  /** Register the module globally. Default false. */
  isGlobal?: boolean;
}
