import { describe, expect, it } from 'vitest';
import { InvalidMailError } from '../../../lib/errors/mailer.error.js';
import { assertSafeMail, composeMail } from '../../../lib/transports/mail.compose.js';
import type { Mail } from '../../../lib/core/mail.types.js';

async function compose(mail: Mail, defaults = {}) {
  const out = await composeMail({ text: 'x', ...mail }, {}, defaults, {});
  assertSafeMail(out);
  return out;
}

describe('composeMail', () => {
  it.each([
    ['ada@example.org', [{ address: 'ada@example.org' }]],
    ['  Ada Lovelace <ada@example.org> ', [{ name: 'Ada Lovelace', address: 'ada@example.org' }]],
    ['"Lovelace, Ada" <ada@example.org>, bob@example.org', [{ name: 'Lovelace, Ada', address: 'ada@example.org' }, { address: 'bob@example.org' }]],
    ['Jürgen <jürgen@bücher.example>', [{ name: 'Jürgen', address: 'jürgen@bücher.example' }]],
    [{ name: 'Ада', address: 'ada@пример.рф' }, [{ name: 'Ада', address: 'ada@пример.рф' }]],
    [['a@example.org', { address: 'b@example.org' }], [{ address: 'a@example.org' }, { address: 'b@example.org' }]],
  ])('parses %j', async (to, expected) => {
    const out = await compose({ from: 'shop@example.com', to: to as Mail['to'] });
    expect(out.to).toEqual(expected);
    expect(out.envelope.to).toEqual(expected.map((a) => a.address));
  });

  it.each([
    ['no at sign', 'ada.example.org'],
    ['two at signs', 'a@b@example.org'],
    ['a space', 'ada lovelace@example.org'],
    ['an empty domain', 'ada@'],
    ['a dotted-out domain', 'ada@example..org'],
    ['a display name only', 'Ada Lovelace'],
  ])('refuses an address with %s', async (_what, to) => {
    await expect(compose({ from: 'shop@example.com', to })).rejects.toBeInstanceOf(InvalidMailError);
  });

  it('applies defaults and lets the mail override them', async () => {
    const defaults = { from: 'Shop <shop@example.com>', replyTo: 'help@example.com', headers: { 'X-App': 'shop', 'X-Env': 'prod' } };
    const a = await compose({ to: 'a@example.org' }, defaults);
    expect(a.from).toEqual({ name: 'Shop', address: 'shop@example.com' });
    expect(a.replyTo).toEqual([{ address: 'help@example.com' }]);
    expect(a.headers).toEqual({ 'X-App': 'shop', 'X-Env': 'prod' });
    const b = await compose({ to: 'a@example.org', from: 'other@example.com', headers: { 'X-Env': 'test' } }, defaults);
    expect(b.from.address).toBe('other@example.com');
    expect(b.headers).toEqual({ 'X-App': 'shop', 'X-Env': 'test' });
  });

  it('fixes one Message-ID on the sender domain, or keeps the one given', async () => {
    const a = await compose({ from: 'shop@example.com', to: 'a@example.org' });
    expect(a.messageId).toMatch(/^<[0-9a-f-]{36}@example\.com>$/);
    const b = await compose({ from: 'shop@example.com', to: 'a@example.org', messageId: '<fixed@example.com>' });
    expect(b.messageId).toBe('<fixed@example.com>');
    await expect(compose({ from: 'shop@example.com', to: 'a@example.org', messageId: 'no-brackets' })).rejects.toThrow(/messageId/);
  });

  it('puts bcc on the envelope only, and honours an explicit envelope', async () => {
    const a = await compose({ from: 'shop@example.com', to: 'a@example.org', cc: 'c@example.org', bcc: 'b@example.org' });
    expect(a.envelope).toEqual({ from: 'shop@example.com', to: ['a@example.org', 'c@example.org', 'b@example.org'] });
    const b = await compose({ from: 'shop@example.com', to: 'a@example.org', envelope: { from: 'bounces@example.com' } });
    expect(b.envelope.from).toBe('bounces@example.com');
  });

  it('refuses a mail without sender, recipients or content', async () => {
    await expect(compose({ to: 'a@example.org' })).rejects.toThrow(/from is missing/);
    await expect(compose({ from: 'shop@example.com' })).rejects.toThrow(/no recipients/);
    await expect(composeMail({ from: 'shop@example.com', to: 'a@example.org' }, {}, {}, {}).then(assertSafeMail)).rejects.toThrow(/no content/);
  });

  it('builds List-Unsubscribe and refuses one-click without https', async () => {
    const a = await compose({ from: 'shop@example.com', to: 'a@example.org', listUnsubscribe: { mailto: 'u@example.com', url: 'https://example.com/u', oneClick: true } });
    expect(a.headers['List-Unsubscribe']).toBe('<mailto:u@example.com>, <https://example.com/u>');
    expect(a.headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
    await expect(compose({ from: 'shop@example.com', to: 'a@example.org', listUnsubscribe: { mailto: 'u@example.com', oneClick: true } })).rejects.toThrow(/https/);
  });

  it('refuses header names that are not header names', async () => {
    await expect(compose({ from: 'shop@example.com', to: 'a@example.org', headers: { 'X Bad': 'v' } })).rejects.toThrow(/not a valid header name/);
    await expect(compose({ from: 'shop@example.com', to: 'a@example.org', headers: { 'X:Bad': 'v' } })).rejects.toThrow(/not a valid header name/);
  });

  it('counts a calendar invite as content', async () => {
    const out = await composeMail({ from: 'shop@example.com', to: 'a@example.org', icalEvent: { content: 'BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n' } }, {}, {}, {});
    expect(() => assertSafeMail(out)).not.toThrow();
    expect(out.icalEvent).toEqual({ method: 'PUBLISH', filename: 'invite.ics', content: 'BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n' });
  });

  it('checks again the invite and the signatures a listener may have replaced', async () => {
    const out = await compose({ from: 'shop@example.com', to: 'a@example.org', icalEvent: { content: 'BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n' } });
    expect(() => assertSafeMail({ ...out, icalEvent: { ...out.icalEvent!, filename: 'x.ics\r\nBcc: evil@example.net' } })).toThrow(InvalidMailError);
    expect(() => assertSafeMail({ ...out, icalEvent: { ...out.icalEvent!, method: 'SPAM' as 'PUBLISH' } })).toThrow(/SPAM/);
    const unresolved = [{ domainName: 'shop.example', keySelector: 's1', privateKey: '-----BEGIN PRIVATE KEY-----' }];
    expect(() => assertSafeMail({ ...out, dkim: unresolved as never })).toThrow(/resolved signatures/);
  });
});
