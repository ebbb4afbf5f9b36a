import type { TransportResult } from './send-result.types.js';

/** The name and kind of a transport, as attempts and errors report them. */
export interface TransportIdentity {
  readonly name: string;
  readonly kind: string;
}

/**
 * Follows one send through its attempts without the transports knowing what records them (the
 * telemetry in `lib/telemetry` does, as OpenTelemetry spans). A transport that tries others on the
 * mail's behalf — failover, round-robin, or one of your own — calls `attempt()` around each of
 * those tries and hands the trace it is given to the child, so that the tries nest.
 */
export interface SendTrace {
  /**
   * One try on `transport`: runs `send` with the trace for the tries it makes in turn and records
   * how it ended. Resolves or rejects as `send` does.
   */
  attempt(transport: TransportIdentity, send: (inner: SendTrace) => Promise<TransportResult>): Promise<TransportResult>;
  /** The retry policy waits `delay` milliseconds after attempt number `attempt` failed with `error`. */
  retryWait(delay: number, attempt: number, error: unknown): void;
  /** The transport's rate limit held the mail back for `ms` milliseconds before an attempt. */
  rateLimitWait(ms: number): void;
}

/** What a send passes to `Transport.send` besides the mail. Transports that need neither ignore it. */
export interface TransportSendOptions {
  /** Aborts the request in flight (HTTP API transports). */
  signal?: AbortSignal;
  /** Present while the send is traced; see SendTrace. */
  trace?: SendTrace;
}
