import type { OutgoingMail } from '../../../core/mail.types.js';
import type { TransportResult } from '../../../core/send-result.types.js';
import { MailerConfigurationError } from '../../../errors/mailer.error.js';
import {
  HttpTransport,
  type HttpSendOptions,
  type HttpTransportOptions,
  type ProviderErrorDetails,
} from '../../http/index.js';
import { buildSesSendEmailInput, sesUnsupportedFeature } from './ses.payload.js';
import { loadSesSdk, type SesClient, type SesClientConfig, type SesCommand } from './ses.sdk.js';

export interface SesTransportOptions extends HttpTransportOptions {
  /** AWS region (`eu-west-1`). Without it the SDK reads AWS_REGION and the shared config files. */
  region?: string;
  /**
   * Static credentials. Without them the SDK's default chain applies (environment, shared files,
   * SSO, container or instance role).
   */
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  /** Configuration set for event publishing (bounces, complaints, deliveries). */
  configurationSetName?: string;
  /** DKIM signing of the raw MIME; accepted as an option name and carried as given. */
  dkim?: unknown;
}

/** SES error names that mean the credentials or the signature were refused. */
const AUTH_ERRORS = new Set([
  'UnrecognizedClientException', 'InvalidSignatureException', 'SignatureDoesNotMatch', 'InvalidClientTokenId',
  'AccessDeniedException', 'ExpiredTokenException', 'IncompleteSignatureException', 'CredentialsProviderError',
  'MissingAuthenticationTokenException',
]);

interface SdkError {
  name?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $response?: { headers?: Record<string, string | undefined> };
}

/**
 * Amazon SES v2 `SendEmail` with `Content.Raw`, through `@aws-sdk/client-sesv2` (an optional
 * peer, loaded on first use). The SDK's own retries are off (`maxAttempts: 1`) so that the
 * mailer's retry policy is the only one. `baseUrl` becomes the SDK's `endpoint`.
 * `sendBatch` sends one request per mail: SendBulkEmail only sends templates.
 */
export class SesTransport extends HttpTransport {
  private readonly options: SesTransportOptions;
  private client?: Promise<SesClient>;

  constructor(options: SesTransportOptions = {}) {
    super('ses', options, `https://email.${options.region ?? 'us-east-1'}.amazonaws.com`);
    if ((options.accessKeyId === undefined) !== (options.secretAccessKey === undefined)) {
      throw new MailerConfigurationError('The ses transport needs both accessKeyId and secretAccessKey, or neither (default credential chain).');
    }
    this.options = options;
  }

  async send(mail: OutgoingMail, options: HttpSendOptions = {}): Promise<TransportResult> {
    this.checkSupported(mail);
    const sdk = await loadSesSdk();
    const input = await buildSesSendEmailInput(mail, { configurationSetName: this.options.configurationSetName });
    const answer = await this.call(new sdk.SendEmailCommand(input), 'send', options.signal);
    return this.acceptedResult(mail, typeof answer.MessageId === 'string' ? answer.MessageId : undefined);
  }

  /** `GetAccount`: checks the credentials and that sending is enabled; sends nothing. */
  async verify(options: HttpSendOptions = {}): Promise<void> {
    const sdk = await loadSesSdk();
    const account = await this.call(new sdk.GetAccountCommand({}), 'verify', options.signal);
    if (account.SendingEnabled === false) {
      throw this.toTransportError({
        kind: 'http',
        operation: 'verify',
        details: { failure: 'http', providerCode: 'SendingPausedException', message: 'Sending is paused for this SES account.' },
      });
    }
  }

  override async close(): Promise<void> {
    const pending = this.client;
    this.client = undefined;
    if (pending) (await pending.catch(() => undefined))?.destroy();
  }

  protected checkSupported(mail: OutgoingMail): void {
    const feature = sesUnsupportedFeature(mail);
    if (feature) throw this.unsupported(feature);
  }

  protected authHeaders(): Record<string, string> {
    return {};
  }

  protected secrets(): string[] {
    return [this.options.secretAccessKey, this.options.sessionToken].filter((s): s is string => !!s);
  }

  protected describeError(status: number, body: unknown, text: string): ProviderErrorDetails {
    const error = (body ?? {}) as SdkError;
    const name = error.name;
    const message = error.message ?? (text || undefined);
    const details: ProviderErrorDetails = { message };
    if (name) details.providerCode = name;
    if (name && AUTH_ERRORS.has(name)) details.failure = 'auth';
    else if (name === 'ThrottlingException') details.failure = /daily/i.test(message ?? '') ? 'http' : 'rate-limit';
    else if (name === 'TooManyRequestsException' || status === 429) details.failure = 'rate-limit';
    return details;
  }

  private getClient(): Promise<SesClient> {
    this.client ??= loadSesSdk().then((sdk) => {
      const config: SesClientConfig = { maxAttempts: 1 };
      if (this.options.region) config.region = this.options.region;
      if (this.options.baseUrl) config.endpoint = this.options.baseUrl;
      if (this.options.accessKeyId && this.options.secretAccessKey) {
        config.credentials = {
          accessKeyId: this.options.accessKeyId,
          secretAccessKey: this.options.secretAccessKey,
          ...(this.options.sessionToken ? { sessionToken: this.options.sessionToken } : {}),
        };
      }
      return new sdk.SESv2Client(config);
    });
    return this.client;
  }

  /** One SDK call; every failure leaves through `toTransportError`. */
  private async call(command: SesCommand, operation: string, caller?: AbortSignal): Promise<Record<string, unknown>> {
    const client = await this.getClient();
    const { signal, timeoutSignal } = this.requestSignal(caller);
    try {
      return await client.send(command, { abortSignal: signal });
    } catch (cause) {
      const error = (cause ?? {}) as SdkError;
      const status = error.$metadata?.httpStatusCode;
      const isServiceAnswer = typeof status === 'number' || (error.name !== undefined && AUTH_ERRORS.has(error.name));
      if (!isServiceAnswer || timeoutSignal.aborted || caller?.aborted) {
        throw this.toTransportError({ kind: 'network', operation, cause, timedOut: timeoutSignal.aborted, aborted: caller?.aborted ?? false });
      }
      throw this.toTransportError({
        kind: 'http',
        operation,
        status,
        headers: error.$response?.headers,
        details: this.describeError(status ?? 0, error, ''),
        cause,
      });
    }
  }
}
