import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser, type Attachment as ParsedAttachment, type ParsedMail } from 'mailparser';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Mail, OutgoingMail } from '../../lib/core/mail.types.js';
import { InvalidMailError, UnsupportedFeatureError } from '../../lib/errors/mailer.error.js';
import { MailerModule } from '../../lib/nest/mailer.module.js';
import { MailerService } from '../../lib/nest/mailer.service.js';
import { assertSafeMail, composeMail, type AttachmentPolicy } from '../../lib/transports/mail.compose.js';
import {
  MailgunTransport, PostmarkTransport, ResendTransport, SendGridTransport, SesTransport,
} from '../../lib/transports/providers/index.js';
import { SmtpTransport } from '../../lib/transports/smtp/smtp.transport.js';
import { onCleanup, smtpSink } from '../support/cleanup.js';
import {
  MAILGUN_DOMAIN, MAILGUN_KEY, MailgunFake, POSTMARK_TOKEN, PostmarkFake, RESEND_KEY, ResendFake, SENDGRID_KEY, SendGridFake,
  SES_ACCESS_KEY_ID, SES_REGION, SES_SECRET_ACCESS_KEY, SesFake,
} from '../support/provider-fakes/index.js';
import { Test } from '@nestjs/testing';

const invite = (method = 'REQUEST') => [
  'BEGIN:VCALENDAR',
  'VERSION:2.0',
  'PRODID:-//Shop//Deliveries//EN',
  `METHOD:${method}`,
  'BEGIN:VEVENT',
  'UID:delivery-42@shop.example',
  'DTSTAMP:20260105T090000Z',
  'DTSTART:20260110T090000Z',
  'DTEND:20260110T100000Z',
  'SUMMARY:Delivery window — Nº 42',
  'ORGANIZER;CN=Shop:mailto:orders@shop.example',
  'ATTENDEE;RSVP=TRUE:mailto:ada@example.org',
  'END:VEVENT',
  'END:VCALENDAR',
  '',
].join('\r\n');

async function compose(mail: Partial<Mail>, policy: AttachmentPolicy = {}): Promise<OutgoingMail> {
  const out = await composeMail({
    from: 'Shop <orders@shop.example>',
    to: 'Ada <ada@example.org>',
    subject: 'Your delivery window',
    text: 'We deliver on 10 January between 9 and 10.',
    html: '<p>We deliver on <b>10 January</b> between 9 and 10.</p>',
    ...mail,
  }, {}, {}, policy);
  assertSafeMail(out);
  return out;
}

/** The text/calendar alternative and the attached file, as a mail client sees them. */
function calendarParts(parsed: ParsedMail): { alternative?: ParsedAttachment; file?: ParsedAttachment } {
  return {
    alternative: parsed.attachments.find((a) => a.contentType === 'text/calendar' && a.contentDisposition !== 'attachment'),
    file: parsed.attachments.find((a) => a.contentDisposition === 'attachment' && /\.ics$/.test(a.filename ?? '')),
  };
}

function params(part: ParsedAttachment | undefined): Record<string, string> {
  return ((part?.headers.get('content-type') as { params?: Record<string, string> } | undefined)?.params) ?? {};
}

