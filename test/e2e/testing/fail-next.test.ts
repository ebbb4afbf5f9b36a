import { describe, expect, it } from 'vitest';
import { MAIL_EVENTS, MailerModule, MailerService, TransportError, type MailFailedEvent, type RetryEvent } from 'nestjs-mailroom';
import { Test } from '@nestjs/testing';
import { onCleanup, smtpSink } from '../../support/cleanup.js';
import { testApp } from './testing-support.js';

const FROM = { defaults: { from: 'shop@example.com' } };

async function rejection(send: Promise<unknown>): Promise<TransportError> {
  const error = await send.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(TransportError);
  return error as TransportError;
}

/** The fields retry, failover and suppression decide on. */
function decisive(error: TransportError) {
  return {
    failure: error.failure,
    responseCode: error.responseCode,
    command: error.command,
    classification: error.classification,
    rejected: error.rejected,
  };
}

describe('Mailbox.failNext()', () => {
  it('fails like the SMTP transport does when a real server refuses the recipient', async () => {
    const reply = '5.1.1 <gone@example.org>: Recipient address rejected: User unknown';
    const sink = await smtpSink({ rcpt: () => ({ code: 550, message: reply }) });
    const real = await Test.createTestingModule({ imports: [MailerModule.forRoot({ transport: `${sink.url}?tlsMode=none&pool=false`, ...FROM })] }).compile();
    await real.init();
    onCleanup(() => real.close());
    const fromServer = await rejection(real.get(MailerService).send({ to: 'gone@example.org', text: 'x' }));

    const { mailer, mailbox } = await testApp({ transport: `${sink.url}?tlsMode=none&pool=false`, ...FROM });
    mailbox.failNext(`550 ${reply}`);
    const simulated = await rejection(mailer.send({ to: 'gone@example.org', text: 'x' }));

    expect(decisive(simulated)).toEqual(decisive(fromServer));
    expect(simulated.message).toBe(fromServer.message);
    expect(sink.connections).toHaveLength(1);
  });

  it('a 550 5.1.1 fails the send, publishes mail.failed, and suppresses the address for the next send', async () => {
    const { mailer, mailbox } = await testApp({ transport: 'smtp://smtp.example.com:587', ...FROM });
    const failed: MailFailedEvent[] = [];
    mailer.events$.subscribe((event) => event.type === MAIL_EVENTS.failed && failed.push(event));
    mailbox.failNext('550 5.1.1 <gone@example.org>: User unknown');

    const error = await rejection(mailer.send({ to: 'gone@example.org', subject: 'First', text: 'x' }));
    expect(error).toMatchObject({ failure: 'envelope', responseCode: 550, command: 'RCPT TO', classification: { reason: 'userunknown', bounce: 'hard', action: 'suppress' } });
    expect(error.rejected).toMatchObject([{ address: 'gone@example.org', status: '5.1.1', classification: { reason: 'userunknown' } }]);
    expect(error.attempts).toHaveLength(1);
    expect(failed.map((e) => e.mail.subject)).toEqual(['First']);
    mailbox.expectNotSent();

    const again = await mailer.send({ to: ['gone@example.org', 'ada@example.org'], subject: 'Second', text: 'x' });
    expect(again.rejected).toMatchObject([{ address: 'gone@example.org', classification: { reason: 'suppressed' } }]);
    const mail = mailbox.expectSent({ subject: 'Second' });
    expect(mail.envelope.to).toEqual(['ada@example.org']);
    expect(mail.headers.to).toBe('ada@example.org');
    expect(await mailer.suppressions!.get('gone@example.org')).toMatchObject({ reason: 'userunknown', source: 'smtp' });
  });

  it('a 421 4.7.0 is retried (without waiting) and the next attempt delivers', async () => {
    const retries: RetryEvent[] = [];
    const { mailer, mailbox } = await testApp({ transport: 'smtp://smtp.example.com:587', ...FROM, retry: { onRetry: (event) => void retries.push(event) } });
    mailbox.failNext('421 4.7.0 Try again later');

    const result = await mailer.send({ to: 'ada@example.org', subject: 'Hello', text: 'x' });
    expect(retries).toHaveLength(1);
    expect(retries[0]!.error).toMatchObject({ failure: 'rate-limit', responseCode: 421, classification: { action: 'slow-down' } });
    expect(result.attempts.map((a) => a.ok)).toEqual([false, true]);
    expect(mailbox.expectSent({ subject: 'Hello' }).result).toEqual(result);
    mailbox.expectCount(1);
    expect(mailbox.pendingFailures).toBe(0);
  });

  it('the retry policy still decides: a send gives up after its limit', async () => {
    const { mailer, mailbox } = await testApp({ transport: 'smtp://smtp.example.com:587', ...FROM, retry: { limit: 1 } });
    mailbox.failNext('451 4.3.0 Local error').failNext('451 4.3.0 Local error').failNext('451 4.3.0 Local error');
    const error = await rejection(mailer.send({ to: 'ada@example.org', text: 'x' }));
    expect(error.attempts).toHaveLength(2);
    expect(mailbox.pendingFailures).toBe(1);
    mailbox.expectNotSent();
  });

  it('a timeout and a refused connection are retried; with retry off the send fails', async () => {
    const { mailer, mailbox } = await testApp({ transport: 'smtp://smtp.example.com:587', ...FROM });
    mailbox.failNext('timeout');
    const result = await mailer.send({ to: 'ada@example.org', text: 'x' });
    expect(result.attempts).toMatchObject([{ ok: false, error: { failure: 'timeout' } }, { ok: true }]);

    mailbox.failNext('connection');
    const error = await rejection(mailer.send({ to: 'ada@example.org', text: 'y' }, { retry: false }));
    expect(error).toMatchObject({ failure: 'connection', command: 'CONN' });
    expect(error.message).toContain('SMTP transport "default" (smtp.example.com:587) failed: connect ECONNREFUSED smtp.example.com:587');
    mailbox.expectCount(1);
  });

  it("a provider's error answer goes through the provider's classification", async () => {
    const { mailer, mailbox } = await testApp({ transport: 'postmark+api://token@default', ...FROM });
    mailbox.failNext({ statusCode: 422, providerCode: 406, message: 'You tried to send to recipient(s) that have been marked as inactive.' });
    const error = await rejection(mailer.send({ to: 'ada@example.org', text: 'x' }));
    expect(error).toMatchObject({
      transport: 'default',
      provider: 'postmark',
      failure: 'http',
      statusCode: 422,
      providerCode: '406',
      classification: { reason: 'suppressed', retryable: false },
    });
    expect(error.message).toBe('postmark send failed (HTTP 422, code 406): You tried to send to recipient(s) that have been marked as inactive.');
    expect(error.attempts).toHaveLength(1);

    mailbox.failNext({ statusCode: 503, message: 'Service Unavailable' });
    const result = await mailer.send({ to: 'ada@example.org', subject: 'After the outage', text: 'x' });
    expect(result.attempts).toMatchObject([{ ok: false, error: { failure: 'http' } }, { ok: true }]);
    mailbox.expectSent({ subject: 'After the outage', transport: 'default' });
  });

  it('refuses some recipients only: the others get the mail, the refused are suppressed', async () => {
    const { mailer, mailbox } = await testApp({ transport: 'smtp://smtp.example.com:587', ...FROM });
    mailbox.failNext({ reply: '550 5.1.1 User unknown', recipients: 'Gone@example.org' });
    const result = await mailer.send({ to: ['ada@example.org', 'gone@example.org'], subject: 'Partial', text: 'x' });
    expect(result.accepted).toEqual(['ada@example.org']);
    expect(result.rejected).toMatchObject([{ address: 'gone@example.org', replyCode: 550, status: '5.1.1', classification: { reason: 'userunknown', recipient: 'gone@example.org' } }]);
    expect(mailbox.expectSent({ subject: 'Partial' }).result.rejected).toHaveLength(1);
    expect(await mailer.suppressions!.has('gone@example.org')).toBe(true);
  });

  it('fails only the send it matches, and a failover member fails over', async () => {
    const { mailer, mailbox } = await testApp({ transport: 'failover(smtp://a.example.com:587 smtp://b.example.com:587)', ...FROM });
    mailbox.failNext({ to: 'grace@example.org', transport: 'default[0]' }, 'connection');

    await mailer.send({ to: 'ada@example.org', subject: 'To Ada', text: 'x' });
    const result = await mailer.send({ to: 'grace@example.org', subject: 'To Grace', text: 'x' });

    expect(mailbox.expectSent({ subject: 'To Ada' }).transport).toBe('default[0]');
    expect(mailbox.expectSent({ subject: 'To Grace' }).transport).toBe('default[1]');
    expect(result.attempts).toMatchObject([{ transport: 'default[0]', ok: false, error: { failure: 'connection' } }, { transport: 'default[1]', ok: true }]);
  });

  it('a failure for recipients a mail does not have waits for one that has them', async () => {
    const { mailer, mailbox } = await testApp({ transport: 'memory://', ...FROM });
    mailbox.failNext({ reply: '550 5.1.1 User unknown', recipients: ['gone@example.org'] });
    await mailer.send({ to: 'ada@example.org', text: 'x' });
    expect(mailbox.pendingFailures).toBe(1);
    await expect(mailer.send({ to: 'gone@example.org', text: 'x' })).rejects.toMatchObject({ failure: 'envelope' });
  });

  it('refuses what it cannot simulate', async () => {
    const { mailbox } = await testApp({ transport: 'memory://', ...FROM });
    expect(() => mailbox.failNext('250 OK')).toThrow(/not an SMTP refusal/);
    expect(() => mailbox.failNext('slow')).toThrow(TypeError);
    expect(() => mailbox.failNext({ statusCode: 200 })).toThrow(/statusCode must be an HTTP error status/);
    expect(() => mailbox.failNext({ reply: '550 5.1.1 x', recipients: [] })).toThrow(/recipients/);
    expect(() => mailbox.failNext({ reply: '550 5.1.1 x', command: 'DATA', recipients: 'a@example.org' })).toThrow(/RCPT TO/);
    expect(() => mailbox.failNext({ too: 'a@example.org' } as never, 'timeout')).toThrow(/Did you mean "to"/);
    expect(mailbox.pendingFailures).toBe(0);
  });
});
