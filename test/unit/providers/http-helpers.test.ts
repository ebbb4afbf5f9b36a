import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  attachmentBytes,
  chunk,
  derivedHeaders,
  formatAddress,
  hasCustomEnvelope,
  mapWithConcurrency,
  outgoingHeaders,
  parseDeltaSecondsReset,
  parseEpochSecondsReset,
  parseRetryAfter,
  stripAngleBrackets,
} from '../../../lib/transports/http/index.js';
import { outgoingMail } from '../../support/provider-fakes/mail.fixture.js';

describe('Retry-After and reset headers', () => {
  const now = Date.UTC(2026, 10, 29, 12, 0, 0);
  it('reads delta seconds, fractional seconds and HTTP dates', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('1.5', now)).toBe(1500);
    expect(parseRetryAfter('Sun, 29 Nov 2026 12:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Sun, 29 Nov 2026 11:00:00 GMT', now)).toBe(0);
  });
  it('ignores what is not a Retry-After value', () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('', now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });
  it('reads epoch-second and delta-second resets', () => {
    expect(parseEpochSecondsReset(String(now / 1000 + 45), now)).toBe(45_000);
    expect(parseEpochSecondsReset(String(now / 1000 - 45), now)).toBe(0);
    expect(parseDeltaSecondsReset('3')).toBe(3000);
    expect(parseDeltaSecondsReset('x')).toBeUndefined();
  });
});

describe('mapWithConcurrency', () => {
  it('keeps input order and never exceeds the limit', async () => {
    let inFlight = 0;
    let peak = 0;
    const out = await mapWithConcurrency([50, 10, 30, 20, 5, 40], 2, async (ms, i) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, ms));
      inFlight--;
      return i;
    });
    expect(out).toEqual([0, 1, 2, 3, 4, 5]);
    expect(peak).toBe(2);
  });
  it('handles an empty list', async () => {
    expect(await mapWithConcurrency([], 8, async () => 1)).toEqual([]);
  });
});

describe('chunk', () => {
  it('splits by count and by size budget', () => {
    expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunk([4, 4, 4, 9, 1], 10, (n) => n, 10)).toEqual([[4, 4], [4], [9, 1]]);
  });
});

describe('mail parts', () => {
  it('quotes display names only when RFC 5322 requires it', () => {
    expect(formatAddress({ address: 'a@x.test' })).toBe('a@x.test');
    expect(formatAddress({ name: 'Ada Lovelace', address: 'a@x.test' })).toBe('Ada Lovelace <a@x.test>');
    expect(formatAddress({ name: 'Lovelace, Ada', address: 'a@x.test' })).toBe('"Lovelace, Ada" <a@x.test>');
    expect(formatAddress({ name: 'Dr. "Ada"', address: 'a@x.test' })).toBe('"Dr. \\"Ada\\"" <a@x.test>');
    expect(formatAddress({ name: 'Zoë Åström', address: 'z@x.test' })).toBe('Zoë Åström <z@x.test>');
  });

  it('strips angle brackets of ids', () => {
    expect(stripAngleBrackets('<abc@x.test>')).toBe('abc@x.test');
    expect(stripAngleBrackets('abc')).toBe('abc');
  });

  it('detects an envelope that differs from the headers', () => {
    expect(hasCustomEnvelope(outgoingMail())).toBe(false);
    expect(hasCustomEnvelope(outgoingMail({ envelope: { from: 'NOREPLY@acme.test', to: ['BOB@example.com', 'alice@example.com'] } }))).toBe(false);
    expect(hasCustomEnvelope(outgoingMail({ envelope: { from: 'bounce@acme.test', to: ['alice@example.com', 'bob@example.com'] } }))).toBe(true);
    expect(hasCustomEnvelope(outgoingMail({ envelope: { from: 'noreply@acme.test', to: ['alice@example.com'] } }))).toBe(true);
  });

  it('derives priority and List-Unsubscribe headers; the mail\'s own headers win', () => {
    const mail = outgoingMail({ priority: 'low', listUnsubscribe: { mailto: 'u@acme.test' }, headers: { importance: 'normal' } });
    expect(derivedHeaders(mail)).toMatchObject({ 'X-Priority': '5 (Lowest)', 'List-Unsubscribe': '<mailto:u@acme.test>' });
    const headers = outgoingHeaders(mail);
    expect(headers.importance).toBe('normal');
    expect(headers.Importance).toBeUndefined();
    expect(headers['Message-ID']).toBe(mail.messageId);
    expect(outgoingHeaders(mail, { messageId: false })['Message-ID']).toBeUndefined();
  });

  it('reads Buffer, encoded string and stream content; a stream twice gives the same bytes', async () => {
    const stream = Readable.from([Buffer.from('ab'), Buffer.from('cd')]);
    const attachment = { content: stream, contentDisposition: 'attachment' as const };
    expect((await attachmentBytes(attachment)).toString()).toBe('abcd');
    expect((await attachmentBytes(attachment)).toString()).toBe('abcd');
    expect((await attachmentBytes({ content: 'aGk=', encoding: 'base64', contentDisposition: 'attachment' })).toString()).toBe('hi');
    expect((await attachmentBytes({ content: 'héllo', contentDisposition: 'attachment' })).toString()).toBe('héllo');
  });
});

describe('unreadable attachments', () => {
  it('a stream that fails is an InvalidMailError naming the attachment', async () => {
    const { InvalidMailError } = await import('../../../lib/errors/mailer.error.js');
    const broken = new Readable({ read() { this.destroy(new Error('disk gone')); } });
    const error = await attachmentBytes({ filename: 'report.csv', content: broken, contentDisposition: 'attachment' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidMailError);
    expect(String(error)).toContain('report.csv');
    expect(String(error)).toContain('disk gone');
  });
});
