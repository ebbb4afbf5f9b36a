import { format } from 'node:util';
import { redact } from '../../errors/redact.js';
import type { TransportLogger } from '../transport-logger.js';

type NodemailerLogMethod = (entry: unknown, message?: unknown, ...args: unknown[]) => void;

/** The bunyan-style interface nodemailer logs through. */
export type NodemailerLogger = Record<'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal', NodemailerLogMethod>;

/**
 * nodemailer's log entries as lines on a TransportLogger: its own levels below warn become debug
 * lines, SMTP traffic is marked `C:` / `S:`. nodemailer masks AUTH payloads itself; the line is
 * redacted once more so that a secret in some other form (a URL with a password) is not printed.
 */
export function nodemailerLogger(sink: TransportLogger, transport: string): NodemailerLogger {
  const line = (entry: unknown, message: unknown, args: unknown[]): string => {
    const tnx = typeof entry === 'object' && entry !== null ? (entry as { tnx?: unknown }).tnx : undefined;
    const prefix = tnx === 'server' ? 'S: ' : tnx === 'client' ? 'C: ' : '';
    return redact(`SMTP transport "${transport}": ${prefix}${format(message, ...args)}`);
  };
  const debug: NodemailerLogMethod = (entry, message, ...args) => sink.debug(line(entry, message, args));
  const error: NodemailerLogMethod = (entry, message, ...args) => sink.error(line(entry, message, args));
  return {
    trace: debug,
    debug,
    info: debug,
    warn: (entry, message, ...args) => sink.warn(line(entry, message, args)),
    error,
    fatal: error,
  };
}
