import type { OutgoingMail } from '../core/mail.types.js';
import type { TransportResult } from '../core/send-result.types.js';
import type { Transport } from '../core/transport.types.js';

/**
 * Keeps mail in memory instead of sending it: for tests and local development
 * (`memory://`). `sent` holds every mail in order; `clear()` empties it.
 */
export class MemoryTransport implements Transport {
  readonly kind = 'memory';
  readonly sent: OutgoingMail[] = [];

  constructor(readonly name: string) {}

  async send(mail: OutgoingMail): Promise<TransportResult> {
    this.sent.push(mail);
    return {
      messageId: mail.messageId,
      accepted: [...mail.envelope.to],
      rejected: [],
      envelope: mail.envelope,
      response: 'stored in memory',
    };
  }

  clear(): void {
    this.sent.length = 0;
  }

  async verify(): Promise<void> {}

  async close(): Promise<void> {}
}
