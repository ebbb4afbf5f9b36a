import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decideReason, parseBounce, parseBounceReport } from '../../../lib/bounces/index.js';

const fixture = (name: string): Buffer =>
  readFileSync(fileURLToPath(new URL(`../../fixtures/bounces/${name}`, import.meta.url)));

/** recipient, reason, status, hard/soft, kind of each result. */
async function rows(file: string): Promise<Array<[string, string, string | undefined, string, string]>> {
  return (await parseBounce(fixture(file))).map((r) => [
    r.recipient, r.classification.reason, r.classification.status, r.classification.bounce, r.classification.kind,
  ]);
}

describe('plain-text reports of older MTAs and mailbox providers', () => {
  it.each([
    // Lotus Domino: "was not delivered to: … because: User … not listed in Domino Directory".
    ['domino-not-listed.eml', [['kim.lee@receiver.test', 'userunknown', '5.0.0', 'hard', 'bounced']]],
    // Novell GroupWise names the mailbox by its local part; the returned message's To: has the address.
    ['groupwise-user-not-found.eml', [['r.bauer@receiver.test', 'userunknown', '5.0.0', 'hard', 'bounced']]],
    // Exchange 2000 quotes the recipient in single quotes and ends with its own status.
    ['exchange2000-some-or-all.eml', [['n.weber@corp.receiver.test', 'mailboxfull', '5.2.2', 'soft', 'bounced']]],
    // The same report from a German Exchange 2003: localized sentences, "am <date>" after the address.
    ['exchange2003-de-nicht-erreicht.eml', [['k.hofmann@firma.receiver.test', 'userunknown', '5.1.1', 'hard', 'bounced']]],
    // vpopmail under qmail-send: an over-quota line without a status, then "no mailbox here by that name".
    ['vpopmail-over-quota.eml', [
      ['sam@receiver.test', 'mailboxfull', '5.0.0', 'soft', 'bounced'],
      ['old@receiver.test', 'userunknown', '5.1.1', 'hard', 'bounced'],
    ]],
    ['netqmail-no-host.eml', [['dana@recevier-typo.test', 'hostunknown', '5.1.2', 'hard', 'bounced']]],
    // IMail ("SMTP32"): "unknown user: 'tom'", the address only in the message after "Original message follows".
    ['imail-unknown-user.eml', [['tom@receiver.test', 'userunknown', '5.0.0', 'hard', 'bounced']]],
    // CompuServe: "Receiver not found: 76543.21", the numeric mailbox only in the returned message's To:.
    ['compuserve-receiver-not-found.eml', [['76543.21@compuserve.test', 'userunknown', '5.0.0', 'hard', 'bounced']]],
    // A content filter's refusal that names nobody but returns the message: its To: is the recipient.
    ['spam-reject-quoted-to.eml', [['chris@receiver.test', 'spamdetected', '5.7.1', 'soft', 'bounced']]],
    // The same, naming the recipient and quoting the message inline with a second recipient.
    ['spam-reject-inline-original.eml', [['kim@receiver.test', 'spamdetected', '5.0.0', 'soft', 'bounced']]],
    ['attachment-blocked.eml', [['dora@receiver.test', 'policyviolation', '5.0.0', 'soft', 'bounced']]],
    ['sender-blocked-by-recipient.eml', [['eve@receiver.test', 'filtered', '5.0.0', 'soft', 'bounced']]],
    // Mailman refuses a posting for the list it was posted to.
    ['mailman-rejected.eml', [['announce@lists.receiver.test', 'rejected', '5.0.0', 'soft', 'bounced']]],
    // Sympa answers from its own address and names the list in a sentence.
    ['sympa-authorization-denied.eml', [['stats@lists.receiver.test', 'rejected', '5.0.0', 'soft', 'bounced']]],
  ])('%s', async (file, expected) => {
    expect(await rows(file)).toEqual(expected);
  });

  it.each([
    ['webmail-de-postfach-voll.eml', 'lena.schmidt@receiver.test', 'mailboxfull', 'soft'],
    ['webmail-fr-adresse-inexistante.eml', 'paul.martin@receiver.test', 'userunknown', 'hard'],
    // "n'a pu être remis" (no "pas"), and "inconnue" said by the provider itself, with no SMTP code.
    ['webmail-fr-adresse-inconnue.eml', 'claire@receiver.test', 'userunknown', 'hard'],
    ['webmail-es-buzon-lleno.eml', 'maria.lopez@receiver.test', 'mailboxfull', 'soft'],
    ['webmail-it-utente-inesistente.eml', 'giulia.rossi@receiver.test', 'userunknown', 'hard'],
    ['webmail-pt-caixa-cheia.eml', 'joao.silva@receiver.test', 'mailboxfull', 'soft'],
    ['webmail-nl-onbekend.eml', 'j.devries@receiver.test', 'userunknown', 'hard'],
    ['webmail-ja-not-found.eml', 'taro.suzuki@receiver.test', 'userunknown', 'hard'],
    ['webmail-zh-mailbox-full.eml', 'wang.fang@receiver.test', 'mailboxfull', 'soft'],
    ['webmail-ru-user-unknown.eml', 'ivan.petrov@receiver.test', 'userunknown', 'hard'],
  ])('reads the localized template %s', async (file, recipient, reason, bounce) => {
    expect(await rows(file)).toEqual([[recipient, reason, '5.0.0', bounce, 'bounced']]);
  });

  it.each([
    'Your message could not be delivered to kim@mail.receiver.test. The mailbox is full.',
    'We were unable to deliver your message to kim@mail.receiver.test. The mailbox is full.',
  ])('keeps the whole domain of a recipient named in a sentence: %s', async (sentence) => {
    const raw = `From: postmaster@receiver.test\nTo: a@sender.test\nSubject: Delivery failure\n\n${sentence}\n`;
    expect((await parseBounce(raw)).map((r) => [r.recipient, r.classification.reason])).toEqual([['kim@mail.receiver.test', 'mailboxfull']]);
  });

  it('does not read a report forwarded with the bounce attached by the attachment\'s To:', async () => {
    const inner = 'From: MAILER-DAEMON@mx.receiver.test\nTo: helpdesk@sender.test\nSubject: Undelivered Mail Returned to Sender\nContent-Type: multipart/report; report-type=delivery-status; boundary="i"\n\n--i\nContent-Type: text/plain\n\nfailed.\n\n--i\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.receiver.test\n\nFinal-Recipient: rfc822; gone@receiver.test\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 User unknown\n\n--i--\n';
    const outer = `From: postmaster@sender.test\nTo: ops@sender.test\nSubject: Returned mail: see attachment\nContent-Type: multipart/mixed; boundary="o"\n\n--o\nContent-Type: text/plain\n\nA message was rejected; the report is attached.\n\n--o\nContent-Type: message/rfc822\n\n${inner}\n--o--\n`;
    expect((await parseBounce(outer)).map((r) => [r.recipient, r.classification.reason])).toEqual([['gone@receiver.test', 'userunknown']]);
  });
});

