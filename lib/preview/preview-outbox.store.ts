import type { OutgoingMail } from '../core/mail.types.js';
import { buildMail, withKeptAttachments, type BuiltMail } from './mail-view.js';

/** One mail the application sent, or tried to send. */
export interface OutboxEntry {
  /** 1, 2, 3, … in the order recorded; never reused while the application runs. */
  id: number;
  at: Date;
  status: 'sent' | 'failed';
  transport: string;
  mail: OutgoingMail;
  accepted?: string[];
  rejected?: string[];
  /** The error's message, for a mail that failed. */
  error?: string;
}

/** The list's line for a mail: what the outbox shows before one is opened. */
export interface OutboxSummary {
  id: number;
  at: string;
  status: OutboxEntry['status'];
  transport: string;
  subject: string;
  from: string;
  to: string[];
  template?: string;
  /** The locale the template was rendered in. */
  locale?: string;
  error?: string;
}

/**
 * The last `capacity` mails, in memory only. The message source of an entry is built the first
 * time it is looked at and kept with it, so it leaves with the entry.
 */
export class PreviewOutbox {
  private readonly entries: OutboxEntry[] = [];
  private readonly built = new WeakMap<OutboxEntry, Promise<BuiltMail>>();
  private nextId = 1;

  constructor(private readonly capacity: number) {}

  add(entry: Omit<OutboxEntry, 'id' | 'at' | 'mail'> & { mail: OutgoingMail }): OutboxEntry {
    const recorded: OutboxEntry = { ...entry, id: this.nextId++, at: new Date(), mail: withKeptAttachments(entry.mail) };
    this.entries.push(recorded);
    if (this.entries.length > this.capacity) this.entries.splice(0, this.entries.length - this.capacity);
    return recorded;
  }

  /** Newest first. */
  list(): OutboxEntry[] {
    return [...this.entries].reverse();
  }

  get(id: number): OutboxEntry | undefined {
    return this.entries.find((e) => e.id === id);
  }

  build(entry: OutboxEntry): Promise<BuiltMail> {
    let pending = this.built.get(entry);
    if (!pending) {
      pending = buildMail(entry.mail);
      this.built.set(entry, pending);
      pending.catch(() => this.built.delete(entry));
    }
    return pending;
  }

  static summarize(entry: OutboxEntry): OutboxSummary {
    const summary: OutboxSummary = {
      id: entry.id,
      at: entry.at.toISOString(),
      status: entry.status,
      transport: entry.transport,
      subject: entry.mail.subject,
      from: entry.mail.from.address,
      to: [...entry.mail.to, ...entry.mail.cc, ...entry.mail.bcc].map((a) => a.address),
    };
    if (entry.mail.template) summary.template = entry.mail.template;
    if (entry.mail.locale) summary.locale = entry.mail.locale;
    if (entry.error) summary.error = entry.error;
    return summary;
  }
}
