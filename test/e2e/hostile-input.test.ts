import 'reflect-metadata';
import { fileURLToPath } from 'node:url';
import { Test } from '@nestjs/testing';
import { describe, expect, it } from 'vitest';
import {
  InvalidMailError, MailerModule, MailerService, type Mail, type MailerModuleOptions, type OutgoingMail,
} from '../../lib/index.js';
import { POSTMARK_TOKEN, PostmarkFake } from '../support/provider-fakes/index.js';
import { onCleanup, smtpSink } from '../support/cleanup.js';
import type { SmtpSink } from '../support/smtp-sink.js';

const TEMPLATES = fileURLToPath(new URL('../fixtures/mail-templates', import.meta.url));
const INVITE = 'BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:1@shop.example\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n';
const CRLF = '\r\nBcc: victim@example.net';
const base: Mail = { from: 'Shop <shop@example.com>', to: 'ada@example.org', subject: 'Hi', text: 'Hello' };

async function boot(transport: string, options: Partial<MailerModuleOptions> = {}): Promise<MailerService> {
  const moduleRef = await Test.createTestingModule({ imports: [MailerModule.forRoot({ transport, retry: false, suppression: false, ...options })] }).compile();
  await moduleRef.init();
  onCleanup(() => moduleRef.close());
  return moduleRef.get(MailerService);
}

/** The two kinds of peer: a real SMTP server and an HTTP provider's fake. Each says whether anything reached it. */
const peers = {
  smtp: async (options?: Partial<MailerModuleOptions>) => {
    const sink: SmtpSink = await smtpSink();
    return { mailer: await boot(`${sink.url}?tlsMode=none`, options), reached: () => sink.connections.length };
  },
  postmark: async (options?: Partial<MailerModuleOptions>) => {
    const fake = await new PostmarkFake().start();
    onCleanup(() => fake.stop());
    return { mailer: await boot(`postmark+api://${POSTMARK_TOKEN}@${new URL(fake.url).host}`, options), reached: () => fake.requests.length };
  },
};

/** Every field that reaches a header, each with an injection, and the field the error must name. */
const hostile: Array<[string, Partial<Mail>, string]> = [
  ['subject', { subject: `Hi${CRLF}` }, 'subject'],
  ['subject (NUL)', { subject: 'Hi\u0000there' }, 'subject'],
  ['from', { from: `shop@example.com${CRLF}` }, 'from'],
  ['from name', { from: { name: `Shop${CRLF}`, address: 'shop@example.com' } }, 'from name'],
  ['to', { to: `ada@example.org${CRLF}` }, 'to'],
  ['cc name', { cc: { name: `Ada\nX-Evil: 1`, address: 'ada@example.org' } }, 'cc name'],
  ['bcc', { bcc: [`b@example.org\r\nX-Evil: 1`] }, 'bcc'],
  ['replyTo', { replyTo: `r@example.org${CRLF}` }, 'replyTo'],
  ['custom header value', { headers: { 'X-Ref': `a${CRLF}` } }, 'headers.X-Ref'],
  ['custom header value (U+2028)', { headers: { 'X-Ref': 'a\u2028Bcc: victim@example.net' } }, 'headers.X-Ref'],
  ['custom header name', { headers: { 'Bcc: victim@example.net\r\nX-Ref': 'a' } }, 'headers'],
  ['attachment filename', { attachments: [{ filename: `a.txt${CRLF}`, content: 'x' }] }, 'attachments[0].filename'],
  ['attachment contentType', { attachments: [{ filename: 'a.txt', contentType: `text/plain${CRLF}`, content: 'x' }] }, 'attachments[0].contentType'],
  ['attachment cid', { attachments: [{ filename: 'a.png', cid: `logo${CRLF}`, content: 'x' }] }, 'attachments[0].cid'],
  ['attachment contentDisposition', { attachments: [{ filename: 'a.txt', contentDisposition: `attachment${CRLF}` as 'attachment', content: 'x' }] }, 'attachments[0].contentDisposition'],
  ['attachment contentDisposition (other value)', { attachments: [{ filename: 'a.txt', contentDisposition: 'form-data' as 'attachment', content: 'x' }] }, 'attachments[0].contentDisposition'],
  ['attachment header', { attachments: [{ filename: 'a.txt', content: 'x', headers: { 'X-Part': `a${CRLF}` } }] }, 'attachments[0].headers.X-Part'],
  ['listUnsubscribe', { listUnsubscribe: { url: `https://shop.example/u${CRLF}` } }, 'listUnsubscribe.url'],
  ['messageId', { messageId: `<a@shop.example>${CRLF}` }, 'messageId'],
  ['tags', { tags: [`welcome${CRLF}`] }, 'tags'],
  ['metadata', { metadata: { order: `1${CRLF}` } }, 'metadata.order'],
  ['priority', { priority: `high${CRLF}` as 'high' }, 'priority'],
  ['envelope', { envelope: { to: [`ada@example.org${CRLF}`] } }, 'envelope.to'],
  ['icalEvent method', { icalEvent: { method: `REQUEST${CRLF}` as 'REQUEST', content: INVITE } }, 'icalEvent'],
  ['icalEvent filename', { icalEvent: { filename: `invite.ics${CRLF}`, content: INVITE } }, 'icalEvent.filename'],
  ['a 65-octet local part', { to: `${'a'.repeat(65)}@example.org` }, 'to'],
  ['a 64-octet domain label', { cc: `ada@${'l'.repeat(64)}.example` }, 'cc'],
  ['two dots in a row', { replyTo: 'a..b@example.org' }, 'replyTo'],
  ['a leading dot', { from: '.shop@example.com' }, 'from'],
  ['a 10,000-character header token', { headers: { 'X-Token': 'a'.repeat(10_000) } }, 'headers.X-Token'],
  ['a 10,000-character Message-ID', { messageId: `<${'m'.repeat(10_000)}@shop.example>` }, 'messageId'],
  ['a List-Unsubscribe URL with no fold point', { listUnsubscribe: `https://shop.example/${'u'.repeat(2000)}` }, 'listUnsubscribe.url'],
];