describe('wording of the reason', () => {
  const report = (diagnostic: string, status = '5.0.0') =>
    `From: MAILER-DAEMON@mx.sender.test\nTo: a@sender.test\nSubject: Undelivered Mail Returned to Sender\nContent-Type: multipart/report; report-type=delivery-status; boundary="b"\n\n--b\nContent-Type: text/plain\n\nfailed.\n\n--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.sender.test\n\nFinal-Recipient: rfc822; kim@receiver.test\nAction: failed\nStatus: ${status}\nDiagnostic-Code: smtp; ${diagnostic}\n\n--b--\n`;

  it.each([
    // A message that would take the mailbox over its quota fills the mailbox, whatever the status says of size.
    ['552 5.3.4 Message size exceeds the remaining quota of this mailbox', '5.3.4', 'mailboxfull'],
    ['552 5.2.2 The message exceeds the recipient\'s quota', '5.2.2', 'mailboxfull'],
    ['550 Storage quota reached for this account', '5.0.0', 'mailboxfull'],
    // A size limit is still a size limit.
    ['552 5.3.4 Message size exceeds fixed maximum message size', '5.3.4', 'emailtoolarge'],
    // Said at RCPT, so the words about the mailbox are the remote's verdict on the address.
    ['550 Le destinataire n\'existe pas (in reply to RCPT TO command)', '5.0.0', 'userunknown'],
    ['550 Das Postfach des Empfängers existiert nicht (in reply to RCPT TO command)', '5.0.0', 'userunknown'],
    ['550 Postfach voll', '5.0.0', 'mailboxfull'],
    ['550 5.2.1 Konto des Empfängers ist deaktiviert', '5.2.1', 'suspend'],
    ['550 Le domaine n\'existe pas (in reply to RCPT TO command)', '5.0.0', 'hostunknown'],
    ['550 Почтовый ящик получателя переполнен', '5.0.0', 'mailboxfull'],
    ['550 メールアドレスが見つかりません (in reply to RCPT TO command)', '5.0.0', 'userunknown'],
    ['550 收件人邮箱已满', '5.0.0', 'mailboxfull'],
  ])('"%s" → %s', async (diagnostic, status, reason) => {
    const [r] = await parseBounce(report(diagnostic, status));
    expect(r!.classification.reason).toBe(reason);
  });

  it('keeps the localized verdict about a domain from naming an unknown user', async () => {
    const raw = 'From: MAILER-DAEMON@mout.receiver.test\nTo: a@sender.test\nSubject: Unzustellbar\n\nIhre Nachricht konnte nicht zugestellt werden an:\n\n  kim@nirgendwo.test\n    Die Domain existiert nicht.\n';
    const report = await parseBounceReport(raw);
    expect(report.results.map((r) => [r.recipient, r.classification.reason, r.classification.bounce])).toEqual([['kim@nirgendwo.test', 'hostunknown', 'hard']]);
  });
});

