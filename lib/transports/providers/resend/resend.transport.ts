import type { OutgoingMail } from '../../../core/mail.types.js';
import type { TransportResult } from '../../../core/send-result.types.js';
import { MailerConfigurationError, TransportError } from '../../../errors/mailer.error.js';
import {
  chunk,
  headerValue,
  HttpTransport,
  mapWithConcurrency,
  parseDeltaSecondsReset,
  type BatchSendOutcome,
  type HttpSendOptions,
  type HttpTransportOptions,
  type ProviderErrorDetails,
} from '../../http/index.js';
import { providerDkimError } from '../../dkim/dkim.options.js';
import {
  buildResendEmail,
  resendBatchIdempotencyKey,
  resendIdempotencyKey,
  resendUnsupportedFeature,
  type ResendEmail,
} from './resend.payload.js';


/** Where DKIM is set up for this provider, since it signs the messages itself. */
export const RESEND_DKIM_SETUP = 'Add your domain in Resend (Domains) and publish the DKIM records it shows.';
export const RESEND_API_URL = 'https://api.resend.com';
export const RESEND_BATCH_MAX = 100;

export interface ResendTransportOptions extends HttpTransportOptions {
  /** API key (`re_…`). A sending-only key is enough, `verify()` included. */
  apiKey: string;
}

interface ResendErrorBody {
  statusCode?: number;
  name?: string;
  message?: string;
}

interface ResendBatchAnswer {
  data?: Array<{ id?: string }>;
  errors?: Array<{ index?: number; message?: string }>;
}

/**
 * Resend Emails API. Every send carries `Idempotency-Key` derived from the Message-ID, so a retry
 * after a lost answer does not send twice.
 */
export class ResendTransport extends HttpTransport {
  private readonly apiKey: string;

  constructor(options: ResendTransportOptions) {
    super('resend', options, RESEND_API_URL);
    if ((options as { dkim?: unknown }).dkim !== undefined) throw providerDkimError('resend', RESEND_DKIM_SETUP);
    if (!options.apiKey) throw new MailerConfigurationError('The resend transport needs an apiKey.');
    this.apiKey = options.apiKey;
  }

  async send(mail: OutgoingMail, options: HttpSendOptions = {}): Promise<TransportResult> {
    this.checkSupported(mail);
    const email = await buildResendEmail(mail);
    const response = await this.request({
      method: 'POST',
      path: '/emails',
      json: email,
      headers: { 'Idempotency-Key': resendIdempotencyKey(mail.messageId) },
      operation: 'send',
      signal: options.signal,
    });
    return this.acceptedResult(mail, (response.body as { id?: string } | undefined)?.id);
  }

  /**
   * `/emails/batch`, up to 100 mails per request, with `x-batch-validation: permissive` so that one
   * invalid mail fails alone. Resend refuses attachments in batches: mails with attachments are
   * sent one by one through `/emails` instead (same payload, same idempotency key), not refused.
   */
  override async sendBatch(mails: OutgoingMail[], options: HttpSendOptions = {}): Promise<BatchSendOutcome[]> {
    for (const mail of mails) this.checkSupported(mail);
    const outcomes = new Array<BatchSendOutcome>(mails.length);
    const singles: number[] = [];
    const batchable: Array<{ index: number; email: ResendEmail }> = [];
    const emails = await Promise.all(mails.map((mail) => buildResendEmail(mail)));
    emails.forEach((email, index) => {
      if (email.attachments?.length) singles.push(index);
      else batchable.push({ index, email });
    });
    const groups = chunk(batchable, RESEND_BATCH_MAX);
    type Job = { kind: 'single'; index: number } | { kind: 'batch'; group: typeof batchable };
    const jobs: Job[] = [
      ...groups.map((group): Job => (group.length === 1 ? { kind: 'single', index: (group[0] as { index: number }).index } : { kind: 'batch', group })),
      ...singles.map((index): Job => ({ kind: 'single', index })),
    ];
    await mapWithConcurrency(jobs, this.batchConcurrency, async (job) => {
      if (job.kind === 'single') {
        outcomes[job.index] = await this.settle(this.send(mails[job.index] as OutgoingMail, options));
        return;
      }
      try {
        const response = await this.request({
          method: 'POST',
          path: '/emails/batch',
          json: job.group.map((e) => e.email),
          headers: {
            'x-batch-validation': 'permissive',
            'Idempotency-Key': resendBatchIdempotencyKey(job.group.map((e) => (mails[e.index] as OutgoingMail).messageId)),
          },
          operation: 'batch',
          signal: options.signal,
        });
        const answer = (response.body ?? {}) as ResendBatchAnswer;
        const failed = new Map<number, string>();
        for (const e of answer.errors ?? []) if (typeof e.index === 'number') failed.set(e.index, e.message ?? 'rejected');
        const ids = answer.data ?? [];
        let next = 0;
        job.group.forEach((entry, position) => {
          const mail = mails[entry.index] as OutgoingMail;
          const problem = failed.get(position);
          if (problem !== undefined) {
            outcomes[entry.index] = {
              ok: false,
              error: this.toTransportError({
                kind: 'http',
                operation: 'batch',
                status: 422,
                details: { providerCode: 'validation_error', message: problem },
              }),
            };
            return;
          }
          const id = ids[next++]?.id;
          outcomes[entry.index] = { ok: true, result: this.acceptedResult(mail, id) };
        });
      } catch (error) {
        if (!(error instanceof TransportError)) throw error;
        for (const entry of job.group) outcomes[entry.index] = { ok: false, error };
      }
    });
    return outcomes;
  }

  /**
   * `GET /domains`. A sending-only key answers 401 `restricted_api_key` there: the key is valid,
   * it may just not read domains, so that counts as verified.
   */
  async verify(options: HttpSendOptions = {}): Promise<void> {
    try {
      await this.request({ method: 'GET', path: '/domains', operation: 'verify', signal: options.signal });
    } catch (error) {
      if (error instanceof TransportError && error.statusCode === 401 && error.providerCode === 'restricted_api_key') return;
      throw error;
    }
  }

  protected checkSupported(mail: OutgoingMail): void {
    const feature = resendUnsupportedFeature(mail);
    if (feature) throw this.unsupported(feature);
  }

  protected authHeaders(): Record<string, string> {
    return { Authorization: `Bearer ${this.apiKey}` };
  }

  protected secrets(): string[] {
    return [this.apiKey];
  }

  /**
   * Resend's `name` decides over the status: a 403 `validation_error` (unverified domain, testing
   * restriction) is not a credential problem, and a 429 quota error is not a short rate limit.
   */
  protected describeError(_status: number, body: unknown, text: string): ProviderErrorDetails {
    const answer = (body && typeof body === 'object' ? body : {}) as ResendErrorBody;
    const details: ProviderErrorDetails = { message: answer.message ?? (text.trim() || undefined) };
    if (answer.name) details.providerCode = answer.name;
    if (answer.name === 'validation_error') details.failure = 'http';
    else if (answer.name === 'daily_quota_exceeded' || answer.name === 'monthly_quota_exceeded') details.failure = 'http';
    else if (answer.name === 'missing_api_key' || answer.name === 'invalid_api_key' || answer.name === 'restricted_api_key') details.failure = 'auth';
    return details;
  }

  protected override rateLimitDelay(headers: Headers | Record<string, string | undefined>): number | undefined {
    const value = headerValue(headers, 'ratelimit-reset');
    return parseDeltaSecondsReset(value);
  }

}