/** The same fields changed by a mail.sending listener after composing. */
const changedByListener: Array<[string, (mail: OutgoingMail) => void, string]> = [
  ['subject', (m) => { m.subject = `x${CRLF}`; }, 'subject'],
  ['an added recipient', (m) => { m.cc.push({ address: `cc@example.org${CRLF}` }); }, 'cc'],
  ['a recipient over the limits', (m) => { m.bcc.push({ address: `${'a'.repeat(65)}@example.org` }); m.envelope.to.push(`${'a'.repeat(65)}@example.org`); }, 'bcc'],
  ['a header', (m) => { m.headers['X-Audit'] = `1${CRLF}`; }, 'headers.X-Audit'],
  ['an attachment disposition', (m) => { m.attachments.push({ filename: 'a.txt', content: 'x', contentDisposition: `inline${CRLF}` as 'inline' }); }, 'attachments[0].contentDisposition'],
  ['listUnsubscribe', (m) => { m.listUnsubscribe = { mailto: `u@shop.example${CRLF}` }; }, 'listUnsubscribe.mailto'],
  ['metadata', (m) => { m.metadata['k'] = `v${CRLF}`; }, 'metadata.k'],
];

describe.each(Object.keys(peers) as Array<keyof typeof peers>)('hostile input never reaches the %s peer', (peer) => {
  it.each(hostile)('%s', async (_what, patch, field) => {
    const { mailer, reached } = await peers[peer]();
    const error = await mailer.send({ ...base, ...patch }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidMailError);
    expect((error as InvalidMailError).field).toBe(field);
    expect(reached()).toBe(0);
  });

  it.each(changedByListener)('%s changed by a mail.sending listener', async (_what, change, field) => {
    const { mailer, reached } = await peers[peer]();
    mailer.events$.subscribe((e) => { if (e.type === 'mail.sending') change(e.mail); });
    const error = await mailer.send(base).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidMailError);
    expect((error as InvalidMailError).field).toBe(field);
    expect(reached()).toBe(0);
  });

  it('a subject rendered from a template with a control character in its context', async () => {
    const { mailer, reached } = await peers[peer]({ templates: { dir: TEMPLATES } });
    // The renderer turns white space (line breaks too) in a rendered subject into single spaces; a NUL it keeps.
    const context = { shop: 'Lumen', order: { id: 'A-1\u0000', items: [] }, customer: { name: 'Ada' } };
    const error = await mailer.send({ from: base.from, to: base.to, template: 'receipt', context }).catch((e: unknown) => e);
    expect(error).toMatchObject({ field: 'subject' });
    expect(error).toBeInstanceOf(InvalidMailError);
    expect(reached()).toBe(0);
  });
});

describe('what the checks must let through, over real SMTP', () => {
  it('addresses at the limits and in every valid form arrive as sent', async () => {
    const sink = await smtpSink();
    const mailer = await boot(`${sink.url}?tlsMode=none`);
    const recipients = [
      `${'a'.repeat(64)}@example.org`,
      `ada@${'l'.repeat(63)}.example`,
      `ada@${'s'.repeat(63)}`,
      'ada+newsletter@example.org',
      '"ada\\"q"@example.org',
      'ada@bücher.example',
      'jürgen@bücher.example',
    ];
    const result = await mailer.send({ ...base, to: recipients });
    expect(result.rejected).toEqual([]);
    const [mail] = await sink.waitFor(1);
    expect(mail!.envelope.to).toEqual(recipients);
    const to = mail!.parsed.to;
    expect((Array.isArray(to) ? to : [to]).flatMap((t) => t!.value)).toHaveLength(recipients.length);
  });

  it('a 10,000-character custom header is folded: intact after unfolding, no line over 998 octets', async () => {
    const sink = await smtpSink();
    const mailer = await boot(`${sink.url}?tlsMode=none`);
    const value = Array.from({ length: 1700 }, (_, i) => `part${i}`).join(' ').slice(0, 10_000);
    expect(value).toHaveLength(10_000);
    const unicode = `Grüße ${'é'.repeat(4000)}`;
    await mailer.send({ ...base, subject: unicode, headers: { 'X-Long': value } });
    const [mail] = await sink.waitFor(1);
    const lines = mail!.raw.toString('latin1').split('\r\n');
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(998);
    expect(lines.filter((l) => l.startsWith('X-Long:'))).toHaveLength(1);
    expect(mail!.parsed.headers.get('x-long') === value).toBe(true);
    expect(mail!.parsed.subject === unicode).toBe(true);
  });
});
