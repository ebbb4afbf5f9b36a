import { createTransport as createNodemailerTransport } from 'nodemailer';
import { describe, expect, it } from 'vitest';
import { MailerConfigurationError } from '../../../lib/errors/mailer.error.js';
import { SmtpTransport } from '../../../lib/transports/smtp/smtp.transport.js';
import { createTransport, type TransportConfig } from '../../../lib/transports/transport.config.js';

const SECRET = 'S3cr3tPassw0rd';

function smtp(config: TransportConfig): SmtpTransport {
  const t = createTransport('default', config);
  expect(t).toBeInstanceOf(SmtpTransport);
  void t.close();
  return t as SmtpTransport;
}

function refusal(config: unknown): string {
  try {
    const t = createTransport('default', config as TransportConfig);
    void t.close();
  } catch (error) {
    expect(error).toBeInstanceOf(MailerConfigurationError);
    const message = (error as Error).message;
    expect(message).toContain('transport "default"');
    expect(message).not.toContain(SECRET);
    return message;
  }
  throw new Error('expected a MailerConfigurationError');
}

const auth = { user: 'app@example.com', pass: SECRET };

describe("nodemailer's TLS names", () => {
  it.each([
    [{ host: 'smtp.example.com', secure: true }, 465, 'implicit'],
    [{ host: 'smtp.example.com', port: 465, secure: true }, 465, 'implicit'],
    [{ host: 'smtp.example.com', port: 2465, secure: true }, 2465, 'implicit'],
    [{ host: 'smtp.example.com', port: 587, secure: false }, 587, 'starttls'],
    [{ host: 'smtp.example.com', port: 25, requireTLS: true }, 25, 'starttls'],
    [{ host: 'smtp.example.com', port: 465, secure: true, requireTLS: true }, 465, 'implicit'],
    [{ host: 'localhost', port: 1025, ignoreTLS: true }, 1025, 'none'],
    [{ host: 'smtp.example.com', port: 2525, opportunisticTLS: true }, 2525, 'opportunistic'],
    [{ host: 'smtp.example.com', port: 2525, requireTLS: false }, 2525, 'opportunistic'],
    [{ host: 'smtp.example.com', port: '587' }, 587, 'starttls'],
  ])('%o → port %i, %s', (config, port, mode) => {
    const t = smtp(config as TransportConfig);
    expect(t.options.port).toBe(port);
    expect(t.options.tlsMode).toBe(mode);
  });

  it.each([
    ['secure: true on 587', { host: 'smtp.example.com', port: 587, secure: true, auth }, /secure: true means TLS from the first byte, but port 587 speaks STARTTLS: use port 465, or drop secure/],
    ['secure: false on 465', { host: 'smtp.example.com', port: 465, secure: false, auth }, /port 465 speaks TLS from the first byte.*Drop secure: false/],
    ['ignoreTLS with requireTLS', { host: 'smtp.example.com', port: 25, ignoreTLS: true, requireTLS: true }, /requireTLS: true and ignoreTLS: true contradict each other: one demands STARTTLS, the other forbids it/],
    ['secure with ignoreTLS', { host: 'smtp.example.com', secure: true, ignoreTLS: true }, /secure: true and ignoreTLS: true contradict each other.*Drop ignoreTLS: true/],
    ['requireTLS with opportunisticTLS', { host: 'smtp.example.com', port: 25, requireTLS: true, opportunisticTLS: true }, /contradict each other: one requires STARTTLS, the other goes on without it/],
    ['tlsMode against secure', { host: 'smtp.example.com', port: 2525, tlsMode: 'starttls', secure: true }, /tlsMode: 'starttls' and secure: true contradict/],
    ['secure: false with tlsMode implicit', { host: 'smtp.example.com', secure: false, tlsMode: 'implicit' }, /secure: false and tlsMode: 'implicit' contradict/],
    ['requireTLS: false on 587', { host: 'smtp.example.com', port: 587, requireTLS: false }, /port 587 requires STARTTLS.*Remove requireTLS: false/],
    ['ignoreTLS on 587', { host: 'smtp.example.com', port: 587, ignoreTLS: true }, /port 587 requires STARTTLS.*Remove ignoreTLS: true/],
    ['a string for a boolean', { host: 'smtp.example.com', secure: 'true' }, /secure must be true or false, got a string/],
  ])('refuses %s with the fix', (_what, config, pattern) => {
    expect(refusal(config)).toMatch(pattern);
  });
});

