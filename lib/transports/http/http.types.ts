import type { TransportResult } from '../../core/send-result.types.js';
import type { MailerError, TransportFailure } from '../../errors/mailer.error.js';

/** Options every HTTP API transport accepts. */
export interface HttpTransportOptions {
  /** Name of this transport in results, events and logs. Defaults to the provider (`postmark`, …). */
  name?: string;
  /**
   * Origin (and optional path prefix) of the provider's API, replacing the default: an EU host,
   * a proxy, or a local fake in tests. No trailing slash needed.
   */
  baseUrl?: string;
  /** Milliseconds one HTTP request may take, connection included. Default 30 000. */
  timeout?: number;
  /**
   * How many requests `sendBatch` keeps in flight when it sends mails (or chunks) one request
   * at a time. Default 8.
   */
  batchConcurrency?: number;
}

/** Per-call options of `send`, `sendBatch` and `verify`. */
export interface HttpSendOptions {
  /** Aborts the request, e.g. on the caller's deadline; combined with the transport's own timeout. */
  signal?: AbortSignal;
}

/**
 * The outcome of one mail of a batch, in input order: a TransportError when the provider refused
 * it, or the MailerError (unreadable attachment, unsupported feature) that stopped it before.
 */
export type BatchSendOutcome =
  | { ok: true; result: TransportResult }
  | { ok: false; error: MailerError };

/** One request to the provider's API. */
export interface HttpRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Appended to the base URL; starts with `/`. */
  path: string;
  headers?: Record<string, string>;
  /** Sent as `application/json`. */
  json?: unknown;
  /** Sent as `multipart/form-data` (the boundary is chosen by fetch). */
  form?: FormData;
  /** What the request is for, in error messages (`send`, `batch`, `verify`). */
  operation: string;
  signal?: AbortSignal;
}

/** A 2xx answer. `body` is the parsed JSON when the answer was JSON, else undefined. */
export interface HttpResponse {
  status: number;
  headers: Headers;
  text: string;
  body: unknown;
}

/** What a provider reads out of an error answer. */
export interface ProviderErrorDetails {
  /** The provider's own error code or name (`406`, `validation_error`, `MessageRejected`). */
  providerCode?: string;
  /** The provider's message, used as the error's `response`. */
  message?: string;
  /** Overrides the failure derived from the status (e.g. Postmark 406 → `envelope`). */
  failure?: TransportFailure;
}

/** Everything the one conversion point needs to build a `TransportError`. */
export type FailureInput =
  | {
      kind: 'network';
      operation: string;
      cause: unknown;
      /** True when the transport's own timeout fired. */
      timedOut?: boolean;
      /** True when the caller's signal fired. */
      aborted?: boolean;
    }
  | {
      kind: 'http';
      operation: string;
      status?: number;
      headers?: Headers | Record<string, string | undefined>;
      details: ProviderErrorDetails;
      /** A delay the provider gave in its body or that the caller worked out already. */
      retryAfter?: number;
      cause?: unknown;
    };
