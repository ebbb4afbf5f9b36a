import { describe, expect, it } from 'vitest';
import {
  classifySmtpReply,
  classifyStatus,
  decideReason,
  enhancedStatusOf,
  isHardBounce,
  normalizeDiagnostic,
  replyCodeOf,
} from '../../../lib/bounces/index.js';
import { commandIn, replyIn } from '../../../lib/bounces/text.helpers.js';

type Row = [code: number | undefined, text: string, reason: string, bounce: 'hard' | 'soft' | 'none', action: string, retryable: boolean];

// Rules the design states, then wordings of real servers.
const TABLE: Row[] = [
  [550, '5.1.1 <a@b.test>: Recipient address rejected: User unknown in local recipient table', 'userunknown', 'hard', 'suppress', false],
  [421, '4.7.0 Try again later, closing connection.', 'ratelimited', 'soft', 'slow-down', true],
  [553, '5.1.3 The recipient address <a@@b.test> is not a valid RFC 5321 address.', 'userunknown', 'hard', 'suppress', false],
  [554, '5.7.1 Message rejected as spam by Content Filtering.', 'spamdetected', 'soft', 'none', false],
  [554, '5.7.1 Rejected', 'policyviolation', 'soft', 'none', false],
  [450, '4.1.1 <a@b.test>: Recipient address rejected: unverified address', 'userunknown', 'hard', 'retry', true],
  [552, '5.2.2 The email account that you tried to reach is over quota.', 'mailboxfull', 'soft', 'none', false],
  [250, '2.0.0 OK queued as 12345', 'delivered', 'none', 'none', false],
  [550, '5.7.26 Unauthenticated email from sender.test is not accepted due to domain\'s DMARC policy.', 'authfailure', 'soft', 'fix-config', false],
  [550, '5.7.25 The IP address sending this message does not have a PTR record setup.', 'requireptr', 'soft', 'fix-config', false],
  [550, '5.7.1 Service unavailable, Client host [192.0.2.1] blocked using Spamhaus.', 'blocked', 'soft', 'none', false],
  [421, '4.7.28 Our system has detected an unusual rate of unsolicited mail originating from your IP address.', 'spamdetected', 'soft', 'retry', true],
  [451, '4.7.650 The mail server [192.0.2.1] has been temporarily rate limited due to IP reputation.', 'badreputation', 'soft', 'retry', true],
  [421, '4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected volume or user complaints', 'badreputation', 'soft', 'retry', true],
  [552, '5.3.4 Message size exceeds fixed limit', 'emailtoolarge', 'soft', 'none', false],
  [550, '5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup', 'userunknown', 'hard', 'suppress', false],
  [550, '5.4.1 Recipient address rejected: Access denied. AS(201806281)', 'userunknown', 'hard', 'suppress', false],
  [554, '5.4.4 SMTPSEND.DNS.NonExistentDomain; nonexistent domain', 'hostunknown', 'hard', 'suppress', false],
  [550, '5.1.2 Host unknown (Name server: receiver.test: host not found)', 'hostunknown', 'hard', 'suppress', false],
  [554, '5.7.9 Message not accepted for policy reasons.', 'policyviolation', 'soft', 'none', false],
  [550, '5.7.1 Relaying denied', 'norelaying', 'soft', 'fix-config', false],
  [535, '5.7.8 Username and Password not accepted.', 'securityerror', 'soft', 'fix-config', false],
  [452, '4.2.2 The email account that you tried to reach is over quota.', 'mailboxfull', 'soft', 'retry', true],
  [451, '4.4.2 Bad connection, lost while reading data.', 'networkerror', 'soft', 'retry', true],
  [451, '4.3.0 Temporary local problem - please try later', 'systemerror', 'soft', 'retry', true],
  [550, '5.2.1 The email account that you tried to reach is disabled.', 'suspend', 'soft', 'none', false],
  [554, '5.7.1 This message was blocked because its content presents a potential security issue.', 'policyviolation', 'soft', 'none', false],
  [550, '5.7.1 Our system has detected that this message is likely unsolicited mail.', 'spamdetected', 'soft', 'none', false],
  [554, '5.6.0 Message has a virus: Eicar-Test-Signature', 'virusdetected', 'soft', 'none', false],
  [521, '5.3.2 mx.receiver.test does not accept mail', 'notaccept', 'hard', 'suppress', false],
  [556, '5.1.10 Recipient address has null MX', 'notaccept', 'hard', 'suppress', false],
  [421, 'Too many concurrent SMTP connections from this IP address; please try again later.', 'ratelimited', 'soft', 'slow-down', true],
  [550, '5.1.6 Recipient addresses in this domain have moved', 'hasmoved', 'hard', 'suppress', false],
  [530, '5.7.0 Must issue a STARTTLS command first', 'securityerror', 'soft', 'fix-config', false],
  // Providers' own codes (Orange/La Poste, Cox, Spectrum) decide over generic words.
  [550, 'mwinf5c04 ME Adresse IP source bloquee pour incident de spam. Client host blocked for spamming issues. OFR006_102 Ref', 'blocked', 'soft', 'none', false],
  [421, 'mwinf5c77 ME Service refuse. Veuillez essayer plus tard. Service refused, please try later. OFR_999 [999]', 'ratelimited', 'soft', 'slow-down', true],
  [421, '4.2.1 Service refuse. Veuillez essayer plus tard. Service refused, please try later. LPN006_107', 'requireptr', 'soft', 'retry', true],
  [550, '5.1.0 <bounce@sender.test> sender rejected. Refer to Error Codes section. AUP#CDRBL', 'blocked', 'soft', 'none', false],
  [550, '5.1.0 <bounce@sender.test> sender rejected. Please see the error codes page. AUP#In-1310', 'ratelimited', 'soft', 'slow-down', false],
  // Yahoo refuses unknown accounts after DATA, in words that leave no doubt.
  [554, "delivery error: dd This user doesn't have a yahoo.test account (gone@yahoo.test) [0] - mta1.mail.yahoo.test", 'userunknown', 'hard', 'suppress', false],
  [550, '5.7.1 Messages with multiple addresses in From: header are not accepted.', 'notcompliantrfc', 'soft', 'fix-config', false],
  [554, "Transaction failed: Duplicate header 'DKIM-Signature'.", 'notcompliantrfc', 'soft', 'fix-config', false],
];

