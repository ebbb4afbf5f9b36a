import { createHash, createHmac } from 'node:crypto';
import type { MailerTelemetryOptions, TelemetryRecipients } from './telemetry.options.js';

/** What may be said about a mail on spans and in log lines, per the telemetry options. */
export class TelemetryPrivacy {
  readonly recipients: TelemetryRecipients;
  readonly subject: 'none' | 'hash';
  readonly messageId: boolean;
  private readonly hashKey?: string;

  constructor(options: MailerTelemetryOptions = {}) {
    this.recipients = options.recipients ?? 'none';
    this.subject = options.subject ?? 'none';
    this.messageId = options.messageId ?? true;
    this.hashKey = options.hashKey;
  }

  hash(value: string): string {
    const digest = this.hashKey === undefined ? createHash('sha256') : createHmac('sha256', this.hashKey);
    return digest.update(value).digest('hex').slice(0, 32);
  }

  /** The recipients as the options allow them to be shown: undefined for 'none'. */
  showRecipients(addresses: readonly string[]): string[] | undefined {
    if (this.recipients === 'none' || addresses.length === 0) return undefined;
    if (this.recipients === 'domain') {
      return [...new Set(addresses.map((a) => a.slice(a.lastIndexOf('@') + 1).toLowerCase()))].sort();
    }
    return addresses.map((a) => this.hash(a.trim().toLowerCase()));
  }

  showSubject(subject: string | undefined): string | undefined {
    return this.subject === 'hash' && subject ? this.hash(subject) : undefined;
  }
}
