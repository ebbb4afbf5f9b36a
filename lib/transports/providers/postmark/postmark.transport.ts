import type { OutgoingMail } from '../../../core/mail.types.js';
import type { RejectedRecipient, TransportResult } from '../../../core/send-result.types.js';
import { MailerConfigurationError, TransportError } from '../../../errors/mailer.error.js';
import {
  allRecipients,
  chunk,
  classifyRejectedRecipient,
  HttpTransport,
  mapWithConcurrency,
  type BatchSendOutcome,
  type HttpResponse,
  type HttpSendOptions,
  type HttpTransportOptions,
  type ProviderErrorDetails,
} from '../../http/index.js';
import { providerDkimError } from '../../dkim/dkim.options.js';
import {
  buildPostmarkMessage,
  parseInactiveRecipients,
  postmarkUnsupportedFeature,
  type PostmarkMessage,
} from './postmark.payload.js';


/** Where DKIM is set up for this provider, since it signs the messages itself. */
export const POSTMARK_DKIM_SETUP = 'Add your domain in Postmark (Sender Signatures → Domains) and publish the DKIM record it shows.';
export const POSTMARK_API_URL = 'https://api.postmarkapp.com';
/** Postmark's limits for one `/email/batch` request. */
export const POSTMARK_BATCH_MAX_MESSAGES = 500;
export const POSTMARK_BATCH_MAX_BYTES = 50 * 1024 * 1024;

export interface PostmarkTransportOptions extends HttpTransportOptions {
  /** Server API token (`X-Postmark-Server-Token`). `POSTMARK_API_TEST` validates without sending. */
  serverToken: string;
  /** Message stream for every mail; Postmark's default is `outbound`. */
  messageStream?: string;
}

/** Postmark's answer for one message (single send, or one entry of a batch answer). */
interface PostmarkSendAnswer {
  To?: string;
  SubmittedAt?: string;
  MessageID?: string;
  ErrorCode?: number;
  Message?: string;
}

/**
 * Postmark's status for an ErrorCode reported inside a 200 batch answer: the status Postmark
 * answers with for the same error on a single send (422, or 429 for its rate limit).
 */
const batchItemStatus = (errorCode: number): number => (errorCode === 429 ? 429 : 422);

/**
 * Postmark Email API. Inactive recipients (hard bounce, complaint, manual suppression):
 * - when only some recipients are inactive, Postmark sends to the others and names the inactive
 *   ones in its message; they are reported in `rejected` with `replyCode` 422 (the status Postmark
 *   uses for that refusal) and the provider's message as `response`;
 * - when every recipient is inactive Postmark answers 422 with ErrorCode 406 and the mail went to
 *   nobody: that is a `TransportError` with failure `envelope`, providerCode `406`, and each
 *   inactive recipient in `rejected` (reason `suppressed`), on a single send and in a batch.
 */
export class PostmarkTransport extends HttpTransport {
  private readonly serverToken: string;
  private readonly messageStream?: string;

  constructor(options: PostmarkTransportOptions) {
    super('postmark', options, POSTMARK_API_URL);
    if ((options as { dkim?: unknown }).dkim !== undefined) throw providerDkimError('postmark', POSTMARK_DKIM_SETUP);
    if (!options.serverToken) throw new MailerConfigurationError('The postmark transport needs a serverToken.');
    this.serverToken = options.serverToken;
    this.messageStream = options.messageStream;
  }

  async send(mail: OutgoingMail, options: HttpSendOptions = {}): Promise<TransportResult> {
    this.checkSupported(mail);
    const message = await buildPostmarkMessage(mail, { messageStream: this.messageStream });
    let response: HttpResponse;
    try {
      response = await this.request({ method: 'POST', path: '/email', json: message, operation: 'send', signal: options.signal });
    } catch (error) {
      throw error instanceof TransportError ? this.withInactiveRecipients(mail, error) : error;
    }
    return this.result(mail, (response.body ?? {}) as PostmarkSendAnswer);
  }