describe('classifySmtpReply', () => {
  it.each(TABLE)('%s %s → %s', (code, text, reason, bounce, action, retryable) => {
    const c = classifySmtpReply(code, text, 'a@b.test');
    expect(c.reason).toBe(reason);
    expect(c.bounce).toBe(bounce);
    expect(c.action).toBe(action);
    expect(c.retryable).toBe(retryable);
    expect(c.recipient).toBe('a@b.test');
  });

  it('sets kind from the class of the reply code', () => {
    expect(classifySmtpReply(250, 'ok').kind).toBe('delivered');
    expect(classifySmtpReply(451, '4.3.0 try later').kind).toBe('deferred');
    expect(classifySmtpReply(550, '5.1.1 no such user').kind).toBe('bounced');
  });

  it('never retries a 5xx and always may retry a 4xx', () => {
    for (const [code, text] of TABLE) {
      const c = classifySmtpReply(code, text);
      if (code !== undefined && code >= 500) expect(c.retryable).toBe(false);
      if (code !== undefined && code >= 400 && code < 500) expect(c.retryable).toBe(true);
    }
  });

  it('reads the code and the enhanced status from the text when the code is not given', () => {
    const c = classifySmtpReply(undefined, '550-5.1.1 The email account that you tried to reach does not exist.\n550 5.1.1 https://support.google.com/mail/?p=NoSuchUser');
    expect(c.replyCode).toBe(550);
    expect(c.status).toBe('5.1.1');
    expect(c.reason).toBe('userunknown');
    expect(c.diagnostic).not.toContain('\n');
  });

  it('reads "user unknown" at RCPT as unknown, after DATA as a filter', () => {
    expect(classifySmtpReply(550, 'Unknown user a@b.test', 'a@b.test').reason).toBe('userunknown');
    expect(classifySmtpReply(550, 'Unknown user a@b.test', 'a@b.test', 'DATA').reason).toBe('filtered');
    expect(classifySmtpReply(550, '5.7.1 Access denied', undefined, 'MAIL FROM').reason).toBe('rejected');
  });

  it('ignores a status whose class contradicts the reply code', () => {
    const c = classifySmtpReply(450, '5.1.1 mailbox busy');
    expect(c.status).toBeUndefined();
  });

  it('reads NTT docomo\'s "Unknown user" after DATA as its filter refusing the sender', () => {
    expect(decideReason({ replyCode: 550, text: '550 Unknown user a@docomo.ne.jp', command: 'DATA', remoteMta: 'mfsmax.docomo.ne.jp' })).toBe('rejected');
    expect(decideReason({ replyCode: 550, text: '550 Unknown user a@docomo.ne.jp', command: 'RCPT', remoteMta: 'mfsmax.docomo.ne.jp' })).toBe('userunknown');
    expect(decideReason({ replyCode: 550, text: '550 Unknown user a@other.test', command: 'DATA', remoteMta: 'mx.other.test' })).toBe('filtered');
  });

  it('tells au/KDDI\'s two "User unknown" replies apart by the address they name', () => {
    // The host, or else the recipient's domain, names the provider.
    expect(decideReason({ status: '5.0.0', replyCode: 550, text: '550 <x@ezweb.ne.jp>: User unknown', remoteMta: 'lsean.ezweb.ne.jp' })).toBe('userunknown');
    expect(decideReason({ status: '5.0.0', replyCode: 550, text: '550 <x@au.com>: User unknown', domain: 'au.com' })).toBe('userunknown');
    expect(decideReason({ status: '5.0.0', replyCode: 550, text: '550 : User unknown', domain: 'ezweb.ne.jp' })).toBe('filtered');
    expect(decideReason({ status: '5.0.0', replyCode: 550, text: '550 : User unknown', domain: 'ezweb.ne.jp', command: 'RCPT' })).toBe('filtered');
    // Elsewhere the general rule stands: without a mailbox status or RCPT, "user unknown" is a filter's.
    expect(decideReason({ status: '5.0.0', replyCode: 550, text: '550 <x@b.test>: User unknown', domain: 'b.test' })).toBe('filtered');
  });

  it('reads Exchange Online\'s "Recipient address rejected: Access denied" as an unknown mailbox at any stage', () => {
    expect(decideReason({ status: '5.4.1', text: '5.4.1 Recipient address rejected: Access denied. [XX0PR01MB0000.test]' })).toBe('userunknown');
    expect(decideReason({ status: '5.4.1', text: '5.4.1 Recipient address rejected: Access denied.', command: 'MAIL' })).toBe('rejected');
  });

  it('reads Sendmail\'s delay warning as a message still waiting', () => {
    expect(decideReason({
      status: '4.5.0', replyCode: 421, action: 'delayed',
      text: 'Deferred: 421 Warning: message still undelivered after 4 hours. Will keep trying until message is 5 days old',
    })).toBe('expired');
  });

  it('falls back on the reply code when the words say nothing known', () => {
    expect(classifySmtpReply(552, 'blah').reason).toBe('mailboxfull');
    expect(classifySmtpReply(421, 'bye').reason).toBe('ratelimited');
    expect(classifySmtpReply(501, 'huh?').reason).toBe('syntaxerror');
  });
});

