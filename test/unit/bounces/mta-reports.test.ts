import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseBounce } from '../../../lib/bounces/index.js';

/**
 * Reports sent by real MTAs (Postfix 3.7, Exim 4.96, OpenSMTPD 6.8, Sendmail 8.17 from Debian 12) on loopback, made by
 * bench/bounces/mta/make-dsns.sh: a next hop that refuses (550 5.1.1, 552 5.2.2, 554 5.7.1) or defers
 * (451 4.3.0, 452 4.2.2), a port where nothing listens, a host that never greets, and a local mailbox
 * over its quota; one-minute delay warnings and a four-minute queue lifetime.
 */
const DIR = fileURLToPath(new URL('../../fixtures/bounces/mta/', import.meta.url));

type Expect = [recipient: string, kind: 'bounced' | 'deferred', statusClass: '4' | '5', reason: string];

const EXPECTED: Record<string, Expect> = {
  // Refused at RCPT: final at once.
  'postfix/unknown-user-failed.eml': ['unknown-user@sink.test', 'bounced', '5', 'userunknown'],
  'postfix/full-mailbox-failed.eml': ['full-mailbox@sink.test', 'bounced', '5', 'mailboxfull'],
  'postfix/blocked-sender-failed.eml': ['blocked-sender@sink.test', 'bounced', '5', 'policyviolation'],
  'postfix/quota-failed.eml': ['over-quota@quota.test', 'bounced', '5', 'mailboxfull'],
  // Delay warnings (Action: delayed): the status of the last attempt, never final.
  'postfix/later-please-warning.eml': ['later-please@sink.test', 'deferred', '4', 'systemerror'],
  'postfix/quota-soon-warning.eml': ['quota-soon@sink.test', 'deferred', '4', 'mailboxfull'],
  'postfix/refused-warning.eml': ['someone@refused.test', 'deferred', '4', 'networkerror'],
  'postfix/silent-warning.eml': ['someone@silent.test', 'deferred', '4', 'networkerror'],
  // The queue lifetime ran out: Action: failed with the last temporary status.
  'postfix/later-please-failed.eml': ['later-please@sink.test', 'bounced', '4', 'systemerror'],
  'postfix/quota-soon-failed.eml': ['quota-soon@sink.test', 'bounced', '4', 'mailboxfull'],
  'postfix/refused-failed.eml': ['someone@refused.test', 'bounced', '4', 'expired'],
  'postfix/silent-failed.eml': ['someone@silent.test', 'bounced', '4', 'expired'],

  'exim/unknown-user-failed.eml': ['unknown-user@sink.test', 'bounced', '5', 'userunknown'],
  'exim/full-mailbox-failed.eml': ['full-mailbox@sink.test', 'bounced', '5', 'mailboxfull'],
  'exim/blocked-sender-failed.eml': ['blocked-sender@sink.test', 'bounced', '5', 'policyviolation'],
  'exim/quota-failed.eml': ['over-quota@quota.test', 'bounced', '5', 'mailboxfull'],
  // Exim's warning names no cause for a connection that failed: the message has been waiting.
  'exim/later-please-warning.eml': ['later-please@sink.test', 'deferred', '4', 'systemerror'],
  'exim/quota-soon-warning.eml': ['quota-soon@sink.test', 'deferred', '4', 'mailboxfull'],
  'exim/refused-warning.eml': ['someone@refused.test', 'deferred', '4', 'expired'],
  'exim/silent-warning.eml': ['someone@silent.test', 'deferred', '4', 'expired'],
  // "retry timeout exceeded".
  'exim/later-please-failed.eml': ['later-please@sink.test', 'bounced', '4', 'expired'],
  'exim/quota-soon-failed.eml': ['quota-soon@sink.test', 'bounced', '4', 'mailboxfull'],
  'exim/refused-failed.eml': ['someone@refused.test', 'bounced', '5', 'expired'],
  'exim/silent-failed.eml': ['someone@silent.test', 'bounced', '5', 'expired'],

  'opensmtpd/unknown-user-failed.eml': ['unknown-user@sink.test', 'bounced', '5', 'userunknown'],
  'opensmtpd/full-mailbox-failed.eml': ['full-mailbox@sink.test', 'bounced', '5', 'mailboxfull'],
  'opensmtpd/blocked-sender-failed.eml': ['blocked-sender@sink.test', 'bounced', '5', 'policyviolation'],
  'opensmtpd/later-please-warning.eml': ['later-please@sink.test', 'deferred', '4', 'systemerror'],
  'opensmtpd/quota-soon-warning.eml': ['quota-soon@sink.test', 'deferred', '4', 'mailboxfull'],
  'opensmtpd/refused-warning.eml': ['someone@refused.test', 'deferred', '4', 'networkerror'],
  'opensmtpd/silent-warning.eml': ['someone@silent.test', 'deferred', '4', 'networkerror'],
  // OpenSMTPD writes the envelope it drops at the end of its lifetime as a "delayed" notice whose only
  // words are "Envelope expired": the message is gone, so it is final.
  'opensmtpd/later-please-failed.eml': ['later-please@sink.test', 'bounced', '4', 'expired'],
  'opensmtpd/quota-soon-failed.eml': ['quota-soon@sink.test', 'bounced', '4', 'expired'],
  'opensmtpd/refused-failed.eml': ['someone@refused.test', 'bounced', '4', 'expired'],
  'opensmtpd/silent-failed.eml': ['someone@silent.test', 'bounced', '4', 'expired'],

  'sendmail/unknown-user-failed.eml': ['unknown-user@sink.test', 'bounced', '5', 'userunknown'],
  'sendmail/full-mailbox-failed.eml': ['full-mailbox@sink.test', 'bounced', '5', 'mailboxfull'],
  'sendmail/blocked-sender-failed.eml': ['blocked-sender@sink.test', 'bounced', '5', 'policyviolation'],
  'sendmail/later-please-warning.eml': ['later-please@sink.test', 'deferred', '4', 'systemerror'],
  // Status: 4.3.1 for the next hop's "452 4.2.2 Mailbox full": Sendmail's own word for any 452.
  'sendmail/quota-soon-warning.eml': ['quota-soon@sink.test', 'deferred', '4', 'mailboxfull'],
  'sendmail/refused-warning.eml': ['someone@refused.test', 'deferred', '4', 'networkerror'],
  'sendmail/silent-warning.eml': ['someone@silent.test', 'deferred', '4', 'networkerror'],
  // Action: failed, Status: 4.4.7, "Message could not be delivered for 4 minutes"; the transcript
  // keeps the next hop's last answer.
  'sendmail/later-please-failed.eml': ['later-please@sink.test', 'bounced', '4', 'systemerror'],
  'sendmail/quota-soon-failed.eml': ['quota-soon@sink.test', 'bounced', '4', 'mailboxfull'],
  'sendmail/refused-failed.eml': ['someone@refused.test', 'bounced', '4', 'expired'],
  'sendmail/silent-failed.eml': ['someone@silent.test', 'bounced', '4', 'expired'],
};

describe('reports made by real MTAs', () => {
  it('every collected report is pinned below, and every pinned one is there', () => {
    const files = readdirSync(DIR).flatMap((mta) => readdirSync(DIR + mta).map((f) => `${mta}/${f}`));
    expect(files.sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  it.each(Object.entries(EXPECTED))('%s', async (file, [recipient, kind, statusClass, reason]) => {
    const rs = await parseBounce(readFileSync(DIR + file));
    expect(rs.map((r) => r.recipient)).toEqual([recipient]);
    const c = rs[0]!.classification;
    expect({ kind: c.kind, statusClass: c.status?.[0], reason: c.reason }).toEqual({ kind, statusClass, reason });
    if (kind === 'deferred') {
      // A warning: the MTA is still trying; nothing for the sender to do, never a hard bounce.
      expect(c).toMatchObject({ retryable: true, action: 'none' });
      expect(c.bounce).not.toBe('hard');
    } else {
      expect(c.retryable).toBe(false);
      expect(c.action).not.toBe('retry');
      expect(c.bounce).toBe(reason === 'userunknown' ? 'hard' : 'soft');
    }
  });
});
