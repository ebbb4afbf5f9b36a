import type { DeliveryEventSink } from './webhooks.tokens.js';
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
}

/** Options that shape the module itself; known before any async options resolve. */
export interface MailerWebhooksModuleExtras {
  /** Route prefix of the endpoints (`POST <path>/<provider>`). Default `webhooks/mail`. */
  path?: string;
  /** Register the module globally. Default false. */
  isGlobal?: boolean;
}
