import { afterEach } from 'vitest';
import { startSmtpSink, type SmtpSink, type SmtpSinkOptions } from './smtp-sink.js';

const pending: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const fn of pending.splice(0).reverse()) await fn();
});

/** Runs `fn` after the current test; later registrations run first. */
export function onCleanup(fn: () => Promise<void> | void): void {
  pending.push(fn);
}

/** A real SMTP server (no STARTTLS unless asked) stopped after the current test. */
export async function smtpSink(options: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const sink = await startSmtpSink({ starttls: false, ...options });
  onCleanup(() => sink.stop());
  return sink;
}