describe('calendar invites over SMTP', () => {
  it.each(['REQUEST', 'CANCEL', 'REPLY'])('%s: a text/calendar alternative with the method, and the file attached', async (method) => {
    const sink = await smtpSink();
    const t = new SmtpTransport('cal', { host: '127.0.0.1', port: sink.port, tlsMode: 'none', pool: false });
    onCleanup(() => t.close());
    await t.send(await compose({ icalEvent: { method: method.toLowerCase() as 'request', content: invite(method), filename: 'delivery-42.ics' } }));
    const [received] = await sink.waitFor(1);
    const parsed = received!.parsed;
    expect(parsed.text?.trim()).toBe('We deliver on 10 January between 9 and 10.');
    const { alternative, file } = calendarParts(parsed);
    expect(params(alternative)).toMatchObject({ method, charset: 'utf-8' });
    expect(alternative!.content.toString('utf8')).toBe(invite(method));
    expect(file).toMatchObject({ filename: 'delivery-42.ics' });
    expect(file!.content.toString('utf8')).toBe(invite(method));
  });

  it('takes the method from the METHOD line when none is given', async () => {
    const sink = await smtpSink();
    const t = new SmtpTransport('cal', { host: '127.0.0.1', port: sink.port, tlsMode: 'none', pool: false });
    onCleanup(() => t.close());
    await t.send(await compose({ icalEvent: { content: Buffer.from(invite('CANCEL')) } }));
    const [received] = await sink.waitFor(1);
    const { alternative, file } = calendarParts(received!.parsed);
    expect(params(alternative).method).toBe('CANCEL');
    expect(file!.filename).toBe('invite.ics');
  });

  it('sendMail({ icalEvent }) works as it does with the incumbent module', async () => {
    const sink = await smtpSink();
    const dir = mkdtempSync(join(tmpdir(), 'mailroom-ics-'));
    writeFileSync(join(dir, 'delivery.ics'), invite());
    const moduleRef = await Test.createTestingModule({
      imports: [MailerModule.forRoot({
        transport: { host: '127.0.0.1', port: sink.port, tlsMode: 'none', pool: false },
        defaults: { from: 'Shop <orders@shop.example>' },
        attachments: { allowFilePaths: true },
        suppression: false,
        retry: false,
      })],
    }).compile();
    await moduleRef.init();
    onCleanup(() => moduleRef.close());
    const mailer = moduleRef.get(MailerService);
    const info = await mailer.sendMail({ to: 'ada@example.org', subject: 'Invite', text: 'See the invite.', icalEvent: { method: 'request', path: join(dir, 'delivery.ics') } });
    await mailer.sendMail({ to: 'ada@example.org', subject: 'Invite', text: 'See the invite.', icalEvent: invite('PUBLISH') });
    const [first, second] = await sink.waitFor(2);
    expect(info.accepted).toEqual(['ada@example.org']);
    expect(params(calendarParts(first!.parsed).alternative).method).toBe('REQUEST');
    expect(calendarParts(first!.parsed).file!.filename).toBe('invite.ics');
    expect(params(calendarParts(second!.parsed).alternative).method).toBe('PUBLISH');
  });
});

describe('calendar invites are checked before anything is sent', () => {
  const refused = async (mail: Partial<Mail>, pattern: RegExp, policy?: AttachmentPolicy, field = 'icalEvent') => {
    const error = await compose(mail, policy).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidMailError);
    expect((error as InvalidMailError).field).toBe(field);
    expect((error as Error).message).toMatch(pattern);
  };

  it('an unknown method', () => refused({ icalEvent: { method: 'INVITE' as 'REQUEST', content: invite() } }, /"INVITE"; use one of PUBLISH, REQUEST, REPLY/));
  it('a method that contradicts the content', () => refused({ icalEvent: { method: 'CANCEL', content: invite('REQUEST') } }, /method is CANCEL but the content says METHOD:REQUEST/));
  it('CR/LF in the method', () => refused({ icalEvent: { method: 'REQUEST\r\nBcc: x@evil.example' as 'REQUEST', content: invite() } }, /control characters/));
  it('CR/LF in the filename', () => refused({ icalEvent: { filename: 'a.ics\r\nContent-Type: text/html', content: invite() } }, /filename contains a line break/, undefined, 'icalEvent.filename'));
  it('content that is no iCalendar object', () => refused({ icalEvent: { content: '<html>not a calendar</html>' } }, /not an iCalendar object/));
  it('content that is not UTF-8', () => refused({ icalEvent: { content: Buffer.concat([Buffer.from('BEGIN:VCALENDAR\r\nSUMMARY:'), Buffer.from([0xff, 0xfe]), Buffer.from('\r\nEND:VCALENDAR\r\n')]) } }, /not UTF-8/));
  it('a file path while allowFilePaths is off, naming the option', () => refused({ icalEvent: { path: '/etc/hostname' } }, /attachments: \{ allowFilePaths: true \}/));
  it('a URL while allowUrls is off, naming the option', () => refused({ icalEvent: { path: 'http://127.0.0.1:9/invite.ics' } }, /attachments: \{ allowUrls: true \}/));
  it("nodemailer's href, which has no meaning here", () => refused({ icalEvent: { href: 'https://x.example/a.ics' } as never }, /unknown option "href" \(give a URL as path\)/));
});

