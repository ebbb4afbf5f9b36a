/**
 * Where a transport writes the log lines it was asked for (`logger: true`, `debug: true` on SMTP).
 * Nest's `Logger` fits as it is; MailerModule hands one in, plain `createTransport()` uses the
 * console.
 */
export interface TransportLogger {
  debug(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export const CONSOLE_TRANSPORT_LOGGER: TransportLogger = {
  debug: (message) => console.debug(message),
  warn: (message) => console.warn(message),
  error: (message) => console.error(message),
};

/** What `createTransport()` passes on to the transports it builds. */
export interface TransportContext {
  /** Receives the log lines transports were configured to write. Default: the console. */
  logger?: TransportLogger;
}
