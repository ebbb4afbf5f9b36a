import type { NodemailerLogger } from './smtp.logger.js';
import type { SmtpLogger } from './smtp.options.js';

type Level = keyof NodemailerLogger;

const LEVELS: readonly Level[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

/** nodemailer's own order of stand-ins for a level a logger lacks. */
const FALLBACK: readonly string[] = ['info', 'debug', 'log', 'trace', 'warn', 'error'];

/** The pool's log entry for a connection that closed under a message before any of it was sent. */
const CLOSED_BEFORE_SENT = /closed by the server before message/;

/** Reasons kept for messages whose failure has not been read yet; more means they are never read. */
const LIMIT = 256;

function keyOf(messageId: string): string {
  return messageId.replace(/[<>\s]/g, '');
}

/**
 * Why a pooled connection closed under a message before a byte of it was sent, by Message-ID.
 *
 * On a connection that already carried mail, nodemailer's pool answers such a close — a `421` to
 * MAIL FROM or RCPT TO, or a connection the server dropped while it sat idle — by putting the
 * message back on its queue, and the caller never hears of it: a server's "slow down" is lost,
 * and the message goes out again unseen by the retry policy. The SMTP transport turns that off
 * (`maxRequeues: 0`), so the pool fails the message instead, with a bare "maximum number of
 * retries" error. The server's reply is then only in the pool's log entry for that message; this
 * reads that entry so the failure carries the reply and its classification.
 */
export class PoolClosures {
  private readonly reasons = new Map<string, string>();

  /**
   * The logger to give nodemailer: it notes the closures and hands every entry on to `inner`
   * unchanged (nothing is logged when `inner` is false).
   */
  logger(inner: NodemailerLogger | SmtpLogger | false): NodemailerLogger {
    const target = inner || undefined;
    const forward = (level: Level): ((...args: unknown[]) => void) | undefined => {
      if (!target) return undefined;
      const own = target as Record<string, unknown>;
      const name = typeof own[level] === 'function' ? level : FALLBACK.find((n) => typeof own[n] === 'function');
      return name ? (own[name] as (...args: unknown[]) => void).bind(target) : undefined;
    };
    const logger = {} as NodemailerLogger;
    for (const level of LEVELS) {
      const next = forward(level);
      logger[level] = (entry: unknown, message?: unknown, ...args: unknown[]) => {
        this.note(entry, message, args);
        next?.(entry, message, ...args);
      };
    }
    return logger;
  }

  private note(entry: unknown, message: unknown, args: unknown[]): void {
    if (typeof message !== 'string' || !CLOSED_BEFORE_SENT.test(message)) return;
    const messageId = (entry as { messageId?: unknown } | null)?.messageId;
    const reason = args[args.length - 1];
    if (typeof messageId !== 'string' || typeof reason !== 'string') return;
    if (this.reasons.size >= LIMIT) this.reasons.delete(this.reasons.keys().next().value as string);
    this.reasons.set(keyOf(messageId), reason);
  }

  /** The reason noted for this message, once: it is forgotten as it is read. */
  take(messageId: string): string | undefined {
    const key = keyOf(messageId);
    const reason = this.reasons.get(key);
    this.reasons.delete(key);
    return reason;
  }
}