describe('message size against mailbox quota', () => {
  // RFC 3463: 5.2.2 mailbox full, 5.2.3 message length exceeds administrative limit, 5.3.4 message
  // too big for system. RFC 5321 §4.5.3.1.10 answers an oversized message with "552 Too much mail
  // data", and RFC 1870 (SIZE) with 552 as well: a 552 alone does not say which.
  it.each([
    [552, 'Too much mail data'],
    [552, 'Error: too much mail data'],
    [552, '5.3.4 Too much mail data'],
    [552, '5.3.4 Message size exceeds fixed maximum message size'],
    [552, '5.3.4 Message size exceeds fixed limit'],
    [554, '5.3.4 Message too big for system'],
    [552, '5.2.3 Message size exceeds maximum value'],
    [552, "5.2.3 Your message exceeded Google's message size limits."],
    [550, '5.2.3 RESOLVER.RST.RecipSizeLimit; message too large for this recipient'],
    [552, 'Message size exceeds maximum permitted'],
    [552, 'message size exceeds limit'],
    [552, 'Message exceeds maximum fixed size'],
    [552, 'Message exceeds the size limit'],
    [552, '5.2.0 Message rejected: the message exceeds the limit'],
    [552, 'The size of the message exceeds the limit of this server'],
    [552, 'Error: message file too big'],
    [452, '4.3.4 Message size exceeds fixed limit'],
  ])('%s %s → emailtoolarge', (code, text) => {
    const c = classifySmtpReply(code, text, 'a@b.test', 'DATA');
    expect(c.reason).toBe('emailtoolarge');
    expect(c.bounce).toBe('soft');
    expect(c.action).toBe(code >= 500 ? 'none' : 'retry');
  });

  it.each([
    [552, '5.2.2 Mailbox full'],
    [552, '5.2.2 <a@b.test> Quota exceeded (mailbox for user is full)'],
    [552, '5.2.2 user is over quota'],
    [552, 'over quota'],
    [552, 'Requested mail action aborted: exceeded storage allocation'],
    [552, 'Mailbox size limit exceeded'],
    [552, 'User has exceeded the quota'],
    [452, '4.2.2 The email account that you tried to reach is over quota.'],
    // A 5.2.2 status names the mailbox whatever the words: some providers say "too much mail data" for a full box.
    [552, '5.2.2 Too much mail data'],
  ])('%s %s stays mailboxfull', (code, text) => {
    const c = classifySmtpReply(code, text, 'a@b.test', 'RCPT');
    expect(c.reason).toBe('mailboxfull');
    expect(c.bounce).toBe('soft');
  });
});

