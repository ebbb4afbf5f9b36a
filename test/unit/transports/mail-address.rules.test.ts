import { describe, expect, it } from 'vitest';
import { InvalidMailError } from '../../../lib/errors/mailer.error.js';
import type { Mail } from '../../../lib/core/mail.types.js';
import { addressProblem, checkAddress } from '../../../lib/transports/mail-address.rules.js';
import { composeMail } from '../../../lib/transports/mail.compose.js';

/** A domain of exactly `octets` octets, in labels of at most 63. */
function domainOf(octets: number): string {
  const labels: string[] = [];
  let left = octets;
  while (left > 0) {
    let size = Math.min(63, left);
    if (left - size - 1 === 0) size -= 1;
    labels.push('d'.repeat(size));
    left -= size + 1;
  }
  const domain = labels.join('.');
  expect(domain.length).toBe(octets);
  return domain;
}

describe('RFC 5321 address rules', () => {
  it.each([
    ['a plain address', 'ada@example.org'],
    ['a plus tag', 'ada+newsletter@example.org'],
    ['atext specials', "o'hara!#$%&*=?^_`{|}~-@example.org"],
    ['a dotted local part', 'ada.king.lovelace@example.org'],
    ['a quoted local part with a space', '"ada lovelace"@example.org'],
    ['a quoted local part with two dots', '"ada..lovelace"@example.org'],
    ['a quoted local part with an @', '"ada@home"@example.org'],
    ['a quoted local part with a quoted pair', '"ada\\"l"@example.org'],
    ['an IDN domain', 'ada@пример.рф'],
    ['a UTF-8 local part and IDN domain', 'jürgen@bücher.example'],
    ['a UTF-8 local part (SMTPUTF8)', 'ユーザー@example.jp'],
    ['a local part of exactly 64 octets', `${'a'.repeat(64)}@example.org`],
    ['a UTF-8 local part of exactly 64 octets', `${'ü'.repeat(32)}@example.org`],
    ['a label of exactly 63 octets', `ada@${'l'.repeat(63)}.example`],
    ['a single label of exactly 63 octets', `ada@${'l'.repeat(63)}`],
    ['an IDN label of exactly 63 octets in punycode', `ada@bücher${'a'.repeat(50)}.example`],
    ['a path of exactly 256 octets', `${'a'.repeat(64)}@${domainOf(189)}`],
    ['a domain with hyphens and digits', 'ada@mail-1.example-2.org'],
  ])('accepts %s', (_what, address) => {
    expect(addressProblem(address)).toBeUndefined();
  });

  it.each([
    ['a 65-octet local part', `${'a'.repeat(65)}@example.org`, /local part of 65 octets; RFC 5321 §4\.5\.3\.1\.1 allows at most 64/],
    ['a UTF-8 local part of 66 octets (33 characters)', `${'ü'.repeat(33)}@example.org`, /local part of 66 octets/],
    ['a 300-character address', `${'a'.repeat(64)}@${domainOf(235)}`, /SMTP path of 302 octets; RFC 5321 §4\.5\.3\.1\.3 allows at most 256/],
    ['a path of 257 octets', `${'a'.repeat(64)}@${domainOf(190)}`, /SMTP path of 257 octets/],
    ['a domain of 256 octets', `a@${domainOf(256)}`, /domain of 256 octets; RFC 5321 §4\.5\.3\.1\.2 allows at most 255/],
    ['a 64-octet domain label', `ada@${'l'.repeat(64)}.example`, /domain label of 64 octets; RFC 1035 allows at most 63/],
    ['an IDN label of 64 octets in punycode', `ada@bücher${'a'.repeat(51)}.example`, /domain label of 64 octets \(in punycode\)/],
    ['two dots in a row', 'a..b@example.org', /two dots in a row/],
    ['a leading dot', '.a@example.org', /starts with a dot/],
    ['a trailing dot', 'a.@example.org', /ends with a dot/],
    ['an empty domain label', 'ada@example..org', /empty label/],
    ['a trailing dot in the domain', 'ada@example.org.', /empty label/],
    ['a label that starts with a hyphen', 'ada@-example.org', /malformed domain label/],
    ['a space', 'ada lovelace@example.org', /the character U\+0020 in its local part/],
    ['a second @', 'a@b@example.org', /"@" in its local part/],
    ['an address literal', 'ada@[192.0.2.1]', /address literal/],
    ['no local part', '@example.org', /not local-part@domain/],
    ['no domain', 'ada@', /not local-part@domain/],
    ['an unterminated quoted local part', '"ada@example.org', /"\\"" in its local part|quoted local part/],
    ['an invalid IDN', 'ada@xn--zz.example', /not a valid internationalized domain name/],
  ])('refuses %s, naming the rule', (_what, address, rule) => {
    const problem = addressProblem(address);
    expect(problem).toMatch(rule);
    const error = (() => {
      try {
        checkAddress(address, 'to');
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(InvalidMailError);
    expect(error).toMatchObject({ field: 'to' });
    expect((error as Error).message).toMatch(/^to: "/);
  });

  it('never throws anything but InvalidMailError, whatever it is given', () => {
    for (const odd of ['', '@', '@@', '"', '""@a', 'a@.', '.@.', 'a@-', '\u0000@a.b', 'a@\u0000', '"\u0000"@a.b', `${'@'.repeat(500)}`]) {
      expect(() => checkAddress(odd, 'to')).toThrow(InvalidMailError);
    }
    expect(() => checkAddress(42 as unknown as string, 'to')).toThrow(InvalidMailError);
  });
});

describe('every address field of a mail follows the rules', () => {
  const long = `${'a'.repeat(65)}@example.org`;
  const base: Mail = { from: 'shop@example.com', to: 'ada@example.org', subject: 'Hi', text: 'x' };

  it.each([
    ['from', { from: long }],
    ['from', { from: `Shop <${long}>` }],
    ['to', { to: ['ok@example.org', long] }],
    ['to', { to: { name: 'Ada', address: long } }],
    ['cc', { cc: long }],
    ['bcc', { bcc: `Hidden <${long}>, ok@example.org` }],
    ['replyTo', { replyTo: long }],
    ['envelope.from', { envelope: { from: long } }],
    ['envelope.to', { envelope: { to: [long] } }],
  ] as Array<[string, Partial<Mail>]>)('%s', async (field, patch) => {
    const error = await composeMail({ ...base, ...patch }, {}, {}, {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidMailError);
    expect(error).toMatchObject({ field });
    expect((error as Error).message).toContain('allows at most 64');
  });

  it('keeps quoted local parts, UTF-8 local parts and IDN domains as given', async () => {
    const out = await composeMail({
      ...base,
      to: ['"ada..lovelace"@example.org', 'Ada <"ada lovelace"@example.org>', 'jürgen@bücher.example', 'ada+tag@пример.рф'],
    }, {}, {}, {});
    expect(out.to.map((a) => a.address)).toEqual(['"ada..lovelace"@example.org', '"ada lovelace"@example.org', 'jürgen@bücher.example', 'ada+tag@пример.рф']);
  });
});
