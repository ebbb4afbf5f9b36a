import { describe, expect, it } from 'vitest';
import { decodeHeaderValue } from '../../../lib/testing/header.decoder.js';

describe('decodeHeaderValue', () => {
  it('leaves plain text as it is', () => {
    expect(decodeHeaderValue('Your receipt for order #1001')).toBe('Your receipt for order #1001');
  });

  it('decodes Q and B words and drops the space between adjacent words', () => {
    expect(decodeHeaderValue('=?UTF-8?Q?Sch=C3=B6n_verpackt?=')).toBe('Schön verpackt');
    expect(decodeHeaderValue('=?utf-8?B?U2Now7Zu?= =?utf-8?B?IHZlcnBhY2t0?=')).toBe('Schön verpackt');
    expect(decodeHeaderValue('=?UTF-8?Q?Lumen_&_C=C3=B6?= <shop@example.com>')).toBe('Lumen & Cö <shop@example.com>');
  });

  it('unfolds lines and joins a character an encoder split between two words', () => {
    // "ö" is C3 B6: the first word ends with C3, the next starts with B6.
    expect(decodeHeaderValue('=?UTF-8?Q?sch=C3?=\r\n =?UTF-8?Q?=B6n?=')).toBe('schön');
    expect(decodeHeaderValue('first part\r\n second part')).toBe('first part second part');
  });

  it('decodes other charsets, and keeps a word in an unknown one', () => {
    expect(decodeHeaderValue('=?ISO-8859-1?Q?caf=E9?=')).toBe('café');
    expect(decodeHeaderValue('=?x-unknown?Q?abc?=')).toBe('=?x-unknown?Q?abc?=');
  });
});