describe('classifyStatus', () => {
  it.each([
    ['5.1.1', 'userunknown', 'hard'],
    ['5.2.2', 'mailboxfull', 'soft'],
    ['4.2.2', 'mailboxfull', 'soft'],
    ['5.1.2', 'hostunknown', 'hard'],
    ['5.7.26', 'authfailure', 'soft'],
    ['5.7.25', 'requireptr', 'soft'],
    ['5.1.6', 'hasmoved', 'hard'],
    ['5.3.4', 'emailtoolarge', 'soft'],
    ['4.4.7', 'expired', 'soft'],
    ['2.1.5', 'delivered', 'none'],
  ])('%s → %s', (status, reason, bounce) => {
    const c = classifyStatus(status);
    expect(c.reason).toBe(reason);
    expect(c.bounce).toBe(bounce);
    expect(c.status).toBe(status);
  });
});

describe('isHardBounce', () => {
  it('follows the reason, not the first digit', () => {
    expect(isHardBounce('userunknown', 450)).toBe(true);
    expect(isHardBounce('mailboxfull', 552)).toBe(false);
    expect(isHardBounce('hostunknown')).toBe(true);
    expect(isHardBounce('hasmoved')).toBe(true);
    expect(isHardBounce('notaccept', 550)).toBe(true);
    expect(isHardBounce('notaccept', 421)).toBe(false);
    expect(isHardBounce('notaccept', '4.3.2')).toBe(false);
    expect(isHardBounce('notaccept')).toBe(true);
    expect(isHardBounce('feedback')).toBe(false);
    expect(isHardBounce('vacation')).toBe(false);
  });
});

describe('reply helpers', () => {
  it('reads labelled and punctuated reply codes, and the code of a status\'s own class', () => {
    expect(replyIn('Invalid Address, ERROR_CODE :550, ERROR_CODE :5.1.1 <a@b.test>... User Unknown').code).toBe(550);
    expect(replyIn('[Status: Error, Address: <a@b.test>, ResponseCode 421, , Host not reachable.]').code).toBe(421);
    expect(replyIn('550: 5.2.2 <a@b.test>... Mailbox Full')).toEqual({ code: 550, status: '5.2.2' });
    expect(replyIn("5.1.0 - Unknown address error 550-'5.2.2 <a@b.test>... Mailbox Full'")).toEqual({ code: 550, status: '5.2.2' });
    expect(replyIn('554 4.4.7 Message expired: unable to deliver in 840 minutes.<421 4.4.2 Connection timed out>')).toEqual({ code: 421, status: '4.4.2' });
    expect(replyIn('554 4.4.7 Message expired <421 4.4.2 Connection timed out>', '4').code).toBe(421);
  });

  it('reads the status at the start of a reply without a regular expression, with the same result', () => {
    for (const t of ['5.1.1 <a@b.test>: nope', '550 5.1.1 nope', '550-5.7.1 nope', '4.7.0', '5.01.001 nope', '550 5.1.10 nope', 'x 5.2.2 y', '5.1.1.1 nope', '550 5.1', '2.0.0 ok']) {
      const m = /(?<![\w.])([245])\.(\d{1,3})\.(\d{1,3})(?!\.?\d)/.exec(t);
      expect(enhancedStatusOf(t)).toBe(m ? `${m[1]}.${Number(m[2])}.${Number(m[3])}` : undefined);
    }
  });

  it('normalizes white space and case only where needed', () => {
    expect(normalizeDiagnostic('User Unknown')).toBe('user unknown');
    expect(normalizeDiagnostic('  User\n\tUnknown  here ')).toBe('user unknown here');
    expect(normalizeDiagnostic('doesn\u2019t\u00a0exist')).toBe("doesn't exist");
  });

  it('reads the SMTP stage a report names, Gmail\'s "(state N)" included', () => {
    expect(commandIn('The error that the other server returned was: 550 550 5.1.1 User Unknown (state 14).')).toBe('RCPT');
    expect(commandIn('554 554 5.7.0 Header error (state 18).')).toBe('DATA');
    expect(commandIn('550 550 5.7.1 Access denied (state 13).')).toBe('EHLO');
    expect(commandIn('said: 550 5.1.1 nope (in reply to RCPT TO command)')).toBe('RCPT');
    expect(commandIn('said: 554 Transaction failed (in reply to MAIL FROM command)')).toBe('MAIL');
    expect(commandIn('no stage here')).toBeUndefined();
  });

  it('extracts codes', () => {
    expect(replyCodeOf('550-5.7.1 nope')).toBe(550);
    expect(replyCodeOf('hello 550')).toBeUndefined();
    expect(enhancedStatusOf('host 192.0.2.1 said 5.01.001 nope')).toBe('5.1.1');
    expect(enhancedStatusOf('from 192.0.2.5')).toBeUndefined();
  });
});
