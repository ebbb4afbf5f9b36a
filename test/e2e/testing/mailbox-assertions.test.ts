import { AssertionError } from 'node:assert';
import { describe, expect, it } from 'vitest';
import type { CapturedMail } from 'nestjs-mailroom/testing';
import { testApp, TEMPLATES } from './testing-support.js';

async function shop() {
  const app = await testApp({
    transports: { default: 'smtp://smtp.example.com:587', bulk: 'failover(postmark+api://token@default sendgrid+api://key@default)' },
    defaults: { from: 'Lumen & Co <shop@example.com>' },
    templates: { dir: TEMPLATES },
  });
  await app.mailer.send({
    to: ['Ada@Example.org', 'grace@example.org'],
    cc: 'team@shop.example',
    template: 'welcome',
    subject: 'Welcome, Ada',
    context: { name: 'Ada', plan: { name: 'pro', seats: 3 }, tags: ['a', 'b'] },
    headers: { 'X-Campaign': 'spring' },
    attachments: [{ filename: 'terms.pdf', content: Buffer.from('%PDF'), contentType: 'application/pdf' }],
  });
  await app.mailer.send({ to: 'bob@example.org', subject: 'Your receipt', text: 'Thanks' }, { transport: 'bulk' });
  return app;
}

/** The AssertionError the call throws. */
function failure(call: () => unknown): AssertionError {
  try {
    call();
  } catch (error) {
    expect(error).toBeInstanceOf(AssertionError);
    return error as AssertionError;
  }
  throw new Error('expected the assertion to fail');
}

