import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseBounce } from '../../../lib/bounces/index.js';

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
      ['later@receiver.test', 'expired', 'deferred', 'soft'],
    ]);
  });

  it.each([
    ['qmail.eml', 'nobody@receiver.test', 'userunknown', '5.1.1', 550],
    ['exim.eml', 'over@receiver.test', 'mailboxfull', '5.2.2', 552],
    ['sendmail-text.eml', 'closed@receiver.test', 'suspend', '5.2.1', 550],
    ['gmail-text.eml', 'blocked@receiver.test', 'blocked', '5.7.1', 554],
    ['exchange-text.eml', 'left.company@corp.receiver.test', 'userunknown', '5.0.0', undefined],
    ['ses-notification.eml', 'gone@receiver.test', 'userunknown', '5.1.1', 550],
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

  it('reads an auto-reply as vacation: neither hard nor soft, nothing to do', async () => {
    const rs = await parseBounce(fixture('auto-reply.eml'));
    expect(rs).toHaveLength(1);
    expect(rs[0]!.recipient).toBe('pat@receiver.test');
    expect(rs[0]!.classification).toMatchObject({ reason: 'vacation', bounce: 'none', action: 'none' });
  });

  it('returns nothing for a mail that is not a report', async () => {
    expect(await parseBounce(fixture('not-a-bounce.eml'))).toEqual([]);
    expect(await parseBounce('Subject: hi\r\n\r\nhello\r\n')).toEqual([]);
  });

  it('accepts a string as well as a Buffer', async () => {
    const rs = await parseBounce(fixture('qmail.eml').toString('utf8'));
    expect(rs[0]!.recipient).toBe('nobody@receiver.test');
  });
});