describe('English wordings of an unknown, closed or full mailbox and a missing domain', () => {
  it.each([
    // At RCPT with a vague status, the words decide.
    ['550 No such account', 'RCPT', 'userunknown'],
    ['550 Addressee unknown, relay=mx.receiver.test', 'RCPT', 'userunknown'],
    ['550 unknown or illegal alias: kim@receiver.test', 'RCPT', 'userunknown'],
    ['550 The mailbox kim@receiver.test no longer exists', 'RCPT', 'userunknown'],
    ['550 This account has been closed', undefined, 'suspend'],
    ['550 Recipient is inactive', undefined, 'suspend'],
    // A mailbox size limit is the mailbox's, not the message's.
    ['552 The user has exceeded their mailbox size limit', undefined, 'mailboxfull'],
    ['552 Mailbox has reached its capacity', undefined, 'mailboxfull'],
    ['452 Insufficient storage for this recipient', undefined, 'mailboxfull'],
    ['550 Name service error for name=receiver.test type=MX: Host not found', undefined, 'hostunknown'],
    ['550 The domain name does not exist', undefined, 'hostunknown'],
    ['550 Sorry, only subscribers may post. (#5.7.2)', undefined, 'rejected'],
  ])('"%s" (%s) → %s', (text, command, reason) => {
    const code = Number(text.slice(0, 3));
    expect(decideReason({ replyCode: code, status: `${text[0]}.0.0`, text, command })).toBe(reason);
  });

  it('still reads a temporary name server failure as a network error', () => {
    expect(decideReason({ replyCode: 450, status: '4.0.0', text: 'Name service error for name=receiver.test type=MX: Host not found, try again' })).toBe('networkerror');
  });
});
