import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { classifySmtpReply, parseBounce, parseBounceReport } from '../../../lib/bounces/index.js';
import { outcomeOfAction, outcomeOfWording } from '../../../lib/bounces/report-outcome.rules.js';

const fixture = (name: string): Buffer =>
  readFileSync(fileURLToPath(new URL(`../../fixtures/bounces/outcome/${name}`, import.meta.url)));

/** A minimal RFC 3464 report about one recipient. */
function dsn(recipient: string, fields: string, text = 'This is the mail system at host mx.sender.test.'): string {
  return [
    'From: MAILER-DAEMON@mx.sender.test',
    'To: owner@sender.test',
    'Subject: Delivery report',
    'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=delivery-status; boundary="b"',
    '',
    '--b',
    'Content-Type: text/plain',
    '',
    text,
    '',
    '--b',
    'Content-Type: message/delivery-status',
    '',
    'Reporting-MTA: dns; mx.sender.test',
    '',
    `Final-Recipient: rfc822; ${recipient}`,
    fields,
    '',
    '--b--',
    '',
  ].join('\r\n');
}

describe('the Action field decides whether delivery ended', () => {
  it('Action: failed with the last temporary status is a final failure: bounced, not retryable, not retried', async () => {
    const [r] = await parseBounce(dsn('gone@receiver.test', 'Action: failed\r\nStatus: 4.4.1\r\nDiagnostic-Code: X-Postfix; connect to mx.receiver.test[192.0.2.25]:25: Connection refused'));
    expect(r!.classification).toMatchObject({ kind: 'bounced', status: '4.4.1', reason: 'expired', bounce: 'soft', retryable: false });
    expect(r!.classification.action).not.toBe('retry');
  });

  it('Action: failed with a temporary hard reason is bounced and hard, but not an instruction to suppress', async () => {
    const [r] = await parseBounce(dsn('gone@receiver.test', 'Action: failed\r\nStatus: 4.1.1\r\nDiagnostic-Code: smtp; 450 4.1.1 <gone@receiver.test>: Recipient address rejected: User unknown'));
    expect(r!.classification).toMatchObject({ kind: 'bounced', bounce: 'hard', reason: 'userunknown', retryable: false, action: 'none' });
  });

  it('Action: delayed is a warning: deferred, 4.x.x, never hard, nothing to do', async () => {
    const [r] = await parseBounce(dsn('slow@receiver.test', 'Action: delayed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 <slow@receiver.test>: User unknown'));
    expect(r!.classification).toMatchObject({ kind: 'deferred', status: '4.1.1', bounce: 'soft', retryable: true, action: 'none' });
    expect(r!.classification.replyCode).toBeUndefined();
  });

  it('relayed, delivered and expanded are not failures', async () => {
    for (const action of ['relayed', 'delivered', 'expanded']) {
      const raw = dsn('fine@receiver.test', `Action: ${action}\r\nStatus: 2.0.0`);
      expect(await parseBounce(raw), action).toEqual([]);
      const { delivered: [r] } = await parseBounceReport(raw);
      expect(r!.classification, action).toMatchObject({ kind: 'delivered', reason: 'delivered', bounce: 'none', retryable: false });
    }
  });

  it('the Action of each recipient wins over the wording of the report', async () => {
    const [r] = await parseBounce(dsn('gone@receiver.test', 'Action: failed\r\nStatus: 4.3.0', '# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #'));
    expect(r!.classification.kind).toBe('bounced');
  });

  it('reads the RFC 3464 values and SendGrid\'s "expired"; anything else says nothing', () => {
    expect(['failed', 'expired', 'delayed', 'relayed', 'delivered', 'expanded', 'bogus', undefined].map(outcomeOfAction)).toEqual(
      ['final', 'final', 'warning', 'success', 'success', 'success', undefined, undefined],
    );
  });
});

describe('without an Action field, the wording decides', () => {
  it.each([
    ['Warning: message 1tOrig-000Def-1y delayed 24 hours', 'A message that you sent has not yet been delivered to one or more of its recipients'],
    ['Delayed Mail (still being retried)', 'Your message could not be delivered for more than 4 hour(s). It will be retried until it is 5 day(s) old.'],
    ['Warning: could not send message for past 4 hours', '** THIS IS A WARNING MESSAGE ONLY **\n** YOU DO NOT NEED TO RESEND YOUR MESSAGE **'],
    ['Delivery delayed:Board meeting', "This message hasn't been delivered yet. Delivery will continue to be attempted."],
    ['Delivery Status Notification (Delay)', 'Delivery to the following recipient has been delayed: a@b.test\n\nMessage will be retried for 2 more day(s)'],
    ['Notice', 'Please note that this is only a temporary failure report. The message is kept in the queue for up to 4 days.'],
    ['Returned mail', 'Warning: message still undelivered after 4 hours\nWill keep trying until message is 5 days old'],
    ['delayed delivery notice', 'The mail system will continue to attempt to deliver your message to these recipients for a total of 7 days.'],
  ])('a warning: %s', (subject, text) => {
    expect(outcomeOfWording(subject, text)).toBe('warning');
  });

  it.each([
    ['failure notice', "This is a permanent error; I've given up. Sorry it didn't work out. I'm not going to try again; this message has been in the queue too long."],
    ['Mail delivery failed: returning message to sender', 'This is a permanent error. The following address(es) failed:\n\n  a@b.test\n    retry timeout exceeded'],
    ['Returned mail: Cannot send message for 5 days', 'Message could not be delivered for 5 days\nMessage will be deleted from queue'],
    ['Delivery Status Notification (Failure)', 'Delivery to the following recipient failed permanently:'],
    ['Undeliverable: x', 'Delivery has failed to these recipients or groups:'],
    ['Undeliverable: x', 'The server has tried to deliver this message, without success, and has stopped trying.'],
    // Exim's warning promises to give up one day; a report that warns and gives up at once is final.
    ['Mail delivery failed', 'Eventually the mail delivery software will give up. This is a permanent error.'],
  ])('final: %s', (subject, text) => {
    expect(outcomeOfWording(subject, text)).toBe('final');
  });

  it('says nothing when the words say neither', () => {
    expect(outcomeOfWording('Undelivered Mail Returned to Sender', 'Eventually the mail delivery software will give up.')).toBeUndefined();
  });
});