describe('Mailbox assertions', () => {
  it('expectSent() returns the matching mail, field by field', async () => {
    const { mailbox } = await shop();
    const mail = mailbox.expectSent({ to: 'ada@example.org' });
    expect(mail.subject).toBe('Welcome, Ada');
    mailbox.expectSent({ to: ['ADA@example.org', 'team@shop.example'] });
    mailbox.expectSent({ to: /@shop\.example$/ });
    mailbox.expectSent({ from: 'shop@example.com', subject: /^Welcome/, template: 'welcome' });
    mailbox.expectSent({ context: { plan: { seats: 3 } } });
    mailbox.expectSent({ context: { tags: ['a', 'b'] } });
    mailbox.expectSent({ attachments: ['terms.pdf'] });
    mailbox.expectSent({ headers: { 'x-campaign': 'spring', 'Content-Type': /^multipart\/mixed/ } });
    mailbox.expectSent({ html: /Welcome, Ada!/, text: 'Welcome aboard, Ada!\n' });
    mailbox.expectSent({ transport: 'bulk', subject: 'Your receipt' });
    mailbox.expectSent({ transport: 'bulk[0]' });
    mailbox.expectSent((m) => m.result.accepted.length === 3);
    expect(mailbox.expectSent().subject).toBe('Your receipt');
  });

  it('expectSent() fails with what was sent instead, and a diff of the closest mail', async () => {
    const { mailbox } = await shop();
    const error = failure(() => mailbox.expectSent({ to: 'ada@example.org', subject: 'Welcome, Grace', context: { plan: { seats: 5 } } }));
    expect(error.message).toContain("Expected a mail matching { to: 'ada@example.org', subject: 'Welcome, Grace', context: { plan: { seats: 5 } } } to have been sent, but none did.");
    expect(error.message).toContain('2 mails were sent:');
    expect(error.message).toContain('1. to Ada@Example.org, grace@example.org, team@shop.example — "Welcome, Ada" (template welcome) via default');
    expect(error.message).toContain('2. to bob@example.org — "Your receipt" via bulk[0]');
    expect(error.expected).toEqual({ to: 'ada@example.org', subject: 'Welcome, Grace', context: { plan: { seats: 5 } } });
    expect(error.actual).toEqual({ to: 'Ada@Example.org', subject: 'Welcome, Ada', context: { plan: { seats: 3 } } });
    expect(error.operator).toBe('expectSent');
  });

  it('fails when a field is missing or different, each kind of field', async () => {
    const { mailbox } = await shop();
    const misses: Array<Parameters<typeof mailbox.expectSent>[0]> = [
      { to: 'nobody@example.org' },
      { to: ['ada@example.org', 'nobody@example.org'] },
      { from: 'other@example.com' },
      { subject: 'Welcome' },
      { text: /Goodbye/ },
      { html: 'Welcome, Ada!' },
      { template: 'receipt' },
      { context: { name: 'Grace' } },
      { context: { tags: ['a'] } },
      { attachments: ['terms.pdf', 'invoice.pdf'] },
      { headers: { 'X-Campaign': 'autumn' } },
      { headers: { 'X-Missing': /./ } },
      { transport: 'backup' },
      { transport: 'bul' },
      (m: CapturedMail) => m.kind === 'ses',
    ];
    for (const match of misses) expect(() => mailbox.expectSent(match), String(JSON.stringify(match))).toThrow(AssertionError);
  });

  it('expectNotSent() and expectCount(), passing and failing', async () => {
    const { mailbox } = await shop();
    mailbox.expectNotSent({ to: 'nobody@example.org' });
    mailbox.expectCount(2);
    mailbox.expectCount(1, { transport: 'bulk' });
    mailbox.expectCount(0, { template: 'receipt' });

    const notSent = failure(() => mailbox.expectNotSent({ transport: 'bulk' }));
    expect(notSent.message).toContain("Expected no mail matching { transport: 'bulk' } to have been sent, but one was.");
    expect(notSent.message).toContain('"Your receipt" via bulk[0]');
    expect(notSent.actual).toEqual([{ transport: 'bulk[0]' }]);
    expect(notSent.expected).toEqual([]);

    const any = failure(() => mailbox.expectNotSent());
    expect(any.message).toContain('Expected no mail to have been sent, but 2 were.');

    const count = failure(() => mailbox.expectCount(2, { to: /example\.org$/i, subject: /receipt/ }));
    expect(count.message).toContain('Expected 2 mails matching { to: /example\\.org$/i, subject: /receipt/ } to have been sent, but 1 matched.');
    expect(count.message).toContain('2 mails were sent:');
    expect([count.actual, count.expected]).toEqual([1, 2]);
  });

  it('last(), find(), filter() and clear()', async () => {
    const { mailer, mailbox } = await shop();
    expect(mailbox.last()?.subject).toBe('Your receipt');
    expect(mailbox.last({ template: 'welcome' })?.subject).toBe('Welcome, Ada');
    expect(mailbox.find({ to: 'bob@example.org' })?.transport).toBe('bulk[0]');
    expect(mailbox.find({ to: 'nobody@example.org' })).toBeUndefined();
    expect(mailbox.filter({ from: /@example\.com$/ })).toHaveLength(2);
    mailbox.clear();
    expect(mailbox.mails).toEqual([]);
    expect(mailbox.last()).toBeUndefined();
    mailbox.expectNotSent();
    await mailer.send({ to: 'ada@example.org', subject: 'Again', text: 'x' });
    mailbox.expectCount(1);
  });

  it('refuses a match it cannot read, rather than matching every mail', async () => {
    const { mailbox } = await shop();
    expect(() => mailbox.expectNotSent({ subjet: 'x' } as never)).toThrow('expectNotSent(): unknown match key "subjet". Did you mean "subject"?');
    expect(() => mailbox.expectSent({ subject: 42 } as never)).toThrow(TypeError);
    expect(() => mailbox.expectSent({ to: [42] } as never)).toThrow(/to must be an address, a RegExp or an array of them/);
    expect(() => mailbox.expectCount(-1)).toThrow(TypeError);
  });

  it('waitFor() resolves with a mail sent later, or one already there', async () => {
    const { mailer, mailbox } = await shop();
    setTimeout(() => void mailer.send({ to: 'late@example.org', subject: 'Later', text: 'x' }), 20);
    const mail = await mailbox.waitFor({ to: 'late@example.org' });
    expect(mail.subject).toBe('Later');
    await expect(mailbox.waitFor({ subject: 'Your receipt' })).resolves.toMatchObject({ transport: 'bulk[0]' });
  });

  it('waitFor() fails after its timeout with what was sent, pointing at the test', async () => {
    const { mailbox } = await shop();
    const error = await mailbox.waitFor({ to: 'late@example.org' }, { timeout: 30 }).then(() => undefined, (e: unknown) => e as AssertionError);
    expect(error).toBeInstanceOf(AssertionError);
    if (!error) return;
    expect(error.message).toContain("No mail matching { to: 'late@example.org' } was sent within 30 ms.");
    expect(error.message).toContain('2 mails were sent:');
    expect(error.expected).toEqual({ to: 'late@example.org' });
    expect(error.stack).toContain('mailbox-assertions.test.ts');
  });

  it('captured$ emits each mail as it is captured', async () => {
    const { mailer, mailbox } = await testApp({ transport: 'memory://', defaults: { from: 'shop@example.com' } });
    const seen: string[] = [];
    mailbox.captured$.subscribe((mail) => seen.push(mail.subject));
    await mailer.send({ to: 'a@example.org', subject: 'One', text: 'x' });
    await mailer.send({ to: 'b@example.org', subject: 'Two', text: 'x' });
    expect(seen).toEqual(['One', 'Two']);
  });
});
