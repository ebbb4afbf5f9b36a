import type { AddressInput, AddressListInput } from '../core/mail.types.js';
import type { TemplateRenderer } from '../templates/template-renderer.types.js';
import type { HandlebarsTemplateOptions } from '../templates/handlebars-renderer.options.js';
import type { SuppressionPolicyOptions } from '../suppression/suppression.policy.js';
import type { SuppressionStore } from '../suppression/suppression.types.js';
import type { RedisSuppressionStoreOptions } from '../suppression/redis-suppression.store.js';
import type { AttachmentPolicy } from '../transports/mail.compose.js';
import type { TransportConfig } from '../transports/transport.config.js';

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
  /** Values applied to every mail that does not set them. */
  defaults?: {
    from?: AddressInput;
    replyTo?: AddressListInput;
    headers?: Record<string, string>;
  };
  /** Handlebars templates (`{ dir: 'templates', … }`), or `{ renderer }` for a renderer of your own. */
  templates?: HandlebarsTemplateOptions | { renderer: TemplateRenderer };
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
  };
  /**
   * Publish mail.sending / mail.sent / mail.failed through @nestjs/event-emitter when its
   * EventEmitterModule is present. Default true.
   */
  eventEmitter?: boolean;
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
