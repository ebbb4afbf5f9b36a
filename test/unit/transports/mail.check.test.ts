import { describe, expect, it } from 'vitest';
import type { Mail, OutgoingMail } from '../../../lib/core/mail.types.js';
import { InvalidMailError } from '../../../lib/errors/mailer.error.js';
import { composeMail } from '../../../lib/transports/mail.compose.js';
import { assertSafeMail } from '../../../lib/transports/mail.check.js';

const INVITE = 'BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:1@shop.example\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n';
const base: Mail = { from: 'Shop <shop@example.com>', to: 'ada@example.org', subject: 'Hi', text: 'x' };

async function refusal(mail: Mail): Promise<InvalidMailError> {
  const error = await composeMail({ ...base, ...mail }, {}, {}, {}).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(InvalidMailError);
  return error as InvalidMailError;
}

function afterListener(change: (mail: OutgoingMail) => void): Promise<InvalidMailError> {
  return composeMail({ ...base, attachments: [{ filename: 'a.txt', content: 'a' }], icalEvent: { content: INVITE } }, {}, {}, {}).then((mail) => {
    change(mail);
    try {
      assertSafeMail(mail);
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidMailError);
      return error as InvalidMailError;
    }
    throw new Error('the changed mail was not refused');
  });
}

const CRLF = '\r\nBcc: victim@example.net';

/** Each field that reaches a header, with a value that carries an injection, and the field the error names. */
const injected: Array<[string, Partial<Mail>, string]> = [
  ['subject', { subject: `Hi${CRLF}` }, 'subject'],
  ['from (string)', { from: `shop@example.com${CRLF}` }, 'from'],
  ['from name', { from: { name: `Shop${CRLF}`, address: 'shop@example.com' } }, 'from name'],
  ['to (string)', { to: `ada@example.org${CRLF}` }, 'to'],
  ['to address (object), behind a trailing line break', { to: { address: 'ada@example.org\r\n' } }, 'to'],
  ['cc name', { cc: { name: `Ada${CRLF}`, address: 'ada@example.org' } }, 'cc name'],
  ['bcc', { bcc: `b@example.org\nX-Evil: 1` }, 'bcc'],
  ['replyTo', { replyTo: `r@example.org\r` }, 'replyTo'],
  ['a custom header value', { headers: { 'X-Ref': `a${CRLF}` } }, 'headers.X-Ref'],
  ['a custom header name', { headers: { [`X-Ref${CRLF}`]: 'a' } }, 'headers'],
  ['attachments[].filename', { attachments: [{ filename: `a.txt${CRLF}`, content: 'x' }] }, 'attachments[0].filename'],
  ['attachments[].contentType', { attachments: [{ contentType: `text/plain${CRLF}`, content: 'x' }] }, 'attachments[0].contentType'],
  ['attachments[].cid', { attachments: [{ cid: `logo${CRLF}`, content: 'x' }] }, 'attachments[0].cid'],
  ['attachments[].contentDisposition', { attachments: [{ contentDisposition: `attachment${CRLF}` as 'attachment', content: 'x' }] }, 'attachments[0].contentDisposition'],
  ['attachments[].headers value', { attachments: [{ content: 'x', headers: { 'X-Part': `a${CRLF}` } }] }, 'attachments[0].headers.X-Part'],
  ['attachments[].headers name', { attachments: [{ content: 'x', headers: { 'X Part': 'a' } }] }, 'attachments[0].headers'],
  ['listUnsubscribe (string)', { listUnsubscribe: `https://shop.example/u${CRLF}` }, 'listUnsubscribe.url'],
  ['listUnsubscribe.mailto', { listUnsubscribe: { mailto: `u@shop.example${CRLF}` } }, 'listUnsubscribe.mailto'],
  ['messageId', { messageId: `<a@shop.example>${CRLF}` }, 'messageId'],
  ['tags', { tags: [`welcome${CRLF}`] }, 'tags'],
  ['metadata value', { metadata: { order: `1${CRLF}` } }, 'metadata.order'],
  ['metadata key', { metadata: { 'order id': '1' } }, 'metadata'],
  ['priority', { priority: `high${CRLF}` as 'high' }, 'priority'],
  ['envelope.from', { envelope: { from: `bounces@shop.example${CRLF}` } }, 'envelope.from'],
  ['envelope.to', { envelope: { to: [`ada@example.org${CRLF}`] } }, 'envelope.to'],
  ['icalEvent.method', { icalEvent: { method: `REQUEST${CRLF}` as 'REQUEST', content: INVITE } }, 'icalEvent'],
  ['icalEvent.filename', { icalEvent: { filename: `invite.ics${CRLF}`, content: INVITE } }, 'icalEvent.filename'],
];