describe('calendar invites over provider APIs', () => {
  it('SendGrid: a text/calendar content with the method, and the file attached', async () => {
    const fake = await new SendGridFake().start();
    onCleanup(() => fake.stop());
    const t = new SendGridTransport({ apiKey: SENDGRID_KEY, baseUrl: fake.url });
    await t.send(await compose({ icalEvent: { method: 'REQUEST', content: invite() } }));
    const body = fake.last().json as { content: Array<{ type: string; value: string }>; attachments: Array<Record<string, string>> };
    expect(body.content.map((c) => c.type)).toEqual(['text/plain', 'text/html', 'text/calendar; method=REQUEST']);
    expect(body.content[2]!.value).toBe(invite());
    expect(body.attachments).toEqual([{ content: Buffer.from(invite()).toString('base64'), filename: 'invite.ics', type: 'application/ics', disposition: 'attachment' }]);
  });

  it('Postmark: an attachment of type text/calendar with the method', async () => {
    const fake = await new PostmarkFake().start();
    onCleanup(() => fake.stop());
    const t = new PostmarkTransport({ serverToken: POSTMARK_TOKEN, baseUrl: fake.url });
    await t.send(await compose({ icalEvent: { method: 'cancel', content: invite('CANCEL'), filename: 'cancel.ics' } }));
    const body = fake.last().json as { Attachments: Array<Record<string, string>> };
    expect(body.Attachments).toEqual([{ Name: 'cancel.ics', Content: Buffer.from(invite('CANCEL')).toString('base64'), ContentType: 'text/calendar; charset=utf-8; method=CANCEL' }]);
  });

  it('Resend: an attachment whose content_type carries the method; the mail leaves the batch endpoint', async () => {
    const fake = await new ResendFake().start();
    onCleanup(() => fake.stop());
    const t = new ResendTransport({ apiKey: RESEND_KEY, baseUrl: fake.url });
    const outcomes = await t.sendBatch([await compose({}), await compose({ icalEvent: { method: 'REPLY', content: invite('REPLY') } }), await compose({})]);
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(fake.requests.map((r) => r.path).sort()).toEqual(['/emails', '/emails/batch']);
    const single = fake.requests.find((r) => r.path === '/emails')!;
    const body = single.json as { attachments: Array<Record<string, string>> };
    expect(body.attachments).toEqual([{ content: Buffer.from(invite('REPLY')).toString('base64'), filename: 'invite.ics', content_type: 'text/calendar; charset=utf-8; method=REPLY' }]);
  });

  it('Mailgun refuses the invite before any request, saying why', async () => {
    const fake = await new MailgunFake().start();
    onCleanup(() => fake.stop());
    const t = new MailgunTransport({ apiKey: MAILGUN_KEY, domain: MAILGUN_DOMAIN, baseUrl: fake.url });
    const error = await t.send(await compose({ icalEvent: { content: invite() } })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsupportedFeatureError);
    expect((error as Error).message).toMatch(/calendar invite .*method parameter.*SMTP relay/);
    expect(fake.requests).toHaveLength(0);
  });
});

describe('calendar invites over SES raw', () => {
  let fake: SesFake;
  let ses: SesTransport;
  beforeAll(async () => {
    fake = await new SesFake().start();
    ses = new SesTransport({ region: SES_REGION, accessKeyId: SES_ACCESS_KEY_ID, secretAccessKey: SES_SECRET_ACCESS_KEY, baseUrl: fake.url });
  });
  beforeEach(() => {
    fake.received.length = 0;
  });
  afterAll(async () => {
    await ses.close();
    await fake.stop();
  });

  it('the raw message carries the text/calendar alternative and the file, as nodemailer builds it', async () => {
    await ses.send(await compose({ icalEvent: { method: 'REQUEST', content: invite() } }));
    const parsed = await simpleParser(fake.received[0]!.raw);
    const { alternative, file } = calendarParts(parsed);
    expect(params(alternative)).toMatchObject({ method: 'REQUEST' });
    expect(alternative!.content.toString('utf8')).toBe(invite());
    expect(file!.filename).toBe('invite.ics');
  });
});
