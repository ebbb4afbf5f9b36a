import { AssertionError } from 'node:assert';
import { Injectable } from '@nestjs/common';
import type { Observable } from 'rxjs';
import type { CapturedMail, MailMatch, MailMatcher, WaitForOptions } from './captured-mail.types.js';
import { MailRecorder } from './mail.recorder.js';
import { checkMatch, closest, describeMails, describeMatch, matches, project, recipientsOf } from './mail.matcher.js';
import { toFailure, type SimulatedFailure } from './failure.simulator.js';

/** Default time `waitFor()` waits: under the 5 s Jest and Vitest give a test, so the mailbox's message is the one shown. */
const DEFAULT_WAIT = 2_000;

/** ` matching { … }`, or nothing for any mail. */
function matching(match: MailMatcher | undefined): string {
  return match === undefined ? '' : ` matching ${describeMatch(match)}`;
}

/** What a diff shows of a mail when the match is a function: who, what, from which template, through which transport. */
function summary(mail: CapturedMail): Record<string, unknown> {
  return { to: recipientsOf(mail), subject: mail.subject, ...(mail.template ? { template: mail.template } : {}), transport: mail.transport };
}

/**
 * The mails an application sent while `MailerTestingModule` was imported, with assertions that
 * fail with `node:assert`'s AssertionError — a message listing what was sent, and `actual` /
 * `expected` for Jest's and Vitest's diff — and failures to queue for the next sends.
 *
 * Inject it in a test with `moduleRef.get(Mailbox)`. A match (`MailMatch`) names what a mail must
 * have: `{ to: 'ada@example.org', subject: /receipt/, template: 'orders/receipt', context: { order:
 * { id: '1001' } }, attachments: ['invoice-1001.pdf'], headers: { 'x-priority': /^1/ } }`; a
 * function `(mail) => boolean` works too.
 */
@Injectable()
export class Mailbox {
  constructor(private readonly recorder: MailRecorder) {}

  /** Every mail captured, in the order the sends returned. */
  get mails(): readonly CapturedMail[] {
    return this.recorder.mails;
  }

  /** Each mail as it is captured (for a dev inbox, or for a test that follows sends as they come). */
  get captured$(): Observable<CapturedMail> {
    return this.recorder.captured$;
  }

  /** Mails that match, in order. */
  filter(match?: MailMatcher): CapturedMail[] {
    return this.select(match, 'filter()');
  }

  /** The first mail that matches, or undefined. */
  find(match: MailMatcher): CapturedMail | undefined {
    return this.select(match, 'find()')[0];
  }

  /** The latest mail (that matches), or undefined. */
  last(match?: MailMatcher): CapturedMail | undefined {
    return this.select(match, 'last()').at(-1);
  }

  /** Asserts that a mail matching was sent, and returns the latest one that did. */
  expectSent(match?: MailMatcher): CapturedMail {
    const found = this.select(match, 'expectSent()');
    if (found.length) return found.at(-1)!;
    throw this.missing(`Expected a mail${matching(match)} to have been sent, but none ${match === undefined ? 'was' : 'did'}.`, match, this.expectSent);
  }

  /** Asserts that no mail matching was sent (with no match: that no mail at all was). */
  expectNotSent(match?: MailMatcher): void {
    const found = this.select(match, 'expectNotSent()');
    if (!found.length) return;
    const view = (mail: CapturedMail) => (match === undefined || typeof match === 'function' ? summary(mail) : project(mail, match));
    throw new AssertionError({
      message: `Expected no mail${matching(match)} to have been sent, but ${found.length === 1 ? 'one was' : `${found.length} were`}.\n${describeMails(found)}`,
      actual: found.map(view),
      expected: [],
      operator: 'expectNotSent',
      stackStartFn: this.expectNotSent,
    });
  }