describe('one check for every field that reaches a header', () => {
  it.each(injected)('refuses a line break in %s while composing', async (_what, patch, field) => {
    const error = await refusal(patch);
    expect(error.field).toBe(field);
  });

  it.each([
    ['NUL', '\u0000'], ['ESC', '\u001b'], ['DEL', '\u007f'], ['NEL', '\u0085'], ['LINE SEPARATOR', '\u2028'], ['a lone CR', '\r'],
  ])('refuses %s in a header value, naming the character', async (_name, c) => {
    const error = await refusal({ headers: { 'X-Ref': `a${c}b` } });
    expect(error.message).toContain(`U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`);
  });

  it('keeps a tab, which is folding white space, and Unicode text', async () => {
    const out = await composeMail({ ...base, subject: 'Grüße\tund 🎉', headers: { 'X-Ref': 'a\tb' } }, {}, {}, {});
    expect(() => assertSafeMail(out)).not.toThrow();
  });

  it('contentDisposition is attachment or inline, nothing else', async () => {
    for (const disposition of ['form-data', 'attachment; filename="x.exe"', 'INLINE', '']) {
      const error = await refusal({ attachments: [{ content: 'x', contentDisposition: disposition as 'inline' }] });
      expect(error.field).toBe('attachments[0].contentDisposition');
      expect(error.message).toContain('"attachment" or "inline"');
    }
    const out = await composeMail({ ...base, attachments: [{ content: 'x', contentDisposition: 'inline', cid: 'logo@shop' }, { content: 'y', contentDisposition: 'attachment' }] }, {}, {}, {});
    expect(out.attachments.map((a) => a.contentDisposition)).toEqual(['inline', 'attachment']);
  });

  it('a content type is type/subtype, a Content-ID has no white space or angle brackets', async () => {
    expect((await refusal({ attachments: [{ content: 'x', contentType: 'pdf' }] })).field).toBe('attachments[0].contentType');
    expect((await refusal({ attachments: [{ content: 'x', cid: 'my logo' }] })).message).toMatch(/white space/);
    expect((await refusal({ attachments: [{ content: 'x', cid: '<logo@shop>' }] })).message).toMatch(/angle brackets/);
    const out = await composeMail({ ...base, attachments: [{ content: 'x', contentType: 'text/plain; charset=utf-8', cid: 'logo@shop' }] }, {}, {}, {});
    expect(out.attachments[0]).toMatchObject({ contentType: 'text/plain; charset=utf-8', cid: 'logo@shop' });
  });

  it('a subject rendered from a template is checked like one given', async () => {
    const error = await composeMail({ from: 'shop@example.com', to: 'ada@example.org', text: 'x' }, { subject: `Order 1${CRLF}` }, {}, {}).catch((e: unknown) => e);
    expect(error).toMatchObject({ field: 'subject' });
  });

  it('refuses before reading an attachment: a bad header field costs no fetch', async () => {
    let read = false;
    const error = await composeMail({
      ...base,
      subject: `Hi${CRLF}`,
      attachments: [{ filename: 'a.txt', get content() { read = true; return 'x'; } }],
    }, {}, {}, {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidMailError);
    expect(read).toBe(false);
  });

  it('refuses values of the wrong shape instead of spreading them', async () => {
    expect((await refusal({ tags: 'welcome' as unknown as string[] })).field).toBe('tags');
    expect((await refusal({ headers: 'X-Ref: 1' as unknown as Record<string, string> })).field).toBe('headers');
    expect((await refusal({ metadata: ['a'] as unknown as Record<string, string> })).field).toBe('metadata');
    expect((await refusal({ attachments: { content: 'x' } as never })).field).toBe('attachments');
  });
});

describe('the same check after interceptors and mail.sending listeners', () => {
  it.each<[string, (mail: OutgoingMail) => void, string]>([
    ['subject', (m) => { m.subject = `x${CRLF}`; }, 'subject'],
    ['a name', (m) => { m.to.push({ name: `A${CRLF}`, address: 'a@example.org' }); }, 'to name'],
    ['an address', (m) => { m.cc.push({ address: `a@example.org${CRLF}` }); }, 'cc'],
    ['an address over the limits', (m) => { m.bcc.push({ address: `${'a'.repeat(65)}@example.org` }); }, 'bcc'],
    ['a header', (m) => { m.headers['X-Audit'] = `1${CRLF}`; }, 'headers.X-Audit'],
    ['the Message-ID', (m) => { m.messageId = `<a@b>${CRLF}`; }, 'messageId'],
    ['a tag', (m) => { m.tags.push(`t${CRLF}`); }, 'tags'],
    ['metadata', (m) => { m.metadata.k = `v${CRLF}`; }, 'metadata.k'],
    ['the envelope', (m) => { m.envelope.to.push(`x@example.org${CRLF}`); }, 'envelope.to'],
    ['listUnsubscribe', (m) => { m.listUnsubscribe = { url: `https://u.example${CRLF}` }; }, 'listUnsubscribe.url'],
    ['an attachment filename', (m) => { m.attachments[0]!.filename = `a${CRLF}`; }, 'attachments[0].filename'],
    ['an attachment disposition', (m) => { m.attachments[0]!.contentDisposition = `inline${CRLF}` as 'inline'; }, 'attachments[0].contentDisposition'],
    ['an attachment content type', (m) => { m.attachments[0]!.contentType = `text/html${CRLF}`; }, 'attachments[0].contentType'],
    ['an attachment cid', (m) => { m.attachments[0]!.cid = `c${CRLF}`; }, 'attachments[0].cid'],
    ['an attachment header', (m) => { m.attachments[0]!.headers = { 'X-Part': `p${CRLF}` }; }, 'attachments[0].headers.X-Part'],
    ['the invite filename', (m) => { m.icalEvent!.filename = `i.ics${CRLF}`; }, 'icalEvent.filename'],
    ['the priority', (m) => { m.priority = 'urgent' as 'high'; }, 'priority'],
    ['a long Message-ID', (m) => { m.messageId = `<${'m'.repeat(2000)}@shop.example>`; }, 'messageId'],
  ])('%s', async (_what, change, field) => {
    expect((await afterListener(change)).field).toBe(field);
  });
});

describe('header lines stay within 998 octets (RFC 5322 §2.1.1)', () => {
  const words = Array.from({ length: 1500 }, (_, i) => `w${i}`).join(' ');

  it('accepts long values that can be folded at white space, and long Unicode text', async () => {
    const out = await composeMail({
      ...base,
      subject: words,
      headers: { 'X-Long': words, 'X-Unicode': 'ä'.repeat(5000) },
      to: { name: `Ada ${'L'.repeat(900)} Lovelace ${'K'.repeat(900)}`, address: 'ada@example.org' },
    }, {}, {}, {});
    expect(() => assertSafeMail(out)).not.toThrow();
  });

  it.each<[string, Partial<Mail>, string, RegExp]>([
    ['a custom header of one 10,000-character token', { headers: { 'X-Token': 'a'.repeat(10_000) } }, 'headers.X-Token', /10001 octets without white space.*998/],
    ['a subject of one long word', { subject: 'b'.repeat(1000) }, 'subject', /without white space.*998/],
    ['an ASCII display name without spaces', { to: { name: 'N'.repeat(1000), address: 'ada@example.org' } }, 'to name', /998/],
    ['an ASCII file name without spaces', { attachments: [{ filename: `${'f'.repeat(1000)}.pdf`, content: 'x' }] }, 'attachments[0].filename', /998/],
    ['a 10,000-character Message-ID', { messageId: `<${'m'.repeat(10_000)}@shop.example>` }, 'messageId', /Message-ID header cannot be folded.*998/],
    ['a Content-ID that fills a line', { attachments: [{ content: 'x', cid: 'c'.repeat(990) }] }, 'attachments[0].cid', /Content-ID header cannot be folded/],
    ['a List-Unsubscribe URL with no fold point', { listUnsubscribe: `https://shop.example/u/${'u'.repeat(2000)}` }, 'listUnsubscribe.url', /List-Unsubscribe header cannot be folded/],
    ['a tag list that cannot fold', { tags: ['t'.repeat(1000)] }, 'tags', /998/],
    ['a metadata value that cannot fold', { metadata: { order: '1'.repeat(1000) } }, 'metadata.order', /998/],
  ])('refuses %s, naming the field and the limit', async (_what, patch, field, limit) => {
    const error = await refusal(patch);
    expect(error.field).toBe(field);
    expect(error.message).toMatch(limit);
  });

  it('takes the exact limit: a Message-ID whose line is 998 octets goes, 999 does not', async () => {
    const id = (n: number) => `<${'m'.repeat(n - 'Message-ID: <@x>'.length)}@x>`;
    await expect(composeMail({ ...base, messageId: id(998) }, {}, {}, {})).resolves.toBeDefined();
    expect((await refusal({ messageId: id(999) })).message).toContain('(999 here)');
  });
});