  /** `/email/batch`, at most 500 messages and 50 MB per request; larger inputs go in several requests. */
  override async sendBatch(mails: OutgoingMail[], options: HttpSendOptions = {}): Promise<BatchSendOutcome[]> {
    for (const mail of mails) this.checkSupported(mail);
    const messages = await Promise.all(mails.map((mail) => buildPostmarkMessage(mail, { messageStream: this.messageStream })));
    const entries = messages.map((message, index) => ({ message, index, size: Buffer.byteLength(JSON.stringify(message)) + 1 }));
    const outcomes = new Array<BatchSendOutcome>(mails.length);
    const requests = chunk(entries, POSTMARK_BATCH_MAX_MESSAGES, (e) => e.size, POSTMARK_BATCH_MAX_BYTES - 2);
    await mapWithConcurrency(requests, this.batchConcurrency, async (group) => {
      try {
        const response = await this.request({
          method: 'POST',
          path: '/email/batch',
          json: group.map((e) => e.message) satisfies PostmarkMessage[],
          operation: 'batch',
          signal: options.signal,
        });
        const answers = Array.isArray(response.body) ? (response.body as PostmarkSendAnswer[]) : [];
        group.forEach((entry, position) => {
          const mail = mails[entry.index] as OutgoingMail;
          const answer = answers[position];
          if (!answer) {
            outcomes[entry.index] = {
              ok: false,
              error: this.toTransportError({
                kind: 'http',
                operation: 'batch',
                status: response.status,
                details: { failure: 'protocol', message: `Postmark's batch answer has no entry for message ${position + 1} of ${group.length}` },
              }),
            };
          } else if (answer.ErrorCode && answer.ErrorCode !== 0) {
            const status = batchItemStatus(answer.ErrorCode);
            const error = this.toTransportError({ kind: 'http', operation: 'batch', status, details: this.describeError(status, answer, '') });
            outcomes[entry.index] = { ok: false, error: this.withInactiveRecipients(mail, error) };
          } else {
            outcomes[entry.index] = { ok: true, result: this.result(mail, answer) };
          }
        });
      } catch (error) {
        if (!(error instanceof TransportError)) throw error;
        for (const entry of group) outcomes[entry.index] = { ok: false, error };
      }
    });
    return outcomes;
  }

  /** `GET /server`: needs a valid server token and sends nothing. */
  async verify(options: HttpSendOptions = {}): Promise<void> {
    await this.request({ method: 'GET', path: '/server', operation: 'verify', signal: options.signal });
  }

  protected checkSupported(mail: OutgoingMail): void {
    const feature = postmarkUnsupportedFeature(mail);
    if (feature) throw this.unsupported(feature);
  }

  protected authHeaders(): Record<string, string> {
    return { 'X-Postmark-Server-Token': this.serverToken };
  }

  protected secrets(): string[] {
    return [this.serverToken];
  }

  protected describeError(status: number, body: unknown, text: string): ProviderErrorDetails {
    const answer = (body && typeof body === 'object' ? body : {}) as PostmarkSendAnswer;
    const details: ProviderErrorDetails = {};
    if (typeof answer.ErrorCode === 'number') details.providerCode = String(answer.ErrorCode);
    details.message = typeof answer.Message === 'string' ? answer.Message : text.trim() || undefined;
    if (answer.ErrorCode === 406) details.failure = 'envelope';
    else if (answer.ErrorCode === 10) details.failure = 'auth';
    else if (answer.ErrorCode === 429 || status === 429) details.failure = 'rate-limit';
    return details;
  }

  /** A recipient Postmark names as inactive: refused with the status it uses for that (422) and code 406. */
  private inactiveRecipient(address: string, message: string | undefined): RejectedRecipient {
    const entry: RejectedRecipient = { address, replyCode: 422, response: message };
    entry.classification = classifyRejectedRecipient({ provider: this.kind, recipient: address, statusCode: 422, providerCode: '406', message });
    return entry;
  }

  /**
   * Postmark's 406 (every recipient inactive) as an error that lists each recipient in `rejected`,
   * the way a partly refused mail lists the inactive ones, so the suppression list learns them
   * from a single send and from a batch alike. When Postmark's message names no address, every
   * recipient of the mail is one, as 406 says.
   */
  private withInactiveRecipients(mail: OutgoingMail, error: TransportError): TransportError {
    if (error.providerCode !== '406' || error.rejected?.length) return error;
    const named = new Set(parseInactiveRecipients(error.response));
    const recipients = allRecipients(mail);
    const inactive = recipients.filter((address) => named.has(address.toLowerCase()));
    return new TransportError(error.message, {
      transport: error.transport,
      failure: error.failure,
      provider: error.provider,
      statusCode: error.statusCode,
      providerCode: error.providerCode,
      response: error.response,
      retryAfter: error.retryAfter,
      classification: error.classification,
      rejected: (inactive.length ? inactive : recipients).map((address) => this.inactiveRecipient(address, error.response)),
      cause: error.cause,
    });
  }

  private result(mail: OutgoingMail, answer: PostmarkSendAnswer): TransportResult {
    const inactive = new Set(parseInactiveRecipients(answer.Message));
    const recipients = allRecipients(mail);
    const rejected: RejectedRecipient[] = [];
    const accepted: string[] = [];
    for (const address of recipients) {
      if (inactive.has(address.toLowerCase())) rejected.push(this.inactiveRecipient(address, answer.Message));
      else accepted.push(address);
    }
    const result: TransportResult = {
      messageId: mail.messageId,
      accepted,
      rejected,
      envelope: { from: mail.envelope.from, to: [...mail.envelope.to] },
    };
    if (answer.MessageID) {
      result.providerMessageId = answer.MessageID;
      result.response = answer.MessageID;
    }
    return result;
  }
}
