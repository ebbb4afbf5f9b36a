import { describe, expect, it } from 'vitest';
import { MailerConfigurationError } from '../../../lib/errors/mailer.error.js';
import { checkOptions, nearestKey, type OptionShape } from '../../../lib/errors/option.checker.js';

interface Sample {
  host?: string;
  requireTLS?: boolean;
  maxConnections?: number;
  auth?: object;
  onError?: () => void;
}

const SHAPE: OptionShape<Sample> = {
  host: 'string',
  requireTLS: 'boolean',
  maxConnections: 'number',
  auth: 'object',
  onError: 'function',
};

function refusal(value: unknown, hints?: Record<string, string>): string {
  try {
    checkOptions(value, SHAPE, 'transport "default" (smtp)', hints);
  } catch (error) {
    expect(error).toBeInstanceOf(MailerConfigurationError);
    return (error as Error).message;
  }
  throw new Error('expected a MailerConfigurationError');
}

describe('nearestKey', () => {
  it.each([
    ['requiretls', 'requireTLS'],
    ['require_tls', 'requireTLS'],
    ['REQUIRE-TLS', 'requireTLS'],
    ['maxConnection', 'maxConnections'],
    ['hots', 'host'],
  ])('%s → %s', (typed, meant) => {
    expect(nearestKey(typed, Object.keys(SHAPE))).toBe(meant);
  });

  it('suggests nothing when no known key is close', () => {
    expect(nearestKey('colour', Object.keys(SHAPE))).toBeUndefined();
    expect(nearestKey('x', Object.keys(SHAPE))).toBeUndefined();
  });
});

describe('checkOptions', () => {
  it('accepts known keys with values of the declared types, and undefined for any of them', () => {
    expect(() => checkOptions({ host: 'h', requireTLS: true, maxConnections: 3, auth: {}, onError: () => {}, }, SHAPE, 'x')).not.toThrow();
    expect(() => checkOptions({ host: undefined }, SHAPE, 'x')).not.toThrow();
  });

  it('names an unknown key, the nearest known one and the known ones', () => {
    const message = refusal({ host: 'h', requiretls: true });
    expect(message).toBe('transport "default" (smtp): unknown option "requiretls". Did you mean "requireTLS"? Known: host, requireTLS, maxConnections, auth, onError.');
  });

  it('gives the hint written for a key that belongs elsewhere', () => {
    expect(refusal({ password: 'x' }, { password: 'goes inside auth: { user, pass }.' }))
      .toBe('transport "default" (smtp): "password" goes inside auth: { user, pass }.');
  });

  it('refuses a value of the wrong type by its type, never by its value', () => {
    const message = refusal({ host: 'h', requireTLS: 'false' });
    expect(message).toBe('transport "default" (smtp): requireTLS must be true or false, got a string.');
    expect(refusal({ auth: 'S3cretPassw0rd' })).not.toContain('S3cretPassw0rd');
    expect(refusal({ auth: null })).toMatch(/auth must be an object, got null/);
    expect(refusal({ maxConnections: [1] })).toMatch(/got an array/);
  });

  it('never shows the value under an unknown key', () => {
    expect(refusal({ apikey: 'SG.S3cretKeyValue' })).not.toContain('S3cretKeyValue');
  });

  it('refuses what is not an options object', () => {
    expect(refusal('smtp://x')).toMatch(/expected an options object, got a string/);
    expect(refusal([])).toMatch(/expected an options object, got an array/);
  });
});
