import type { AddressInfo } from 'node:net';
import { Logger } from '@nestjs/common';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface OutboxEntry {
  receivedAt: string;
  envelope: { from: string; to: string[] };
  messageId?: string;
  subject?: string;
  from?: string;
  to?: string;
  text?: string;
  html?: string;
  attachments: Array<{ filename?: string; contentType: string; size: number; cid?: string }>;
}

/**
 * The sample app's embedded default: a real SMTP server on a loopback port. Mail sent by the
 * app travels over SMTP to it and is kept, parsed, in `entries`; the mail preview at GET /outbox
 * shows what the app sent.
 */
export class OutboxServer {
  readonly entries: OutboxEntry[] = [];
  private readonly logger = new Logger('Outbox');
  private server?: SMTPServer;
  port = 0;

  async start(port = 0): Promise<this> {
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['AUTH', 'STARTTLS'],
      logger: false,
      size: 25 * 1024 * 1024,
      onData: (stream, session, callback) => {
        simpleParser(stream).then((mail) => {
          this.entries.push({
            receivedAt: new Date().toISOString(),
            envelope: {
              from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              to: session.envelope.rcptTo.map((r) => r.address),
            },
            messageId: mail.messageId,
            subject: mail.subject,
            from: mail.from?.text,
            to: Array.isArray(mail.to) ? mail.to.map((t) => t.text).join(', ') : mail.to?.text,
            text: mail.text,
            html: typeof mail.html === 'string' ? mail.html : undefined,
            attachments: mail.attachments.map((a) => ({ filename: a.filename, contentType: a.contentType, size: a.size, cid: a.cid })),
          });
          callback();
        }, (error: Error) => callback(error));
      },
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.server.address() as AddressInfo).port;
    this.logger.log(`Embedded SMTP outbox listening on 127.0.0.1:${this.port}`);
    return this;
  }

  /** No TLS on loopback: the outbox is a local development server. */
  get url(): string {
    return `smtp://127.0.0.1:${this.port}?tlsMode=none`;
  }

  async stop(): Promise<void> {
    if (this.server) await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }
}
