import { describe, expect, it } from 'vitest';
import { buildClassification, classifyProviderError, classifySmtpReply, classifyStatus, parseBounce } from '../../../lib/bounces/index.js';
import type { BounceResult } from '../../../lib/bounces/index.js';
import type { Classification, RejectedRecipient } from '../../../lib/core/index.js';
import { MailerConfigurationError } from '../../../lib/errors/index.js';
import {
  MemorySuppressionStore,
  entriesToSuppress,
  entryFromClassification,
  normalizeAddress,
  shouldSuppress,
  suppressedRejection,
  suppressionTtl,
  validateSuppressionPolicy,
} from '../../../lib/suppression/index.js';

const DAY = 86_400_000;
const AT = new Date('2026-03-01T12:00:00.000Z');

describe('shouldSuppress', () => {
  it.each([
    ['550 5.1.1 user unknown', 550, '5.1.1 <x@example.com>: Recipient address rejected: User unknown in virtual mailbox table'],
    ['550 5.1.2 host unknown', 550, '5.1.2 Host or domain name not found. Name service error for name=nowhere.example'],
    ['551 5.1.6 has moved', 551, '5.1.6 User has moved; please try <new@example.org>'],
    ['556 5.1.10 null MX', 556, '5.1.10 Recipient address has null MX'],
  ])('suppresses a permanent hard bounce: %s', (_label, code, text) => {
    const c = classifySmtpReply(code, text, 'x@example.com', 'RCPT');
    expect(c.bounce).toBe('hard');
    expect(shouldSuppress(c)).toBe(true);
  });

  it.each([
    ['552 5.2.2 mailbox full', 552, '5.2.2 Mailbox full'],
    ['421 4.7.0 rate limited', 421, '4.7.0 Too many connections, slow down'],
    ['554 5.7.1 policy', 554, '5.7.1 Message rejected as spam'],
    ['451 4.3.0 local error', 451, '4.3.0 Temporary local problem'],
    ['450 4.1.1 user unknown while verifying', 450, '4.1.1 <x@example.com>: Recipient address rejected: unverified address: User unknown'],
  ])('leaves soft bounces and transient replies alone: %s', (_label, code, text) => {
    expect(shouldSuppress(classifySmtpReply(code, text, 'x@example.com', 'RCPT'))).toBe(false);
  });

  it('treats notaccept as hard unless the reply is transient', () => {
    expect(shouldSuppress(buildClassification('notaccept', 556, '5.1.10', 'no MX', 'x@example.com'))).toBe(true);
    expect(shouldSuppress(buildClassification('notaccept', 450, '4.1.10', 'no MX yet', 'x@example.com'))).toBe(false);
    expect(shouldSuppress(buildClassification('notaccept', undefined, undefined, 'null MX', 'x@example.com', 'bounced'))).toBe(true);
  });

  it('suppresses complaints however they are labelled', () => {
    expect(shouldSuppress(buildClassification('feedback', undefined, undefined, 'abuse report', 'x@example.com'))).toBe(true);
    const webhook: Classification = { kind: 'complained', bounce: 'none', reason: 'undefined', retryable: false, action: 'suppress' };
    expect(shouldSuppress(webhook)).toBe(true);
  });

  it('suppresses what a provider reports as already suppressed, not what this package held back', () => {
    const postmark = classifyProviderError({ provider: 'postmark', statusCode: 422, providerCode: 406, message: 'You tried to send to recipient(s) that have been marked as inactive.', recipient: 'x@example.com' });
    expect(postmark.reason).toBe('suppressed');
    expect(shouldSuppress(postmark)).toBe(true);
    const ours = suppressedRejection({ address: 'x@example.com', recipient: 'X@example.com', reason: 'userunknown', source: 'smtp', createdAt: AT });
    expect(shouldSuppress(ours.classification!)).toBe(false);
  });

  it('never suppresses a delivery, a deferral or an auto-reply', () => {
    expect(shouldSuppress(classifySmtpReply(250, '2.0.0 OK queued', 'x@example.com'))).toBe(false);
    expect(shouldSuppress(classifyStatus('4.4.7', 'delivery time expired', 'x@example.com'))).toBe(false);
    expect(shouldSuppress(buildClassification('vacation', undefined, undefined, 'out of office', 'x@example.com'))).toBe(false);
  });

  it('never suppresses a delay warning of a bounce e-mail, and agrees with its action on a final report', async () => {
    const report = (action: string, status: string, diagnostic: string): string => [
      'From: MAILER-DAEMON@mx.sender.test', 'To: owner@sender.test', 'Subject: report', 'MIME-Version: 1.0',
      'Content-Type: multipart/report; report-type=delivery-status; boundary="b"', '', '--b', 'Content-Type: text/plain', '', 'Report.', '',
      '--b', 'Content-Type: message/delivery-status', '', 'Reporting-MTA: dns; mx.sender.test', '',
      'Final-Recipient: rfc822; x@example.com', `Action: ${action}`, `Status: ${status}`, `Diagnostic-Code: smtp; ${diagnostic}`, '', '--b--', '',
    ].join('\r\n');
    const [warning] = await parseBounce(report('delayed', '5.1.1', '550 5.1.1 <x@example.com>: User unknown'));
    expect(warning!.classification).toMatchObject({ kind: 'deferred', reason: 'userunknown', bounce: 'soft', action: 'none' });
    expect(entriesToSuppress([warning!], 'bounce-mail')).toEqual([]);
    // Given up after a temporary "user unknown" for the whole queue lifetime: hard, but the policy
    // lists no one on a temporary answer, and the classification does not ask it to.
    const [expired] = await parseBounce(report('failed', '4.1.1', '450 4.1.1 <x@example.com>: User unknown'));
    expect(expired!.classification).toMatchObject({ kind: 'bounced', bounce: 'hard', action: 'none', retryable: false });
    expect(shouldSuppress(expired!.classification)).toBe(false);
    const [final] = await parseBounce(report('failed', '5.1.1', '550 5.1.1 <x@example.com>: User unknown'));
    expect(final!.classification.action).toBe('suppress');
    expect(entriesToSuppress([final!], 'bounce-mail').map((e) => e.address)).toEqual(['x@example.com']);
  });

  it('follows the options', () => {
    const hard = classifySmtpReply(550, '5.1.1 User unknown', 'x@example.com', 'RCPT');
    const complaint = buildClassification('feedback', undefined, undefined, undefined, 'x@example.com');
    const suspended = classifySmtpReply(550, '5.2.1 Mailbox disabled, not accepting messages', 'x@example.com', 'RCPT');
    expect(suspended.reason).toBe('suspend');
    expect(shouldSuppress(hard, { hardBounces: false })).toBe(false);
    expect(shouldSuppress(complaint, { complaints: false })).toBe(false);
    expect(shouldSuppress(suspended)).toBe(false);
    expect(shouldSuppress(suspended, { alsoSuppress: ['suspend'] })).toBe(true);
  });
});

