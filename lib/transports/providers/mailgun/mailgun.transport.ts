import type { OutgoingMail } from '../../../core/mail.types.js';
import type { TransportResult } from '../../../core/send-result.types.js';
import { MailerConfigurationError } from '../../../errors/mailer.error.js';
import {
  HttpTransport,
  stripAngleBrackets,
  type HttpSendOptions,
  type HttpTransportOptions,
  type ProviderErrorDetails,
} from '../../http/index.js';
import { providerDkimError } from '../../dkim/dkim.options.js';
import { buildMailgunFields, mailgunUnsupportedFeature, toMailgunForm } from './mailgun.payload.js';


/** Where DKIM is set up for this provider, since it signs the messages itself. */
export const MAILGUN_DKIM_SETUP = 'Add the sending domain in Mailgun (Sending → Domains) and publish the DKIM record it shows.';
export const MAILGUN_API_URLS = {
  us: 'https://api.mailgun.net',
  eu: 'https://api.eu.mailgun.net',
} as const;

export interface MailgunTransportOptions extends HttpTransportOptions {
  /** Private API key (sent as Basic `api:<key>`). */
  apiKey: string;
  /** Sending domain as registered in Mailgun (`mg.example.com`). */
  domain: string;
  /** `eu` for domains in Mailgun's EU region. Ignored when `baseUrl` is set. Default `us`. */
  region?: keyof typeof MAILGUN_API_URLS;
}

/**
 * Mailgun Messages API (multipart/form-data). `sendBatch` sends one request per mail,
 * `batchConcurrency` at a time: Mailgun's batch form (recipient-variables) personalises one
 * message rather than sending different ones. `providerMessageId` is Mailgun's id without the
 * angle brackets, as its webhooks spell it.
 */
export class MailgunTransport extends HttpTransport {
  private readonly apiKey: string;
  private readonly domain: string;

  constructor(options: MailgunTransportOptions) {
    const region = options.region ?? 'us';
    if (!(region in MAILGUN_API_URLS)) throw new MailerConfigurationError(`Unknown Mailgun region "${String(region)}" (use us or eu).`);
    super('mailgun', options, MAILGUN_API_URLS[region]);
    if ((options as { dkim?: unknown }).dkim !== undefined) throw providerDkimError('mailgun', MAILGUN_DKIM_SETUP);
    if (!options.apiKey) throw new MailerConfigurationError('The mailgun transport needs an apiKey.');
    if (!options.domain) throw new MailerConfigurationError('The mailgun transport needs a domain.');
    this.apiKey = options.apiKey;
    this.domain = options.domain;
  }

  async send(mail: OutgoingMail, options: HttpSendOptions = {}): Promise<TransportResult> {
    this.checkSupported(mail);
    const form = toMailgunForm(await buildMailgunFields(mail));
    const response = await this.request({
      method: 'POST',
      path: `/v3/${encodeURIComponent(this.domain)}/messages`,
      form,
      operation: 'send',
      signal: options.signal,
    });
    const id = (response.body as { id?: string } | undefined)?.id;
    return this.acceptedResult(mail, id ? stripAngleBrackets(id) : undefined, id);
  }

  /** `GET /v3/domains/{domain}`: checks the key and that the domain exists; sends nothing. */
  async verify(options: HttpSendOptions = {}): Promise<void> {
    await this.request({ method: 'GET', path: `/v3/domains/${encodeURIComponent(this.domain)}`, operation: 'verify', signal: options.signal });
  }

  protected checkSupported(mail: OutgoingMail): void {
    const feature = mailgunUnsupportedFeature(mail);
    if (feature) throw this.unsupported(feature);
  }

  protected authHeaders(): Record<string, string> {
    return { Authorization: `Basic ${Buffer.from(`api:${this.apiKey}`).toString('base64')}` };
  }

  protected secrets(): string[] {
    return [this.apiKey, Buffer.from(`api:${this.apiKey}`).toString('base64')];
  }

  /** Mailgun answers `{message}` as JSON, or plain text (`Forbidden`) for some auth failures. */
  protected describeError(_status: number, body: unknown, text: string): ProviderErrorDetails {
    const message = (body as { message?: unknown } | undefined)?.message;
    return { message: typeof message === 'string' ? message : text.trim() || undefined };
  }
}