  /** Asserts that exactly `count` mails matching were sent. */
  expectCount(count: number, match?: MailMatcher): void {
    if (!(Number.isInteger(count) && count >= 0)) throw new TypeError(`expectCount(): count must be a whole number, 0 or more; got ${String(count)}.`);
    const found = this.select(match, 'expectCount()');
    if (found.length === count) return;
    throw new AssertionError({
      message: `Expected ${count} mail${count === 1 ? '' : 's'}${matching(match)} to have been sent, but ${match === undefined ? `${found.length} ${found.length === 1 ? 'was' : 'were'}` : `${found.length} matched`}.\n${describeMails(this.recorder.mails)}`,
      actual: found.length,
      expected: count,
      operator: 'expectCount',
      stackStartFn: this.expectCount,
    });
  }

  /**
   * Resolves with a mail matching — one already captured, or the next one to be — for sends that
   * happen later (queue jobs, event handlers). Rejects with an AssertionError after `timeout`
   * milliseconds (default 2000).
   */
  waitFor(match?: MailMatcher, options: WaitForOptions = {}): Promise<CapturedMail> {
    const timeout = options.timeout ?? DEFAULT_WAIT;
    if (!(typeof timeout === 'number' && timeout >= 0)) throw new TypeError('waitFor(): timeout must be a number of milliseconds.');
    const already = this.select(match, 'waitFor()').at(-1);
    if (already) return Promise.resolve(already);
    // Taken here so that the error points at the test's call, not at a timer.
    const site: { stack?: string } = {};
    Error.captureStackTrace(site, this.waitFor);
    return new Promise<CapturedMail>((resolve, reject) => {
      const subscription = this.recorder.captured$.subscribe((mail) => {
        if (!matches(mail, match)) return;
        clearTimeout(timer);
        subscription.unsubscribe();
        resolve(mail);
      });
      const timer = setTimeout(() => {
        subscription.unsubscribe();
        const error = this.missing(`No mail${matching(match)} was sent within ${timeout} ms.`, match, this.waitFor);
        error.stack = `${error.name}: ${error.message}\n${(site.stack ?? '').split('\n').filter((line) => /^\s+at /.test(line)).join('\n')}`;
        reject(error);
      }, timeout);
    });
  }

  /**
   * Makes the next send that matches (with no match: the next send) fail as the transport would
   * fail: an SMTP reply (`'550 5.1.1 <ada@example.org>: User unknown'`, `'421 4.7.0 Try again
   * later'`), a provider's error answer (`{ provider: 'postmark', statusCode: 422, providerCode:
   * 406, message }`), `'timeout'` or `'connection'`; `{ reply, recipients }` refuses some
   * recipients only. The failure goes through the mailer's classification, retry, failover and
   * suppression as a real one; each call queues one failure, used once.
   */
  failNext(failure: SimulatedFailure): this;
  failNext(match: MailMatch | ((mail: Omit<CapturedMail, 'result'>) => boolean), failure: SimulatedFailure): this;
  failNext(...args: [SimulatedFailure] | [MailMatch | ((mail: Omit<CapturedMail, 'result'>) => boolean), SimulatedFailure]): this {
    if (args.length === 1) {
      this.recorder.addFailure(toFailure(args[0], 'failNext()'));
    } else {
      checkMatch(args[0], 'failNext()');
      this.recorder.addFailure(toFailure(args[1], 'failNext()'), args[0]);
    }
    return this;
  }

  /** Failures queued with `failNext()` that no send has met yet. */
  get pendingFailures(): number {
    return this.recorder.pendingFailures;
  }

  /** Forgets every captured mail and every queued failure. */
  clear(): void {
    this.recorder.clear();
  }

  private select(match: MailMatcher | undefined, where: string): CapturedMail[] {
    if (match !== undefined) checkMatch(match, where);
    return this.recorder.mails.filter((mail) => matches(mail, match));
  }

  private missing(message: string, match: MailMatcher | undefined, from: (...args: never[]) => unknown): AssertionError {
    const mails = this.recorder.mails;
    const byFields = match !== undefined && typeof match !== 'function';
    const near = byFields ? closest(mails, match) : undefined;
    return new AssertionError({
      message: `${message}\n${describeMails(mails)}`,
      actual: byFields ? (near ? project(near, match) : undefined) : mails.map(summary),
      expected: byFields ? match : undefined,
      operator: 'expectSent',
      stackStartFn: from,
    });
  }
}