describe('entryFromClassification', () => {
  it('makes a permanent entry by default, with the reply as detail', () => {
    const c = classifySmtpReply(550, '5.1.1 User unknown', 'gone@example.com', 'RCPT');
    expect(entryFromClassification('Gone@Example.com', c, 'smtp', { at: AT })).toEqual({
      address: 'gone@example.com', reason: 'userunknown', source: 'smtp', classification: c, createdAt: AT, detail: c.diagnostic,
    });
  });

  it('gives complaints reason feedback and applies a TTL per reason', () => {
    const complaint: Classification = { kind: 'complained', bounce: 'none', reason: 'undefined', retryable: false, action: 'suppress' };
    expect(entryFromClassification('x@example.com', complaint, 'webhook', { at: AT }).reason).toBe('feedback');
    const c = classifySmtpReply(550, '5.1.2 Host unknown', 'x@nowhere.example', 'RCPT');
    const policy = { ttl: { hostunknown: 30 * DAY } };
    expect(suppressionTtl('hostunknown', policy)).toBe(30 * DAY);
    expect(suppressionTtl('userunknown', policy)).toBeUndefined();
    expect(entryFromClassification('x@nowhere.example', c, 'smtp', { at: AT, policy, detail: 'looked up twice' })).toMatchObject({
      reason: 'hostunknown', expiresAt: new Date(AT.getTime() + 30 * DAY), detail: 'looked up twice',
    });
  });
});

