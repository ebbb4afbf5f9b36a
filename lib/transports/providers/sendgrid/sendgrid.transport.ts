import type { OutgoingMail } from '../../../core/mail.types.js';
import type { TransportResult } from '../../../core/send-result.types.js';
import { MailerConfigurationError, TransportError } from '../../../errors/mailer.error.js';
import {
  allRecipients,
  headerValue,
  HttpTransport,
  mapWithConcurrency,
  parseEpochSecondsReset,
  type BatchSendOutcome,
  type HttpSendOptions,
  type HttpTransportOptions,
  type ProviderErrorDetails,
} from '../../http/index.js';
import { providerDkimError } from '../../dkim/dkim.options.js';
import { buildSendGridBody, SENDGRID_LIMITS, sendGridUnsupportedFeature, type SendGridMailBody } from './sendgrid.payload.js';


/** Where DKIM is set up for this provider, since it signs the messages itself. */
export const SENDGRID_DKIM_SETUP = 'Authenticate your domain in SendGrid (Settings → Sender Authentication) and publish the DNS records it shows.';
export const SENDGRID_API_URLS = {
  global: 'https://api.sendgrid.com',
  eu: 'https://api.eu.sendgrid.com',
} as const;

export interface SendGridTransportOptions extends HttpTransportOptions {
  /** API key (`SG.…`) with the `mail.send` scope. */
  apiKey: string;
  /** `eu` for EU-pinned subusers (api.eu.sendgrid.com). Ignored when `baseUrl` is set. Default `global`. */
  region?: keyof typeof SENDGRID_API_URLS;
}

interface SendGridErrorBody {
  errors?: Array<{ message?: string; field?: string | null; help?: string }>;
}

/** A request under construction in `sendBatch`: mails that share everything but their recipients. */
interface PendingRequest {
  body: SendGridMailBody;
  indexes: number[];
  addresses: Set<string>;
  recipients: number;
}

/**
 * SendGrid v3 Mail Send. The Message-ID travels in the personalization's headers, which lets
 * `sendBatch` put mails with the same content into one request, one personalization each.
 */
export class SendGridTransport extends HttpTransport {
  private readonly apiKey: string;

  constructor(options: SendGridTransportOptions) {
    const region = options.region ?? 'global';
    if (!(region in SENDGRID_API_URLS)) throw new MailerConfigurationError(`Unknown SendGrid region "${String(region)}" (use global or eu).`);
    super('sendgrid', options, SENDGRID_API_URLS[region]);
    if ((options as { dkim?: unknown }).dkim !== undefined) throw providerDkimError('sendgrid', SENDGRID_DKIM_SETUP);
    if (!options.apiKey) throw new MailerConfigurationError('The sendgrid transport needs an apiKey.');
    this.apiKey = options.apiKey;
  }

  async send(mail: OutgoingMail, options: HttpSendOptions = {}): Promise<TransportResult> {
    this.checkSupported(mail);
    const body = await buildSendGridBody(mail);
    const providerId = await this.post(body, 'send', options.signal);
    return this.acceptedResult(mail, providerId);
  }

  /**
   * Mails whose content (sender, subject, bodies, attachments, headers, tags, metadata) is the same
   * go out as one request with one personalization per mail, within SendGrid's limits of 1 000
   * personalizations and 1 000 recipients per request and no address twice in one request. Other
   * mails go one request each. All mails of one request share its outcome and its X-Message-Id.
   */
  override async sendBatch(mails: OutgoingMail[], options: HttpSendOptions = {}): Promise<BatchSendOutcome[]> {
    for (const mail of mails) this.checkSupported(mail);
    const bodies = await Promise.all(mails.map((mail) => buildSendGridBody(mail)));
    const open = new Map<string, PendingRequest>();
    const requests: PendingRequest[] = [];
    bodies.forEach((body, index) => {
      const { personalizations, ...shared } = body;
      const key = JSON.stringify(shared);
      const personalization = personalizations[0] as SendGridMailBody['personalizations'][number];
      const addresses = allRecipients(mails[index] as OutgoingMail).map((a) => a.toLowerCase());
      const current = open.get(key);
      const fits = current
        && current.body.personalizations.length < SENDGRID_LIMITS.personalizationsPerRequest
        && current.recipients + addresses.length <= SENDGRID_LIMITS.recipientsPerRequest
        && addresses.every((a) => !current.addresses.has(a));
      if (current && fits) {
        current.body.personalizations.push(personalization);
        current.indexes.push(index);
        current.recipients += addresses.length;
        for (const a of addresses) current.addresses.add(a);
      } else {
        const pending: PendingRequest = { body: { ...body, personalizations: [personalization] }, indexes: [index], addresses: new Set(addresses), recipients: addresses.length };
        open.set(key, pending);
        requests.push(pending);
      }
    });
    const outcomes = new Array<BatchSendOutcome>(mails.length);
    await mapWithConcurrency(requests, this.batchConcurrency, async (pending) => {
      try {
        const providerId = await this.post(pending.body, pending.indexes.length > 1 ? 'batch' : 'send', options.signal);
        for (const index of pending.indexes) outcomes[index] = { ok: true, result: this.acceptedResult(mails[index] as OutgoingMail, providerId) };
      } catch (error) {
        if (!(error instanceof TransportError)) throw error;
        for (const index of pending.indexes) outcomes[index] = { ok: false, error };
      }
    });
    return outcomes;
  }

  /**
   * `GET /v3/scopes`: works with any valid key and sends nothing. A key without the `mail.send`
   * scope fails too, as `auth`, since every send with it would.
   */
  async verify(options: HttpSendOptions = {}): Promise<void> {
    const response = await this.request({ method: 'GET', path: '/v3/scopes', operation: 'verify', signal: options.signal });
    const scopes = (response.body as { scopes?: unknown } | undefined)?.scopes;
    if (Array.isArray(scopes) && !scopes.includes('mail.send')) {
      throw this.toTransportError({
        kind: 'http',
        operation: 'verify',
        status: response.status,
        details: { failure: 'auth', providerCode: 'mail.send', message: 'The API key does not have the mail.send scope.' },
      });
    }
  }

  protected checkSupported(mail: OutgoingMail): void {
    const feature = sendGridUnsupportedFeature(mail);
    if (feature) throw this.unsupported(feature);
  }

  protected authHeaders(): Record<string, string> {
    return { Authorization: `Bearer ${this.apiKey}` };
  }

  protected secrets(): string[] {
    return [this.apiKey];
  }

  protected describeError(_status: number, body: unknown, text: string): ProviderErrorDetails {
    const errors = (body as SendGridErrorBody | undefined)?.errors;
    if (Array.isArray(errors) && errors.length) {
      return {
        message: errors
          .map((e) => (e.field ? `${e.message ?? 'error'} (field ${e.field})` : e.message ?? 'error'))
          .join('; '),
      };
    }
    return { message: text.trim() || undefined };
  }

  protected override rateLimitDelay(headers: Headers | Record<string, string | undefined>): number | undefined {
    const value = headerValue(headers, 'x-ratelimit-reset');
    return parseEpochSecondsReset(value);
  }

  private async post(body: SendGridMailBody, operation: string, signal?: AbortSignal): Promise<string | undefined> {
    const response = await this.request({ method: 'POST', path: '/v3/mail/send', json: body, operation, signal });
    return response.headers.get('x-message-id') ?? undefined;
  }

}
