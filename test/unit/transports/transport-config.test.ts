import { describe, expect, it } from 'vitest';
import { MailerConfigurationError } from '../../../lib/errors/mailer.error.js';
import { MemoryTransport } from '../../../lib/transports/memory.transport.js';
import { SmtpTransport } from '../../../lib/transports/smtp/smtp.transport.js';
import { createTransport } from '../../../lib/transports/transport.config.js';

function smtp(url: string): SmtpTransport {
  const t = createTransport('default', url);
  expect(t).toBeInstanceOf(SmtpTransport);
  void t.close();
  return t as SmtpTransport;
}

function configError(fn: () => unknown): MailerConfigurationError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(MailerConfigurationError);
    return error as MailerConfigurationError;
  }
  throw new Error('expected a MailerConfigurationError');
}

describe('SMTP port rules (RFC 8314, 6409, 5321)', () => {
  it.each([
    ['smtps://mail.example.com', 465, 'implicit'],
    ['smtp://mail.example.com:465', 465, 'implicit'],
    ['smtp://mail.example.com', 587, 'starttls'],
    ['smtp://mail.example.com:587', 587, 'starttls'],
    ['smtp://mail.example.com:25', 25, 'opportunistic'],
    ['smtp://mail.example.com:2525', 2525, 'starttls'],
    ['smtp://mail.example.com:2525?requireTLS=false', 2525, 'opportunistic'],
    ['smtp://localhost:1025?tlsMode=none', 1025, 'none'],
    ['smtps://mail.example.com:2465', 2465, 'implicit'],
  ])('%s → port %i, %s', (url, port, mode) => {
    const t = smtp(url);
    expect(t.options.port).toBe(port);
    expect(t.options.tlsMode).toBe(mode);
  });

  it('refuses smtps:// on port 587', () => {
    expect(configError(() => createTransport('default', 'smtps://u:p@mail.example.com:587')).message).toMatch(/587.*STARTTLS/);
  });

  it('refuses clear text on the submission port', () => {
    configError(() => createTransport('default', 'smtp://mail.example.com:587?requireTLS=false'));
    configError(() => createTransport('default', { host: 'mail.example.com', port: 587, tlsMode: 'none' }));
  });

  it('decodes credentials and options from the URL', () => {
    const t = smtp('smtp://user%40example.com:p%40ss%2Fw0rd@mail.example.com:587?pool=false&socketTimeout=5000&name=app.example.com&authMethod=login');
    expect(t.options.auth).toEqual({ user: 'user@example.com', pass: 'p@ss/w0rd', method: 'LOGIN' });
    expect(t.options.pool).toBe(false);
    expect(t.options.socketTimeout).toBe(5000);
    expect(t.options.name).toBe('app.example.com');
  });

  it('takes a text encoding and refuses one it does not know', () => {
    expect(smtp('smtp://mail.example.com?textEncoding=base64').options.textEncoding).toBe('base64');
    expect(smtp('smtp://mail.example.com').options.textEncoding).toBeUndefined();
    configError(() => createTransport('default', 'smtp://mail.example.com?textEncoding=uuencode'));
  });

  it('pools connections by default, bounded, with timeouts set', () => {
    const t = smtp('smtp://mail.example.com');
    expect(t.options.pool).toEqual({ maxConnections: 5, maxMessages: 100 });
    expect(t.options.connectionTimeout).toBeGreaterThan(0);
    expect(t.options.greetingTimeout).toBeGreaterThan(0);
    expect(t.options.socketTimeout).toBeGreaterThan(0);
  });
});

describe('transport configuration errors', () => {
  it.each([
    ['an unknown scheme', 'smtpx://user:Secr3tPass@mail.example.com', /unknown scheme "smtpx"/],
    ['a missing host', 'smtp://user:Secr3tPass@:587', /host is missing|not a transport URL/],
    ['an unknown option', 'smtp://user:Secr3tPass@mail.example.com?colour=blue', /unknown SMTP URL option "colour"/],
    ['a bad number', 'smtp://user:Secr3tPass@mail.example.com?maxConnections=lots', /maxConnections/],
    ['text that is no URL', 'user:Secr3tPass mail.example.com', /unknown scheme "user"/],
    ['text that cannot be parsed', 'Secr3tPass with spaces', /not a transport URL/],
  ])('names %s without showing the password', (_what, url, pattern) => {
    const error = configError(() => createTransport('default', url));
    expect(error.message).toMatch(pattern);
    expect(error.message).toContain('transport "default"');
    expect(error.message).not.toContain('Secr3tPass');
  });

  it('refuses an object without host and an unknown type', () => {
    expect(configError(() => createTransport('bulk', { host: '' })).message).toMatch(/host is missing/);
    expect(configError(() => createTransport('bulk', { type: 'pigeon' } as never)).message).toMatch(/unknown transport type "pigeon"/);
  });

  it('builds memory transports and accepts a ready Transport instance', () => {
    const memory = createTransport('test', 'memory://');
    expect(memory).toBeInstanceOf(MemoryTransport);
    expect(createTransport('x', memory)).toBe(memory);
    expect(createTransport('y', { type: 'memory' })).toBeInstanceOf(MemoryTransport);
  });
});