describe("nodemailer's other names", () => {
  it('service: host, port and TLS come from nodemailer\'s well-known list', () => {
    const gmail = smtp({ service: 'gmail', auth });
    expect([gmail.options.host, gmail.options.port, gmail.options.tlsMode]).toEqual(['smtp.gmail.com', 465, 'implicit']);
    expect(smtp({ service: 'Google Mail', auth }).options.host).toBe('smtp.gmail.com');
    const postmark = smtp({ service: 'Postmark', auth });
    expect([postmark.options.host, postmark.options.port, postmark.options.tlsMode]).toEqual(['smtp.postmarkapp.com', 2525, 'starttls']);
    expect(smtp({ service: 'Zoho', auth }).options.auth?.method).toBe('LOGIN');
    expect(smtp({ service: 'gmail', host: 'smtp.gmail.com', port: 465, secure: true, auth }).options.port).toBe(465);
  });

  it.each([
    ['an unknown service', { service: 'pigeon-post', auth }, /service "pigeon-post" is not in nodemailer's list of well-known services; give host and port/],
    ['service with another host', { service: 'gmail', host: 'smtp.example.com', auth }, /service "gmail" means host smtp.gmail.com, which contradicts host/],
    ['service with another port', { service: 'gmail', port: 587, auth }, /service "gmail" means port 465, which contradicts port 587/],
    ['service with tlsMode', { service: 'gmail', tlsMode: 'starttls', auth }, /sets the TLS mode itself; remove tlsMode/],
  ])('refuses %s', (_what, config, pattern) => {
    expect(refusal(config)).toMatch(pattern);
  });

  it('pool: true with maxConnections and maxMessages at the top, as nodemailer writes them', () => {
    expect(smtp({ host: 'smtp.example.com', pool: true, maxConnections: 2, maxMessages: 50 }).options.pool).toEqual({ maxConnections: 2, maxMessages: 50 });
    expect(smtp({ host: 'smtp.example.com', maxConnections: 3 }).options.pool).toEqual({ maxConnections: 3, maxMessages: 100 });
    expect(refusal({ host: 'smtp.example.com', pool: false, maxConnections: 3 })).toMatch(/maxConnections bounds the connection pool, and pool is false/);
    expect(refusal({ host: 'smtp.example.com', pool: { maxConnections: 2 }, maxConnections: 3 })).toMatch(/maxConnections is given twice/);
    expect(refusal({ host: 'smtp.example.com', pool: { maxconnections: 2 } })).toMatch(/pool: unknown option "maxconnections". Did you mean "maxConnections"/);
    expect(refusal('smtp://mail.example.com?pool=false&maxConnections=3')).toMatch(/maxConnections bounds the connection pool, and pool is false/);
  });

  it('auth: OAuth2 as nodemailer writes it, authMethod, and what is refused', () => {
    const oauth = smtp({ host: 'smtp.gmail.com', secure: true, auth: { type: 'OAuth2', user: 'me@gmail.com', clientId: 'id', clientSecret: SECRET, refreshToken: 'r' } });
    expect(oauth.options.auth).toEqual({ user: 'me@gmail.com', method: 'XOAUTH2', oauth2: { clientId: 'id', clientSecret: SECRET, refreshToken: 'r' } });
    expect(smtp({ host: 'smtp.example.com', authMethod: 'login', auth }).options.auth?.method).toBe('LOGIN');
    expect(smtp({ host: 'smtp.example.com', auth: { ...auth, type: 'login' } }).options.auth).toEqual(auth);
    expect(refusal({ host: 'smtp.example.com', auth: { user: 'me', clientId: 'id', clientSecret: SECRET } })).toMatch(/auth.clientId is an OAuth2 setting; add type: 'OAuth2'/);
    expect(refusal({ host: 'smtp.example.com', auth: { ...auth, type: 'custom' } })).toMatch(/auth.type "custom" is not supported/);
    expect(refusal({ host: 'smtp.example.com', authMethod: 'CRAM-MD5', auth })).toMatch(/PLAIN, LOGIN or XOAUTH2, got "CRAM-MD5"/);
    expect(refusal({ host: 'smtp.example.com', authMethod: 'PLAIN', auth: { ...auth, method: 'LOGIN' } })).toMatch(/authMethod PLAIN and auth.method LOGIN contradict/);
    expect(refusal({ host: 'smtp.example.com', authMethod: 'PLAIN' })).toMatch(/authMethod is set but auth is not/);
    expect(refusal({ host: 'smtp.example.com', auth: { user: 'me', password: SECRET } })).toMatch(/"password" is written pass here/);
  });

  it('logger, debug, proxy, localAddress, servername and dnsTimeout are kept', () => {
    const t = smtp({
      host: 'smtp.example.com', logger: true, debug: true, proxy: 'http://proxy.internal:3128', localAddress: '127.0.0.1',
      servername: 'mx.example.com', dnsTimeout: 5000,
    });
    expect(t.options).toMatchObject({
      logger: true, debug: true, proxy: 'http://proxy.internal:3128', localAddress: '127.0.0.1', dnsTimeout: 5000,
      tls: { servername: 'mx.example.com' },
    });
    expect(refusal({ host: 'smtp.example.com', proxy: `socks5://u:${SECRET}@proxy.internal:1080` })).toMatch(/SOCKS proxies are not supported/);
    expect(refusal({ host: 'smtp.example.com', logger: {} })).toMatch(/logger must be true, false or a bunyan-compatible logger/);
    expect(refusal({ host: 'smtp.example.com', localAddress: 'eth0' })).toMatch(/localAddress must be an IP address/);
    expect(refusal({ host: 'smtp.example.com', servername: 'a', tls: { servername: 'b' } })).toMatch(/servername and tls.servername differ/);
  });

  it('disableFileAccess / disableUrlAccess: true is what happens anyway; false names the module option', () => {
    smtp({ host: 'smtp.example.com', disableFileAccess: true, disableUrlAccess: true });
    expect(refusal({ host: 'smtp.example.com', disableFileAccess: false })).toMatch(/attachments: \{ allowFilePaths: true \}/);
    expect(refusal({ host: 'smtp.example.com', disableUrlAccess: false })).toMatch(/attachments: \{ allowUrls: true \}/);
  });
});

describe('every other key is refused, never ignored', () => {
  it.each([
    ['a typo', { host: 'smtp.example.com', requiretls: true }, /unknown option "requiretls". Did you mean "requireTLS"\?/],
    ['a typo in case', { host: 'smtp.example.com', Secure: true }, /unknown option "Secure". Did you mean "secure"\?/],
    ['user at the top', { host: 'smtp.example.com', user: 'me', pass: SECRET }, /"user" goes inside auth: \{ user, pass \}/],
    ['rejectUnauthorized at the top', { host: 'smtp.example.com', rejectUnauthorized: false }, /goes inside tls: \{ rejectUnauthorized: false \}/],
    ['a message field', { host: 'smtp.example.com', from: 'a@example.com' }, /put it in the module's defaults/],
    ["nodemailer's pool rate limit", { host: 'smtp.example.com', pool: true, rateLimit: 5 }, /rateLimit: \{ perSecond \}/],
    ['LMTP', { host: 'smtp.example.com', lmtp: true }, /speaks SMTP only/],
    ['a handed-over socket', { host: 'smtp.example.com', connection: {} }, /handing a socket/],
    ['the old secureConnection', { host: 'smtp.example.com', secureConnection: true }, /write secure: true or tlsMode: 'implicit'/],
    ['sendmail', { sendmail: true, path: '/usr/sbin/sendmail' }, /sendmail binary is not used; send through the local MTA over SMTP/],
    ['streamTransport', { streamTransport: true, buffer: true }, /use memory:\/\//],
    ['jsonTransport', { jsonTransport: true }, /use memory:\/\//],
    ["nodemailer's SES transport", { SES: { sesClient: {} } }, /ses\+api:\/\/default\?region=/],
    ['an options url', { url: `smtp://u:${SECRET}@smtp.example.com` }, /give the URL itself as the transport/],
    ['no type and no host', { port: 587 }, /has no type/],
  ])('%s', (_what, config, pattern) => {
    expect(refusal(config)).toMatch(pattern);
  });

  it('a nodemailer transporter is refused with what to give instead', () => {
    const transporter = createNodemailerTransport({ jsonTransport: true });
    expect(refusal(transporter)).toMatch(/nodemailer transporter.*give the options it was created with, or a URL/);
    expect(refusal({ name: 'plugin', version: '1', send: () => undefined })).toMatch(/not a Transport/);
  });

  it('URL options: nodemailer names too, and the nearest known one for a typo', () => {
    expect(smtp('smtp://mail.example.com:2465?secure=true').options.tlsMode).toBe('implicit');
    expect(smtp('smtp://localhost:1025?ignoreTLS=true').options.tlsMode).toBe('none');
    expect(refusal('smtps://mail.example.com?secure=false')).toMatch(/secure=false contradicts it/);
    expect(refusal('smtp://mail.example.com?requiretls=true')).toMatch(/unknown SMTP URL option "requiretls". Did you mean "requireTLS"\?/);
  });
});

describe('provider and composite objects', () => {
  it.each([
    ['a typo in a provider key', { type: 'sendgrid', apikey: SECRET }, /\(sendgrid\): unknown option "apikey". Did you mean "apiKey"\?/],
    ["another provider's name for the key", { type: 'postmark', apiKey: SECRET }, /"apiKey" is not Postmark's name: the server API token is serverToken/],
    ['a typo in the type', { type: 'sendgird', apiKey: SECRET }, /unknown transport type "sendgird". Did you mean "sendgrid"\?/],
    ['a typo in a group', { type: 'failover', transports: ['memory://'], retryperiod: 5 }, /unknown option "retryperiod". Did you mean "retryPeriod"\?/],
    ['a key on memory', { type: 'memory', keep: 10 }, /\(memory\): unknown option "keep"/],
    ['a wrong type', { type: 'mailgun', apiKey: SECRET, domain: 'mg.example.com', timeout: '5s' }, /timeout must be a number, got a string/],
  ])('%s', (_what, config, pattern) => {
    expect(refusal(config)).toMatch(pattern);
  });

  it('knows dkim on SMTP and SES, and hands it to the DKIM checks', () => {
    for (const config of [{ host: 'smtp.example.com' }, { type: 'ses' as const, region: 'eu-west-1' }]) {
      const message = refusal({ ...config, dkim: { domainName: 'example.com' } });
      expect(message).not.toMatch(/unknown option/);
      expect(message).toMatch(/dkim/);
    }
  });
});

describe('credentials and clear text', () => {
  it.each([
    [{ host: 'smtp.example.com', port: 25, auth }, true],
    ['smtp://u:p@smtp.example.com:25', true],
    [{ host: 'smtp.example.com', port: 2525, requireTLS: false, auth }, true],
    [{ host: 'smtp.example.com', port: 25 }, false],
    [{ host: 'smtp.example.com', port: 587, auth }, false],
    [{ host: 'smtp.example.com', port: 25, tlsMode: 'none', auth }, false],
    [{ host: '127.0.0.1', port: 2500, auth }, false],
    [{ host: 'localhost', port: 2500, auth }, false],
    [{ host: '::1', port: 2500, auth }, false],
  ])('%o: STARTTLS required before AUTH → %s', (config, required) => {
    expect(smtp(config as TransportConfig).options.tlsRequiredForAuth).toBe(required);
  });
});
