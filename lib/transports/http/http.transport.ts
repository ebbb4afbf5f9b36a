import type { OutgoingMail } from '../../core/mail.types.js';
import type { TransportResult } from '../../core/send-result.types.js';
import type { Transport } from '../../core/transport.types.js';
import {
  MailerConfigurationError,
  MailerError,
  TransportError,
  UnsupportedFeatureError,
  type TransportFailure,
} from '../../errors/mailer.error.js';
import { mapWithConcurrency } from './concurrency.js';
import { classifyHttpFailure } from './failure-classification.js';
import type {
  BatchSendOutcome,
  FailureInput,
  HttpRequest,
  HttpResponse,
  HttpSendOptions,
  HttpTransportOptions,
  ProviderErrorDetails,
} from './http.types.js';
import { parseRetryAfter } from './retry-after.js';

export const DEFAULT_HTTP_TIMEOUT = 30_000;
export const DEFAULT_BATCH_CONCURRENCY = 8;
const USER_AGENT = 'nestjs-mailroom';

const CONNECTION_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH',
  'ECONNABORTED', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'ERR_SOCKET_CONNECTION_TIMEOUT',
]);
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** The first `code` or `name` along an error's `cause` chain that says what the network did. */
function networkCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
    const { code, name } = current as { code?: unknown; name?: unknown };
    if (typeof code === 'string' && (CONNECTION_CODES.has(code) || TIMEOUT_CODES.has(code))) return code;
    if (name === 'TimeoutError' || name === 'AbortError') return name;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** A header from fetch `Headers` or a plain record (the AWS SDK's), case-insensitively. */
export function headerValue(headers: Headers | Record<string, string | undefined> | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === wanted) return value;
  return undefined;
}

/**
 * Base of every provider API transport: fetch with a per-request timeout, JSON and multipart
 * bodies, and the one place where a failure of any kind becomes a `TransportError`. Subclasses
 * build payloads and read the provider's answers; they never throw anything else for a failed
 * request. Credentials given to `secrets()` are removed from every message and response text.
 */
export abstract class HttpTransport implements Transport {
  readonly name: string;
  readonly kind: string;
  protected readonly baseUrl: string;
  protected readonly timeout: number;
  protected readonly batchConcurrency: number;

  protected constructor(kind: string, options: HttpTransportOptions, defaultBaseUrl: string) {
    this.kind = kind;
    this.name = options.name ?? kind;
    this.baseUrl = (options.baseUrl ?? defaultBaseUrl).replace(/\/+$/, '');
    try {
      new URL(this.baseUrl);
    } catch {
      throw new MailerConfigurationError(`The ${kind} transport's baseUrl "${this.baseUrl}" is not a URL.`);
    }
    this.timeout = options.timeout ?? DEFAULT_HTTP_TIMEOUT;
    if (!(this.timeout > 0)) throw new MailerConfigurationError(`The ${kind} transport's timeout must be a positive number of milliseconds.`);
    this.batchConcurrency = options.batchConcurrency ?? DEFAULT_BATCH_CONCURRENCY;
    if (!(this.batchConcurrency >= 1)) throw new MailerConfigurationError(`The ${kind} transport's batchConcurrency must be at least 1.`);
  }

  abstract send(mail: OutgoingMail, options?: HttpSendOptions): Promise<TransportResult>;

  /** An authenticated call that sends nothing; rejects with a `TransportError` (`auth` for bad credentials). */
  abstract verify(options?: HttpSendOptions): Promise<void>;

  /**
   * Sends each mail and reports one outcome per mail, in input order. This default sends them one
   * request at a time, `batchConcurrency` in flight; providers with a batch endpoint override it.
   * A mail the provider cannot carry makes the whole call throw `UnsupportedFeatureError` before any
   * request, so a batch never half-goes for a reason known in advance.
   */
  async sendBatch(mails: OutgoingMail[], options: HttpSendOptions = {}): Promise<BatchSendOutcome[]> {
    for (const mail of mails) this.checkSupported(mail);
    return mapWithConcurrency(mails, this.batchConcurrency, (mail) => this.settle(this.send(mail, options)));
  }

  async close(): Promise<void> {
    // fetch keeps no connection pool of ours to release.
  }

  /** Throws `UnsupportedFeatureError` for anything in the mail this provider cannot carry. */
  protected abstract checkSupported(mail: OutgoingMail): void;

  /** Authentication headers for every request. */
  protected abstract authHeaders(): Record<string, string>;

  /** Credential strings that must never appear in an error, a response text or a log. */
  protected abstract secrets(): string[];

  /** Reads the provider's error code and message out of an error answer. */
  protected abstract describeError(status: number, body: unknown, text: string): ProviderErrorDetails;

  /**
   * Milliseconds until the provider's rate limit resets, from its own headers; consulted for 429
   * answers without Retry-After.
   */
  protected rateLimitDelay(_headers: Headers | Record<string, string | undefined>): number | undefined {
    return undefined;
  }

  /** Turns a send promise into a batch outcome; anything that is not a `TransportError` propagates. */
  /**
   * The result of a mail the provider took for every recipient; `response` is what the provider
   * answered (its id, as written), `providerMessageId` the id as its webhooks spell it.
   */
  protected acceptedResult(mail: OutgoingMail, providerMessageId?: string, response = providerMessageId): TransportResult {
    const result: TransportResult = {
      messageId: mail.messageId,
      accepted: [...mail.envelope.to],
      rejected: [],
      envelope: { from: mail.envelope.from, to: [...mail.envelope.to] },
    };
    if (providerMessageId) result.providerMessageId = providerMessageId;
    if (response) result.response = response;
    return result;
  }

