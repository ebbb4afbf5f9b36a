import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { Subject, type Observable, type Subscription } from 'rxjs';
import { MAIL_EVENTS } from '../core/events.types.js';
import type { OutgoingMail } from '../core/mail.types.js';
import type { SendResult } from '../core/send-result.types.js';
import type { Transport } from '../core/transport.types.js';
import { templateContextOf } from '../nest/mail-context.js';
import { MailerService } from '../nest/mailer.service.js';
import type { CapturedMail } from './captured-mail.types.js';
import type { CapturedMessage } from './captured-message.builder.js';
import { matches, type MailDraft, type Matcher } from './mail.matcher.js';
import { failureApplies, type Failure } from './failure.simulator.js';

/**
 * The state behind the Mailbox: mails captured, failures queued. A capturing transport hands each
 * mail it takes to `hold()`; the mail joins the mailbox when its send reports `mail.sent`, with the
 * result `send()` returns — so a mail is in the mailbox by the time `send()` resolves, and a mail
 * whose send failed after all (every member of a failover refused it) never is.
 */
@Injectable()
export class MailRecorder implements OnModuleInit, OnModuleDestroy {
  readonly mails: CapturedMail[] = [];
  private readonly subject = new Subject<CapturedMail>();
  readonly captured$: Observable<CapturedMail> = this.subject.asObservable();
  private readonly held = new WeakMap<OutgoingMail, MailDraft>();
  private readonly failures: Array<{ matcher?: Matcher<MailDraft>; failure: Failure }> = [];
  private readonly subscriptions: Subscription[] = [];
  private connected = false;

  constructor(private readonly moduleRef: ModuleRef) {}

  onModuleInit(): void {
    this.connect();
  }

  onModuleDestroy(): void {
    for (const subscription of this.subscriptions.splice(0)) subscription.unsubscribe();
    this.subject.complete();
  }

  /** Listens to every MailerService of the application (once; also from the first capture, should a module send while starting). */
  private connect(): void {
    if (this.connected) return;
    this.connected = true;
    let mailers: MailerService[] = [];
    try {
      mailers = this.moduleRef.get(MailerService, { strict: false, each: true });
    } catch {
      // No MailerModule in this application: nothing to capture.
    }
    for (const mailer of mailers) {
      this.subscriptions.push(mailer.events$.subscribe((event) => {
        if (event.type === MAIL_EVENTS.sent) this.record(event.mail, event.result);
      }));
    }
  }

  draft(mail: OutgoingMail, message: CapturedMessage, transport: Transport): MailDraft {
    const context = templateContextOf(mail);
    return {
      messageId: mail.messageId,
      from: mail.from,
      to: mail.to,
      cc: mail.cc,
      bcc: mail.bcc,
      replyTo: mail.replyTo,
      subject: mail.subject,
      ...(message.text !== undefined ? { text: message.text } : {}),
      ...(message.html !== undefined ? { html: message.html } : {}),
      attachments: message.attachments,
      headers: message.headers,
      envelope: mail.envelope,
      tags: mail.tags,
      metadata: mail.metadata,
      ...(mail.template !== undefined ? { template: mail.template } : {}),
      ...(context !== undefined ? { context } : {}),
      ...(mail.locale !== undefined ? { locale: mail.locale } : {}),
      transport: transport.name,
      kind: transport.kind,
      raw: message.raw,
      mail,
    };
  }

  hold(mail: OutgoingMail, draft: MailDraft): void {
    this.connect();
    this.held.set(mail, draft);
  }

  private record(mail: OutgoingMail, result: SendResult): void {
    const draft = this.held.get(mail);
    if (!draft) return;
    this.held.delete(mail);
    const captured: CapturedMail = { ...draft, result };
    this.mails.push(captured);
    this.subject.next(captured);
  }

  addFailure(failure: Failure, matcher?: Matcher<MailDraft>): void {
    this.failures.push(matcher === undefined ? { failure } : { matcher, failure });
  }

  /** The first queued failure meant for this mail, taken off the queue. */
  takeFailure(draft: MailDraft): Failure | undefined {
    const index = this.failures.findIndex((f) => failureApplies(f.failure, draft.mail) && matches(draft, f.matcher));
    if (index < 0) return undefined;
    return this.failures.splice(index, 1)[0]!.failure;
  }

  get pendingFailures(): number {
    return this.failures.length;
  }

  clear(): void {
    this.mails.length = 0;
    this.failures.length = 0;
  }
}
