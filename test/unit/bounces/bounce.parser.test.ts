import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseBounce, parseBounceReport } from '../../../lib/bounces/index.js';
import { preferStatus } from '../../../lib/bounces/bounce.parser.js';

const fixture = (name: string): Buffer =>
  readFileSync(fileURLToPath(new URL(`../../fixtures/bounces/${name}`, import.meta.url)));

describe('parseBounce', () => {
  it('reads an RFC 3464 report (Postfix)', async () => {
    const [r, ...rest] = await parseBounce(fixture('postfix-dsn.eml'));
    expect(rest).toHaveLength(0);
    expect(r!.recipient).toBe('ghost@receiver.test');
    expect(r!.classification).toMatchObject({ kind: 'bounced', bounce: 'hard', reason: 'userunknown', status: '5.1.1', replyCode: 550, action: 'suppress' });
    expect(r!.reportingMta).toBe('out1.sender.test');
    expect(r!.remoteMta).toBe('mx.receiver.test');
    expect(r!.originalMessageId).toBe('<invoice-42@sender.test>');
    expect(r!.arrivalDate).toContain('2025');
    expect(r!.diagnostic).toContain('User unknown');
  });

  it('reads message/global-delivery-status with several recipients, failed and delayed', async () => {
    const rs = await parseBounce(fixture('global-dsn-mailboxfull.eml'));
    expect(rs.map((r) => [r.recipient, r.classification.reason, r.classification.kind, r.classification.bounce])).toEqual([
      ['full@receiver.test', 'mailboxfull', 'bounced', 'soft'],
      ['later@receiver.test', 'networkerror', 'deferred', 'soft'],
    ]);
  });

  it.each([
    ['qmail.eml', 'nobody@receiver.test', 'userunknown', '5.1.1', 550],
    ['exim.eml', 'over@receiver.test', 'mailboxfull', '5.2.2', 552],
    ['sendmail-text.eml', 'closed@receiver.test', 'suspend', '5.2.1', 550],
    ['gmail-text.eml', 'blocked@receiver.test', 'blocked', '5.7.1', 554],
    ['exchange-text.eml', 'left.company@corp.receiver.test', 'userunknown', '5.0.0', undefined],
    // The quoted "To:" of the sender's message names another address than the one refused.
    ['exchange-quoted-to.eml', 'j.doe@mail.receiver.test', 'userunknown', '5.0.0', undefined],
    // X-Failed-Recipients spells the address as rewritten by a router; the text and the returned
    // message's To: name the one the sender used.
    ['exim-rewritten-recipient.eml', 'sales@receiver.test', 'userunknown', '5.1.1', 550],
    ['ses-notification.eml', 'gone@receiver.test', 'userunknown', '5.1.1', 550],
    // fml and other list managers: the list names the address it refused the posting for.
    ['list-manager-not-member.eml', 'club@lists.sender.test', 'rejected', '5.0.0', undefined],
    ['list-manager-duplicate-id.eml', 'club@lists.sender.test', 'notcompliantrfc', '5.0.0', undefined],
    // Postfix lost its per-recipient log: the returned headers' To: is the recipient, no reason stated.
    ['postfix-report-unavailable.eml', 'reader@receiver.test', 'undefined', '5.0.0', undefined],
    // The postmaster's copy of a session Postfix itself refused: the last error and its command.
    ['postfix-server-errors.eml', 'stock@receiver.test', 'systemerror', '4.3.0', 451],
    // Exim file delivery: the Final-Recipient is a path, the text names the address it came from.
    ['exim-pipe-dsn.eml', 'team@receiver.test', 'mailboxfull', '5.0.0', undefined],
    ['exim-malformed-address.eml', 'pal@receiver.test', 'syntaxerror', '5.0.0', undefined],
    // A text part whose Content-Type parameters lost their `;`: still read as the report.
    ['broken-part-header.eml', 'nobody@receiver.test', 'filtered', '5.0.0', undefined],
    // au/KDDI state their verdict once for the whole report, over the remote's words.
    ['kddi-account-disabled.eml', 'closed-account@ezweb.ne.jp', 'suspend', '5.0.0', 550],
    // A local delivery agent's verdict on the recipient's local part, inside a Sendmail transcript.
    ['sendmail-local-unknown.eml', 'nobody@receiver.test', 'userunknown', '5.5.0', 554],
    // Gmail's own "Address not found" notice is conclusive whatever the stage.
    ['gmail-address-not-found.eml', 'missing@receiver.test', 'userunknown', '5.0.0', undefined],
  ])('reads %s', async (file, recipient, reason, status, replyCode) => {
    const rs = await parseBounce(fixture(file));
    expect(rs).toHaveLength(1);
    expect(rs[0]!.recipient).toBe(recipient);
    expect(rs[0]!.classification.reason).toBe(reason);
    expect(rs[0]!.classification.status).toBe(status);
    expect(rs[0]!.classification.replyCode).toBe(replyCode);
  });

  it('reads an ARF complaint as kind complained, reason feedback', async () => {
    const rs = await parseBounce(fixture('arf-complaint.eml'));
    expect(rs).toHaveLength(1);
    expect(rs[0]!.recipient).toBe('reader@mailbox.test');
    expect(rs[0]!.classification).toMatchObject({ kind: 'complained', reason: 'feedback', bounce: 'none', action: 'suppress', retryable: false });
  });

  it('reports an auto-reply beside the results, never as a delivery failure', async () => {
    expect(await parseBounce(fixture('auto-reply.eml'))).toEqual([]);
    const report = await parseBounceReport(fixture('auto-reply.eml'));
    expect(report.results).toEqual([]);
    expect(report.autoReply).toMatchObject({ recipient: 'pat@receiver.test', diagnostic: expect.stringContaining('out of the office') });
    expect(report.challenge).toBeUndefined();
  });

  it.each([
    // No RFC 3834 field: a localized subject with absence wording, and a quoted subject that reads like a bounce.
    ['autoreply-abwesenheit.eml', 'j.mueller@empfaenger.test', '<order-2025-0412@sender.test>'],
    // The Unix vacation program's answer, marked only "Precedence: junk".
    ['autoreply-precedence-junk.eml', 'kim@receiver.test', '<digest-0033@sender.test>'],
    // X-Autoreply and a Japanese subject and body.
    ['autoreply-japanese.eml', 'hanako@receiver.test', '<quote-7781@sender.test>'],
    // Lotus Notes: the person's name first in the subject, no automatic-reply field, no In-Reply-To.
    ['autoreply-notes-out-of-office.eml', 'robin.hale@notes.receiver.test', undefined],
  ])('tells the absence note %s apart from a bounce', async (file, responder, answered) => {
    const report = await parseBounceReport(fixture(file));
    expect(report.results).toEqual([]);
    expect(report.autoReply?.recipient).toBe(responder);
    expect(report.autoReply?.originalMessageId).toBe(answered);
    expect(report.challenge).toBeUndefined();
  });

  it.each([
    // TMDA: its own header, a confirmation address as From; the held message was sent to pat@.
    ['challenge-tmda.eml', 'pat@receiver.test'],
    // A screening service answering from its own address, asking the sender to prove it is a person.
    ['challenge-guest-list.eml', 'alex@receiver.test'],
    // No automatic-reply header at all: the request's words and the service naming itself.
    ['challenge-approved-senders.eml', 'sam@receiver.test'],
  ])('reports the challenge-response request %s as a challenge, not a bounce', async (file, recipient) => {
    const report = await parseBounceReport(fixture(file));
    expect(report.results).toEqual([]);
    expect(report.autoReply).toBeUndefined();
    expect(report.challenge?.recipient).toBe(recipient);
    expect(await parseBounce(fixture(file))).toEqual([]);
  });

  it('does not take a bounce that advises to confirm the message for a challenge', async () => {
    const raw = 'From: Mail Delivery System <MAILER-DAEMON@mx.receiver.test>\nTo: a@sender.test\nSubject: Undeliverable: Offer\nAuto-Submitted: auto-generated\n\nkim@receiver.test: the mailbox was not found.\nPlease confirm the message was addressed correctly before you send it again.\n';
    const report = await parseBounceReport(raw);
    expect(report.challenge).toBeUndefined();
    expect(report.results.map((r) => r.recipient)).toEqual(['kim@receiver.test']);
  });

  it('does not take a server\'s refusal that names a white list for a challenge', async () => {
    const raw = 'From: MAILER-DAEMON@mx.sender.test\nTo: a@sender.test\nSubject: Undelivered Mail Returned to Sender\n\n<kim@receiver.test>: host mx.receiver.test said: 550 5.7.1 Sender is not on the approved senders list of this mailbox (SpamArrest) (in reply to RCPT TO command)\n';
    const report = await parseBounceReport(raw);
    expect(report.challenge).toBeUndefined();
    expect(report.results.map((r) => [r.recipient, r.classification.status])).toEqual([['kim@receiver.test', '5.7.1']]);
  });

  it('keeps recipients a report names as delivered or relayed out of the failures', async () => {
    const report = await parseBounceReport(fixture('delivered-relayed-dsn.eml'));
    expect(report.results).toEqual([]);
    expect(report.delivered.map((r) => [r.recipient, r.classification.kind, r.classification.reason, r.classification.bounce])).toEqual([
      ['lee@receiver.test', 'delivered', 'delivered', 'none'],
      ['ops@receiver.test', 'delivered', 'delivered', 'none'],
    ]);
  });

  it.each([
    ['sendmail-return-receipt.eml', 'jo@receiver.test'],
    // Exchange's "Relayed:" notice: delivery ended at a system that sends no notification.
    ['exchange-relayed-text.eml', 'dana.white@partner.receiver.test'],
  ])('reads the plain-text success report %s as a delivery, not a failure', async (file, recipient) => {
    const report = await parseBounceReport(fixture(file));
    expect(report.results).toEqual([]);
    expect(report.delivered.map((r) => [r.recipient, r.classification.status, r.classification.kind])).toEqual([[recipient, '2.0.0', 'delivered']]);
  });

  it('gives no failure for an Exchange "Delivered:" notice that names the recipient by display name only', async () => {
    const report = await parseBounceReport(fixture('exchange-delivered-text.eml'));
    expect(report.results).toEqual([]);
    expect(report.autoReply).toBeUndefined();
  });

  it('reads an absence note that says answers will be delayed as the person\'s, not a report naming another address', async () => {
    const raw = 'From: Kim Lee <kim@receiver.test>\nTo: billing@sender.test\nSubject: Automatic reply: Error in invoice 2291\nAuto-Submitted: auto-replied\n\nI am out of the office until Monday, so responses will be delayed.\nFor anything urgent please write to:\n\nassistant@receiver.test\n';
    const report = await parseBounceReport(raw);
    expect(report.results).toEqual([]);
    expect(report.autoReply?.recipient).toBe('kim@receiver.test');
  });

  it('leaves a failure notice marked as an automatic reply to the report readers', async () => {
    const raw = 'From: Mail Service <noreply@mail.receiver.test>\nTo: news@sender.test\nSubject: Automatic reply: Weekly news\nAuto-Submitted: auto-replied\n\nYour message to kim@receiver.test was rejected by the recipient\'s server: 550 5.7.1 Message refused as spam.\n';
    const report = await parseBounceReport(raw);
    expect(report.autoReply).toBeUndefined();
    expect(report.results.map((r) => [r.recipient, r.classification.reason, r.classification.status])).toEqual([['kim@receiver.test', 'spamdetected', '5.7.1']]);
  });

  it('still reads an automatic answer that says the mailbox is gone as a failure', async () => {
    const raw = 'From: noreply@receiver.test\nTo: hello@sender.test\nSubject: Automatic reply: Offer\nAuto-Submitted: auto-replied\n\nThe mailbox kim@receiver.test does not exist any more; please write to sales@receiver.test.\n';
    const report = await parseBounceReport(raw);
    expect(report.autoReply).toBeUndefined();
    expect(report.results.map((r) => [r.recipient, r.classification.reason, r.classification.bounce])).toEqual([['noreply@receiver.test', 'userunknown', 'hard']]);
  });

  it('returns nothing for a mail that is not a report', async () => {
    expect(await parseBounce(fixture('not-a-bounce.eml'))).toEqual([]);
    expect(await parseBounce('Subject: hi\r\n\r\nhello\r\n')).toEqual([]);
  });

  it('reads one line per recipient with labelled reply codes (Zoho)', async () => {
    const rs = await parseBounce(fixture('zoho-text.eml'));
    expect(rs.map((r) => [r.recipient, r.classification.reason, r.classification.status, r.classification.replyCode])).toEqual([
      ['gone@receiver.test', 'userunknown', '5.1.1', 550],
      ['full@receiver.test', 'mailboxfull', '5.2.2', 550],
    ]);
  });

  it('reads the comment of a Status field as the explanation, unless it only spells out the code', async () => {
    const rs = await parseBounce(fixture('dsn-status-comment.eml'));
    expect(rs.map((r) => [r.recipient, r.classification.reason, r.classification.kind, r.diagnostic])).toEqual([
      ['later@receiver.test', 'networkerror', 'deferred', 'receiver.test: host name lookup failure'],
      ['waiting@receiver.test', 'expired', 'deferred', undefined],
    ]);
  });

  it('takes the remote status over a vaguer or catch-all Status field', () => {
    expect(preferStatus('5.1.1', '5.2.2', 552)).toBe('5.2.2');
    expect(preferStatus('5.1.1', '5.7.1', 550)).toBe('5.7.1');
    expect(preferStatus('5.0.0', '5.1.1', 550)).toBe('5.1.1');
    expect(preferStatus('5.1.0', '5.2.2', 550)).toBe('5.2.2');
    expect(preferStatus('4.4.7', '4.4.2', 421)).toBe('4.4.2');
    expect(preferStatus('4.3.1', '4.2.2', 452)).toBe('4.2.2');
    expect(preferStatus('4.5.0', '5.5.0', 550)).toBe('5.5.0');
    // A specific field stays.
    expect(preferStatus('5.2.2', '5.0.0', 550)).toBe('5.2.2');
    expect(preferStatus('5.1.1', '5.5.0', 550)).toBe('5.1.1');
    expect(preferStatus(undefined, '5.1.1')).toBe('5.1.1');
    expect(preferStatus('5.1.1', undefined)).toBe('5.1.1');
  });

  it('keeps a reply that starts the line with "550:" whole, address included (Yahoo)', async () => {
    const rs = await parseBounce(fixture('yahoo-reply-code-colon.eml'));
    expect(rs.map((r) => [r.recipient, r.classification.replyCode, r.classification.reason, r.diagnostic])).toEqual([
      ['gone-away@ezweb.ne.jp', 550, 'userunknown', '550: <gone-away@ezweb.ne.jp>: User unknown'],
      ['screened@ezweb.ne.jp', 550, 'filtered', '550: : User unknown'],
    ]);
  });

  it.each(['postfix-dsn.eml', 'exim.eml', 'exchange-quoted-to.eml', 'arf-complaint.eml'])(
    'reads %s the same with CRLF and with bare CR line ends (classic Mac tools) as with LF',
    async (file) => {
      const lf = fixture(file).toString('latin1').replace(/\r\n/g, '\n');
      const want = await parseBounce(Buffer.from(lf, 'latin1'));
      expect(want.length).toBeGreaterThan(0);
      for (const eol of ['\r\n', '\r']) {
        const got = await parseBounce(Buffer.from(lf.replace(/\n/g, eol), 'latin1'));
        expect(got).toEqual(want);
      }
    },
  );

  describe('a report about thousands of recipients', () => {
    const N = 5000;
    const addrs = Array.from({ length: N }, (_, i) => `user${i}@receiver.test`);
    const reports: Record<string, string> = {
      'plain text (qmail, Postfix text)': `From: MAILER-DAEMON@mx.sender.test\nSubject: failure notice\n\n${addrs.map((a) => `<${a}>:\n550 5.1.1 no such user\n`).join('\n')}`,
      'Exim with X-Failed-Recipients': `From: Mail Delivery System <Mailer-Daemon@mx.sender.test>\nX-Failed-Recipients: ${addrs.join(',\n ')}\nSubject: Mail delivery failed: returning message to sender\n\nThe following address(es) failed:\n\n${addrs.map((a) => `  ${a}\n    SMTP error from remote mail server after RCPT TO:<${a}>:\n    550 5.1.1 no such user\n`).join('\n')}`,
      'RFC 3464 with a text part naming each': `From: MAILER-DAEMON@mx.sender.test\nSubject: Undelivered Mail Returned to Sender\nContent-Type: multipart/report; report-type=delivery-status; boundary="b"\n\n--b\nContent-Type: text/plain\n\n${addrs.map((a) => `<${a}>: host mx.receiver.test said: 550 5.1.1 no such user (in reply to RCPT TO command)`).join('\n\n')}\n\n--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.sender.test\n\n${addrs.map((a) => `Final-Recipient: rfc822; ${a}\nAction: failed\nStatus: 5.1.1\n`).join('\n')}\n--b--\n`,
      'ARF with one Original-Rcpt-To each': `From: fbl@isp.test\nSubject: complaint\nContent-Type: multipart/report; report-type=feedback-report; boundary="b"\n\n--b\nContent-Type: text/plain\n\nA complaint.\n--b\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\nVersion: 1\n${addrs.map((a) => `Original-Rcpt-To: ${a}`).join('\n')}\n--b--\n`,
    };
    it.each(Object.keys(reports))('%s: every recipient once, each classified', async (name) => {
      const rs = await parseBounce(reports[name]!);
      expect(rs.map((r) => r.recipient)).toEqual(addrs);
      const reasons = new Set(rs.map((r) => r.classification.reason));
      expect(reasons).toEqual(new Set([name.startsWith('ARF') ? 'feedback' : 'userunknown']));
    });
  });

  it('accepts a string as well as a Buffer', async () => {
    const rs = await parseBounce(fixture('qmail.eml').toString('utf8'));
    expect(rs[0]!.recipient).toBe('nobody@receiver.test');
  });
});