describe('entriesToSuppress', () => {
  it('picks the recipients to suppress from rejected recipients, bounce results and events', async () => {
    const rejected: RejectedRecipient[] = [
      { address: 'gone@example.com', classification: classifySmtpReply(550, '5.1.1 User unknown', 'gone@example.com', 'RCPT') },
      { address: 'full@example.com', classification: classifySmtpReply(552, '5.2.2 Mailbox full', 'full@example.com', 'RCPT') },
      { address: 'unclassified@example.com' },
    ];
    const bounces: BounceResult[] = [{ recipient: 'moved@example.com', classification: classifySmtpReply(551, '5.1.6 User has moved', 'moved@example.com', 'RCPT') }];
    const events = [{ classification: buildClassification('feedback', undefined, undefined, undefined, 'complainer@example.com') }];
    const fromSmtp = entriesToSuppress(rejected, 'smtp', { at: AT });
    const fromMail = entriesToSuppress(bounces, 'bounce-mail', { at: AT });
    const fromHook = entriesToSuppress(events, 'webhook', { at: AT });
    expect([...fromSmtp, ...fromMail, ...fromHook].map((e) => [e.address, e.reason, e.source])).toEqual([
      ['gone@example.com', 'userunknown', 'smtp'],
      ['moved@example.com', 'hasmoved', 'bounce-mail'],
      ['complainer@example.com', 'feedback', 'webhook'],
    ]);

    const store = new MemorySuppressionStore();
    await store.addMany([...fromSmtp, ...fromMail, ...fromHook]);
    const { allowed, suppressed } = await store.filter(['Gone@Example.com', 'full@example.com', 'complainer@example.com']);
    expect(allowed).toEqual(['full@example.com']);
    // Reporting the held-back recipients and feeding the report back in changes nothing.
    const report = suppressed.map(suppressedRejection);
    expect(entriesToSuppress(report, 'smtp')).toEqual([]);
    await store.close();
  });
});

describe('entriesToSuppress and addresses no mail can be sent to', () => {
  it('leaves out an address beyond RFC 5321 limits, so the rest of the batch is stored', async () => {
    const unknown = (address: string) => ({ address, classification: classifySmtpReply(550, '5.1.1 User unknown', address, 'RCPT') });
    const entries = entriesToSuppress([unknown('gone@example.com'), unknown(`${'a'.repeat(65)}@example.com`), unknown('a..b@example.com')], 'bounce-mail', { at: AT });
    expect(entries.map((e) => e.address)).toEqual(['gone@example.com']);
    const store = new MemorySuppressionStore();
    await store.addMany(entries);
    expect(await store.count()).toBe(1);
    await store.close();
  });
});

describe('entriesToSuppress dating', () => {
  it('dates each entry by its event, and counts the TTL from there', () => {
    const happened = new Date('2026-02-20T08:00:00.000Z');
    const [entry] = entriesToSuppress(
      [{ recipient: 'x@nowhere.example', timestamp: happened, classification: classifySmtpReply(550, '5.1.2 Host unknown', 'x@nowhere.example', 'RCPT') }],
      'webhook',
      { at: AT, policy: { ttl: { hostunknown: DAY } } },
    );
    expect(entry).toMatchObject({ createdAt: happened, expiresAt: new Date(happened.getTime() + DAY) });
  });
});

describe('suppressedRejection', () => {
  it('reports the recipient as the mail named it, with reason suppressed', () => {
    const r = suppressedRejection({ address: 'ada@example.com', recipient: 'Ada@Example.com', reason: 'feedback', source: 'webhook', createdAt: AT });
    expect(r.address).toBe('Ada@Example.com');
    expect(r.response).toBe('Suppressed (feedback, webhook, since 2026-03-01T12:00:00.000Z); not sent.');
    expect(r.classification).toMatchObject({ kind: 'rejected', reason: 'suppressed', retryable: false, action: 'none', recipient: 'Ada@Example.com' });
  });
});

describe('validateSuppressionPolicy', () => {
  it('accepts good options and refuses bad ones at start-up', () => {
    expect(() => validateSuppressionPolicy({ ttl: { hostunknown: DAY }, alsoSuppress: ['suspend'] })).not.toThrow();
    expect(() => validateSuppressionPolicy()).not.toThrow();
    for (const bad of [{ ttl: { hostunknown: 0 } }, { ttl: { hostunknown: -1 } }, { ttl: { nope: DAY } }, { alsoSuppress: ['manual'] }, { alsoSuppress: ['nope'] }]) {
      expect(() => validateSuppressionPolicy(bad as never)).toThrow(MailerConfigurationError);
    }
  });
});

describe('normalizeAddress', () => {
  it.each([
    ['  Ada@Example.COM ', 'ada@example.com'],
    ['"Ada L." <Ada@Example.com>', 'ada@example.com'],
    ['user@Bücher.Example', 'user@xn--bcher-kva.example'],
    ['ÄNNE@example.com', 'änne@example.com'],
    ['a\u0308nne@example.com', 'änne@example.com'],
    ['x@example.com.', 'x@example.com'],
    ['x@[192.0.2.1]', 'x@[192.0.2.1]'],
    ['not-an-address', 'not-an-address'],
  ])('%s → %s', (input, expected) => {
    expect(normalizeAddress(input)).toBe(expected);
  });
});
