import type { MailAddress, OutgoingMail } from '../core/mail.types.js';
import { MailerConfigurationError } from '../errors/mailer.error.js';

/** What a mail interceptor is told besides the mail. */
export interface MailInterceptorContext {
  /** Name of the transport the mail is about to go through. */
  transport: string;
}

/**
 * A before-send hook (step 2 of a send, before mail.sending): returns the mail to send — the same
 * object changed, or a new one — or `null` to cancel it (the send then throws MailCancelledError).
 * Interceptors run in the order configured; the mail is checked again after the last one.
 */
export interface MailInterceptor {
  intercept(mail: OutgoingMail, context: MailInterceptorContext): OutgoingMail | null | Promise<OutgoingMail | null>;
}

export interface StagingRedirectOptions {
  /** The safe address (or addresses) every other recipient is replaced with. */
  to: string | string[];
  /**
   * Recipients that keep getting mail: a RegExp tested on the address, or a list of addresses and
   * `@domain` entries (case-insensitive).
   */
  allow?: RegExp | string[];
  /** Header that records the original recipients. Default `X-Original-To`. */
  header?: string;
}

const HEADER_NAME = /^[!-9;-~]+$/;

/**
 * For staging and test environments: replaces every recipient (To, Cc, Bcc and the envelope) that
 * is not allowed with the safe address, and records the original recipients in a header, so that
 * no mail ever reaches a real customer from there. A mail whose recipients are all allowed goes out
 * unchanged.
 */
export class StagingRedirectInterceptor implements MailInterceptor {
  private readonly targets: MailAddress[];
  private readonly header: string;
  private readonly allowed: (address: string) => boolean;

  constructor(options: StagingRedirectOptions) {
    const to = Array.isArray(options?.to) ? options.to : options?.to ? [options.to] : [];
    if (!to.length || to.some((a) => typeof a !== 'string' || !a.includes('@'))) {
      throw new MailerConfigurationError('StagingRedirectInterceptor: `to` must be an address or a list of addresses.');
    }
    this.targets = to.map((address) => ({ address }));
    this.header = options.header ?? 'X-Original-To';
    if (!HEADER_NAME.test(this.header)) throw new MailerConfigurationError(`StagingRedirectInterceptor: "${this.header}" is not a header name.`);
    const allow = options.allow;
    if (allow instanceof RegExp) {
      this.allowed = (address) => {
        allow.lastIndex = 0;
        return allow.test(address);
      };
    } else {
      const entries = (allow ?? []).map((a) => a.toLowerCase());
      this.allowed = (address) => {
        const lower = address.toLowerCase();
        return entries.some((e) => (e.startsWith('@') ? lower.endsWith(e) : lower === e));
      };
    }
  }

  intercept(mail: OutgoingMail): OutgoingMail {
    const all = [...mail.to, ...mail.cc, ...mail.bcc].map((a) => a.address);
    const envelopeOnly = mail.envelope.to.filter((a) => !all.some((b) => b.toLowerCase() === a.toLowerCase()));
    const redirected = [...all, ...envelopeOnly].filter((a) => !this.allowed(a));
    if (!redirected.length) return mail;
    const keep = (list: MailAddress[]) => list.filter((a) => this.allowed(a.address));
    const to = [...keep(mail.to), ...this.targets];
    const cc = keep(mail.cc);
    const bcc = keep(mail.bcc);
    const envelopeTo = [...new Set([...mail.envelope.to.filter((a) => this.allowed(a)), ...this.targets.map((t) => t.address)])];
    return {
      ...mail,
      to,
      cc,
      bcc,
      envelope: { ...mail.envelope, to: envelopeTo },
      headers: { ...mail.headers, [this.header]: [...new Set(redirected)].join(', ') },
    };
  }
}