  protected async settle(pending: Promise<TransportResult>): Promise<BatchSendOutcome> {
    try {
      return { ok: true, result: await pending };
    } catch (error) {
      // One mail's own problem must not fail the mails beside it.
      if (error instanceof MailerError) return { ok: false, error };
      throw error;
    }
  }

  /** The transport's timeout combined with the caller's signal. */
  protected requestSignal(caller?: AbortSignal): { signal: AbortSignal; timeoutSignal: AbortSignal } {
    const timeoutSignal = AbortSignal.timeout(this.timeout);
    return { signal: caller ? AbortSignal.any([timeoutSignal, caller]) : timeoutSignal, timeoutSignal };
  }

  /** One request; resolves for 2xx answers and rejects with a `TransportError` for everything else. */
  protected async request(request: HttpRequest): Promise<HttpResponse> {
    const { signal, timeoutSignal } = this.requestSignal(request.signal);
    const headers: Record<string, string> = {
      'User-Agent': USER_AGENT,
      Accept: 'application/json',
      ...this.authHeaders(),
      ...request.headers,
    };
    let body: string | FormData | undefined;
    if (request.json !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(request.json);
    } else if (request.form) {
      body = request.form;
    }
    let response: Response;
    let text: string;
    try {
      response = await fetch(`${this.baseUrl}${request.path}`, { method: request.method, headers, body, signal });
      text = await response.text();
    } catch (cause) {
      throw this.toTransportError({
        kind: 'network',
        operation: request.operation,
        cause,
        timedOut: timeoutSignal.aborted,
        aborted: request.signal?.aborted ?? false,
      });
    }
    let parsed: unknown;
    const type = response.headers.get('content-type') ?? '';
    if (text !== '' && (type.includes('json') || /^\s*[[{]/.test(text))) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
    }
    if (response.status >= 200 && response.status < 300) return { status: response.status, headers: response.headers, text, body: parsed };
    throw this.toTransportError({
      kind: 'http',
      operation: request.operation,
      status: response.status,
      headers: response.headers,
      details: this.describeError(response.status, parsed, text),
    });
  }

  /** The error for a feature this provider cannot carry; throw it before any request. */
  protected unsupported(feature: string): UnsupportedFeatureError {
    return new UnsupportedFeatureError(this.name === this.kind ? this.kind : `${this.name} (${this.kind})`, feature);
  }

  /** Removes every configured credential from a text. */
  protected scrub(text: string): string {
    let result = text;
    for (const secret of this.secrets()) {
      if (secret && secret.length >= 4) result = result.split(secret).join('***');
    }
    return result;
  }

  /** The one place where any failure becomes a `TransportError`. */
  protected toTransportError(input: FailureInput): TransportError {
    const provider = this.kind;
    if (input.kind === 'network') {
      const code = networkCode(input.cause);
      let failure: TransportFailure;
      let what: string;
      if (input.timedOut || code === 'TimeoutError' || (code !== undefined && TIMEOUT_CODES.has(code))) {
        failure = 'timeout';
        what = `timed out after ${this.timeout} ms`;
      } else if (input.aborted || code === 'AbortError') {
        failure = 'unknown';
        what = 'was aborted by the caller';
      } else if (code !== undefined) {
        failure = 'connection';
        what = `could not reach ${this.scrub(this.origin())} (${code})`;
      } else {
        failure = 'connection';
        const detail = input.cause instanceof Error ? input.cause.message : String(input.cause);
        what = `failed before an answer: ${this.scrub(detail)}`;
      }
      const error = new TransportError(`${provider} ${input.operation} ${what}`, {
        transport: this.name,
        provider,
        failure,
        cause: this.safeCause(input.cause),
      });
      error.classification = classifyHttpFailure(error);
      return error;
    }

    const { status, details } = input;
    let failure: TransportFailure = details.failure ?? 'http';
    if (!details.failure) {
      if (status === 401 || status === 403) failure = 'auth';
      else if (status === 429) failure = 'rate-limit';
    }
    let retryAfter = input.retryAfter ?? parseRetryAfter(headerValue(input.headers, 'retry-after'));
    if (retryAfter === undefined && (status === 429 || failure === 'rate-limit') && input.headers) {
      retryAfter = this.rateLimitDelay(input.headers);
    }
    const message = details.message === undefined ? undefined : this.scrub(details.message);
    const parts = [
      status !== undefined ? `HTTP ${status}` : undefined,
      details.providerCode !== undefined ? `code ${details.providerCode}` : undefined,
    ].filter(Boolean).join(', ');
    const error = new TransportError(
      `${provider} ${input.operation} failed${parts ? ` (${parts})` : ''}${message ? `: ${message}` : ''}`,
      {
        transport: this.name,
        provider,
        failure,
        statusCode: status,
        providerCode: details.providerCode,
        response: message,
        retryAfter,
        cause: input.cause === undefined ? undefined : this.safeCause(input.cause),
      },
    );
    error.classification = classifyHttpFailure(error);
    return error;
  }

  private origin(): string {
    try {
      return new URL(this.baseUrl).origin;
    } catch {
      return this.baseUrl;
    }
  }

  /**
   * A plain copy of a library error (name, code, scrubbed message) so that nothing the library
   * attached — request objects, headers with credentials — travels on as the error's cause.
   */
  private safeCause(cause: unknown): Error | undefined {
    if (!(cause instanceof Error)) return cause === undefined ? undefined : new Error(this.scrub(String(cause)));
    const copy = new Error(this.scrub(cause.message));
    copy.name = cause.name;
    const code = networkCode(cause) ?? (cause as { code?: unknown }).code;
    if (typeof code === 'string') (copy as Error & { code?: string }).code = code;
    copy.stack = `${copy.name}: ${copy.message}`;
    return copy;
  }
}