describe('delay warnings and final failures of each MTA family', () => {
  // [file, recipient, kind, retryable, status class, reason, bounce]
  it.each([
    ['exim-warning.eml', 'slow@receiver.test', 'deferred', true, '4', 'systemerror', 'soft'],
    ['exim-final.eml', 'slow@receiver.test', 'bounced', false, '5', 'expired', 'soft'],
    ['sendmail-warning.eml', 'full@receiver.test', 'deferred', true, '4', 'mailboxfull', 'soft'],
    ['sendmail-final.eml', 'full@receiver.test', 'bounced', false, '4', 'mailboxfull', 'soft'],
    ['exchange-warning.eml', 'slow@receiver.test', 'deferred', true, '4', 'expired', 'soft'],
    ['exchange-final.eml', 'slow@receiver.test', 'bounced', false, '4', 'expired', 'soft'],
    ['gmail-warning.eml', 'slow@receiver.test', 'deferred', true, '4', 'ratelimited', 'soft'],
    ['gmail-final.eml', 'slow@receiver.test', 'bounced', false, '4', 'ratelimited', 'soft'],
    ['qmail-final.eml', 'slow@receiver.test', 'bounced', false, '4', 'networkerror', 'soft'],
    ['qmail-warning.eml', 'slow@receiver.test', 'deferred', true, '4', 'mailboxfull', 'soft'],
    ['postfix-warning-userunknown.eml', 'checking@receiver.test', 'deferred', true, '4', 'userunknown', 'soft'],
  ] as const)('%s', async (file, recipient, kind, retryable, cls, reason, bounce) => {
    const rs = await parseBounce(fixture(file));
    expect(rs.map((r) => r.recipient)).toEqual([recipient]);
    const c = rs[0]!.classification;
    expect({ kind: c.kind, retryable: c.retryable, cls: c.status?.[0], reason: c.reason, bounce: c.bounce }).toEqual({ kind, retryable, cls, reason, bounce });
    // A warning asks nothing of the sender, a final failure is never retried.
    if (kind === 'deferred') expect(c.action).toBe('none');
    else expect(c.action).not.toBe('retry');
  });
});

describe('a connection that failed is a network error, not a block', () => {
  it.each([
    [421, '4.4.1 connect to mx.receiver.test[192.0.2.25]:25: Connection refused'],
    [421, '4.4.2 Connection timed out'],
    [421, '4.4.2 Connection reset by peer'],
    [421, '4.4.1 connect to mx.receiver.test[192.0.2.25]:25: No route to host'],
    [421, '4.4.2 lost connection with mx.receiver.test[192.0.2.25] while sending RCPT TO'],
    [421, '4.4.1 connect to mx.receiver.test[192.0.2.25]:25: Network is unreachable'],
    [undefined, 'connect to mx.receiver.test[192.0.2.25]:25: Connection refused'],
  ])('%s %s', (code, text) => {
    const c = classifySmtpReply(code, text);
    expect(c.reason).toBe('networkerror');
    expect(c.bounce).toBe('soft');
  });

  it('a block list named beside a refused connection is still a block', () => {
    expect(classifySmtpReply(554, '5.7.1 Connection refused: 192.0.2.1 is listed on Spamhaus').reason).toBe('blocked');
  });

  it('a report that gave up after refused connections says expired; a warning about them says networkerror', async () => {
    const diag = 'Diagnostic-Code: X-Postfix; connect to mx.receiver.test[192.0.2.25]:25: Connection refused';
    const [final] = await parseBounce(dsn('a@receiver.test', `Action: failed\r\nStatus: 4.4.1\r\n${diag}`));
    const [warning] = await parseBounce(dsn('a@receiver.test', `Action: delayed\r\nStatus: 4.4.1\r\n${diag}`));
    expect([final!.classification.reason, final!.classification.kind]).toEqual(['expired', 'bounced']);
    expect([warning!.classification.reason, warning!.classification.kind]).toEqual(['networkerror', 'deferred']);
  });
});
