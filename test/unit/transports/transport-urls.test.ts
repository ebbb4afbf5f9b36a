import { describe, expect, it } from 'vitest';
import type { Transport } from '../../../lib/core/transport.types.js';
import { MailerConfigurationError } from '../../../lib/errors/mailer.error.js';
import { FailoverTransport } from '../../../lib/transports/failover.transport.js';
import { MemoryTransport } from '../../../lib/transports/memory.transport.js';
import {
  MailgunTransport, PostmarkTransport, ResendTransport, SendGridTransport, SesTransport,
} from '../../../lib/transports/providers/index.js';
import { RoundRobinTransport } from '../../../lib/transports/roundrobin.transport.js';
import { SmtpTransport } from '../../../lib/transports/smtp/smtp.transport.js';
import { createTransport, type TransportConfig } from '../../../lib/transports/transport.config.js';

/** Reads a private field of a transport; the tests check what the URL turned into. */
function field<T = string>(transport: Transport, name: string): T {
  return (transport as unknown as Record<string, T>)[name] as T;
}

function make<T extends Transport>(config: TransportConfig, type: abstract new (...args: never[]) => T, name = 'default'): T {
  const transport = createTransport(name, config);
  expect(transport).toBeInstanceOf(type);
  void transport.close();
  return transport as T;
}

function configError(config: TransportConfig, name = 'default'): MailerConfigurationError {
  try {
    const made = createTransport(name, config);
    void made.close();
  } catch (error) {
    expect(error).toBeInstanceOf(MailerConfigurationError);
    return error as MailerConfigurationError;
  }
  throw new Error('expected a MailerConfigurationError');
}

const SECRET = 'S3cr3tKeyValue';

describe('provider URLs', () => {
  it('sendgrid+api://KEY@default: the real endpoint, EU region, timeout', () => {
    const t = make(`sendgrid+api://SG.${SECRET}.x@default`, SendGridTransport);
    expect(t.name).toBe('default');
    expect(field(t, 'baseUrl')).toBe('https://api.sendgrid.com');
    expect(field(t, 'apiKey')).toBe(`SG.${SECRET}.x`);
    const eu = make(`sendgrid+api://SG.key@default?region=eu&timeout=5000&batchConcurrency=3`, SendGridTransport);
    expect(field(eu, 'baseUrl')).toBe('https://api.eu.sendgrid.com');
    expect(field<number>(eu, 'timeout')).toBe(5000);
    expect(field<number>(eu, 'batchConcurrency')).toBe(3);
  });

  it('postmark+api://TOKEN@default with a message stream', () => {
    const t = make('postmark+api://pm-token@default?messageStream=broadcast', PostmarkTransport);
    expect(field(t, 'baseUrl')).toBe('https://api.postmarkapp.com');
    expect(field(t, 'serverToken')).toBe('pm-token');
    expect(field(t, 'messageStream')).toBe('broadcast');
  });

  it('another host is a base URL: http on loopback, https elsewhere, tls= overrides, the path is a prefix', () => {
    expect(field(make('postmark+api://T@127.0.0.1:8080', PostmarkTransport), 'baseUrl')).toBe('http://127.0.0.1:8080');
    expect(field(make('postmark+api://T@localhost:8080', PostmarkTransport), 'baseUrl')).toBe('http://localhost:8080');
    expect(field(make('postmark+api://T@[::1]:8080', PostmarkTransport), 'baseUrl')).toBe('http://[::1]:8080');
    expect(field(make('postmark+api://T@localhost:8443?tls=true', PostmarkTransport), 'baseUrl')).toBe('https://localhost:8443');
    expect(field(make('postmark+api://T@mail-proxy.internal/postmark/', PostmarkTransport), 'baseUrl')).toBe('https://mail-proxy.internal/postmark');
    expect(field(make('sendgrid+api://K@fake-sendgrid:3000?tls=false', SendGridTransport), 'baseUrl')).toBe('http://fake-sendgrid:3000');
  });

  it('ses+api://default?region=… uses the default credential chain; KEY:SECRET are URL-decoded', () => {
    const chain = make('ses+api://default?region=eu-west-1', SesTransport);
    expect(field<Record<string, unknown>>(chain, 'options')).toMatchObject({ region: 'eu-west-1' });
    expect(field<Record<string, unknown>>(chain, 'options').accessKeyId).toBeUndefined();
    const keyed = make('ses+api://AKIAEXAMPLE:ab%2Fcd%2Bef%3Agh@default?region=us-gov-west-1&configurationSetName=transactional&sessionToken=tok%2F1', SesTransport);
    expect(field<Record<string, unknown>>(keyed, 'options')).toMatchObject({
      region: 'us-gov-west-1',
      accessKeyId: 'AKIAEXAMPLE',
      secretAccessKey: 'ab/cd+ef:gh',
      sessionToken: 'tok/1',
      configurationSetName: 'transactional',
    });
    expect(field(make('ses+api://K:S@127.0.0.1:4566?region=eu-west-1', SesTransport), 'baseUrl')).toBe('http://127.0.0.1:4566');
  });

  it('mailgun+api://KEY:DOMAIN@default?region=eu', () => {
    const t = make('mailgun+api://key-abc%40def:mg.example.com@default?region=eu', MailgunTransport);
    expect(field(t, 'baseUrl')).toBe('https://api.eu.mailgun.net');
    expect(field(t, 'apiKey')).toBe('key-abc@def');
    expect(field(t, 'domain')).toBe('mg.example.com');
    expect(field(make('mailgun+api://k:mg.example.com@default', MailgunTransport), 'baseUrl')).toBe('https://api.mailgun.net');
  });

  it('resend+api://KEY@default and memory://', () => {
    const t = make('resend+api://re_123@default', ResendTransport);
    expect(field(t, 'baseUrl')).toBe('https://api.resend.com');
    expect(field(t, 'apiKey')).toBe('re_123');
    make('memory://', MemoryTransport);
  });
});

describe('failover(…) and roundrobin(…)', () => {
  it('builds children named <name>[i], in order', () => {
    const t = make('failover(smtp://127.0.0.1:2525?tlsMode=none postmark+api://T@127.0.0.1:8080)', FailoverTransport);
    expect(t.kind).toBe('failover');
    expect(t.name).toBe('default');
    expect(t.transports.map((c) => [c.name, c.kind])).toEqual([['default[0]', 'smtp'], ['default[1]', 'postmark']]);
    expect(t.transports[0]).toBeInstanceOf(SmtpTransport);
    expect(t.retryPeriod).toBe(60_000);
  });

  it('nests, takes any spacing, and reads ?retryPeriod= after the parenthesis', () => {
    const t = make('  roundrobin (\n  failover( memory://  resend+api://re_1@default )\tsendgrid+api://SG.k@default )?retryPeriod=5000 ', RoundRobinTransport, 'bulk');
    expect(t.kind).toBe('roundrobin');
    expect(t.retryPeriod).toBe(5000);
    const inner = t.transports[0] as FailoverTransport;
    expect(inner).toBeInstanceOf(FailoverTransport);
    expect(inner.name).toBe('bulk[0]');
    expect(inner.transports.map((c) => c.name)).toEqual(['bulk[0][0]', 'bulk[0][1]']);
    expect(t.transports[1]!.name).toBe('bulk[1]');
  });

  it('object forms, with instances kept as they are', () => {
    const own = new MemoryTransport('mine');
    const t = make({
      type: 'failover',
      retryPeriod: 1000,
      transports: [
        { type: 'postmark', serverToken: 'T', baseUrl: 'http://127.0.0.1:1' },
        { type: 'roundrobin', transports: ['memory://', { type: 'memory' }] },
        own,
      ],
    }, FailoverTransport);
    expect(t.transports.map((c) => c.name)).toEqual(['default[0]', 'default[1]', 'mine']);
    expect(t.transports[2]).toBe(own);
    expect((t.transports[1] as RoundRobinTransport).transports.map((c) => c.name)).toEqual(['default[1][0]', 'default[1][1]']);
  });
});

describe('provider objects', () => {
  it.each([
    [{ type: 'sendgrid', apiKey: 'SG.k', region: 'eu' }, SendGridTransport],
    [{ type: 'postmark', serverToken: 'T', messageStream: 'outbound' }, PostmarkTransport],
    [{ type: 'ses', region: 'eu-west-1' }, SesTransport],
    [{ type: 'mailgun', apiKey: 'k', domain: 'mg.example.com', region: 'eu' }, MailgunTransport],
    [{ type: 'resend', apiKey: 're_1' }, ResendTransport],
  ] as const)('%o', (config, type) => {
    const t = make(config as TransportConfig, type as abstract new (...args: never[]) => Transport, 'api');
    expect(t.name).toBe('api');
  });
});

describe('configuration errors name the transport and never show a key', () => {
  it.each([
    ['a wrong scheme', `sendgrid://SG.${SECRET}@default`, /unknown scheme "sendgrid".*sendgrid\+api:\/\//],
    ['a wrong scheme (smtp relay form)', `postmark+smtp://${SECRET}@default`, /unknown scheme "postmark\+smtp"/],
    ['an unknown scheme', `pigeon+api://${SECRET}@default`, /unknown scheme "pigeon\+api"/],
    ['a missing SendGrid key', 'sendgrid+api://default', /SendGrid API key is missing/],
    ['a missing Postmark token', 'postmark+api://@default', /Postmark server token is missing/],
    ['a missing Resend key', 'resend+api://default', /Resend API key is missing/],
    ['a missing Mailgun domain', `mailgun+api://${SECRET}@default`, /Mailgun sending domain is missing/],
    ['a SendGrid key with a secret part', `sendgrid+api://apikey:${SECRET}@default`, /takes the SendGrid API key alone/],
    ['an SES key without secret', `ses+api://${SECRET}@default?region=eu-west-1`, /both the access key id and the secret/],
    ['a bad AWS region', `ses+api://AKIA:${SECRET}@default?region=europe`, /"europe" is not an AWS region/],
    ['a bad Mailgun region', `mailgun+api://${SECRET}:mg.example.com@default?region=asia`, /unknown Mailgun region "asia"/],
    ['a bad SendGrid region', `sendgrid+api://${SECRET}@default?region=us`, /unknown SendGrid region "us"/],
    ['an unknown option', `postmark+api://${SECRET}@default?stream=x`, /unknown postmark\+api option "stream"/],
    ['a bad timeout', `resend+api://${SECRET}@default?timeout=soon`, /timeout must be a positive whole number/],
    ['a port on default', `resend+api://${SECRET}@default:8080`, /takes no port or path/],
    ['tls on default', `resend+api://${SECRET}@default?tls=false`, /tls applies to a custom host only/],
    ['a malformed escape', `resend+api://${SECRET}%zz@default`, /malformed percent-escape/],
    ['an unencoded slash in a secret', `ses+api://AKIA:${SECRET}/x@default?region=eu-west-1`, /not a transport URL|host is missing/],
  ])('%s', (_what, url, pattern) => {
    const error = configError(url);
    expect(error.message).toMatch(pattern);
    expect(error.message).toContain('transport "default"');
    expect(error.message).not.toContain(SECRET);
    expect(String(error.stack)).not.toContain(SECRET);
  });

  it.each([
    ['an unclosed parenthesis', `failover(smtp://u:${SECRET}@mail.example.com postmark+api://${SECRET}@default`, /unbalanced parentheses.*never closed/],
    ['an extra closing parenthesis', `failover(memory:// postmark+api://${SECRET}@default))`, /unbalanced parentheses.*closes nothing/],
    ['an unclosed nested group', `roundrobin(failover(memory:// resend+api://${SECRET}@default) memory://`, /never closed/],
    ['commas between transports', `failover(resend+api://${SECRET}@default, memory://)`, /spaces, not commas/],
    ['an unknown group', `fallback(memory:// resend+api://${SECRET}@default)`, /unknown scheme "fallback\(memory"|not a transport URL/],
    ['an unknown group inside', `failover(first(memory://) resend+api://${SECRET}@default)`, /unexpected "first\("/],
    ['an empty group', 'roundrobin()', /needs at least one transport/],
    ['text after the group', `failover(memory://) resend+api://${SECRET}@default`, /unexpected text at character/],
    ['a bad group option', `failover(memory:// resend+api://${SECRET}@default)?retryPeriod=soon`, /retryPeriod must be a whole number/],
    ['an unknown group option', 'failover(memory://)?period=5', /unknown failover\(…\) option "period"/],
    ['no parentheses', 'failover memory:// memory://', /write failover\(URL URL …\)/],
  ])('%s', (_what, url, pattern) => {
    const error = configError(url);
    expect(error.message).toMatch(pattern);
    expect(error.message).not.toContain(SECRET);
  });

  it('a mistake inside a group names the nested transport', () => {
    const error = configError(`failover(memory:// postmark+api://${SECRET}@default?region=eu)`);
    expect(error.message).toMatch(/^transport "default\[1\]" \(postmark\+api:\/\/default\): unknown postmark\+api option "region"/);
    expect(error.message).not.toContain(SECRET);
    const nested = configError(`roundrobin(memory:// failover(memory:// ses+api://default?region=mars))`);
    expect(nested.message).toContain('transport "default[1][1]"');
  });

  it.each([
    ['a missing apiKey', { type: 'sendgrid' }, /apiKey is missing/],
    ['a missing serverToken', { type: 'postmark', serverToken: '' }, /serverToken is missing/],
    ['a missing domain', { type: 'mailgun', apiKey: SECRET }, /domain is missing/],
    ['a bad region', { type: 'ses', region: 'Moon' }, /"Moon" is not an AWS region/],
    ['half the SES credentials', { type: 'ses', accessKeyId: 'AKIA', region: 'eu-west-1' }, /accessKeyId and secretAccessKey/],
    ['a bad baseUrl', { type: 'resend', apiKey: SECRET, baseUrl: 'not a url' }, /baseUrl/],
    ['no transports', { type: 'failover', transports: [] }, /non-empty array/],
    ['a bad child', { type: 'roundrobin', transports: ['memory://', { type: 'pigeon' }] }, /transport "default\[1\]": unknown transport type "pigeon"/],
    ['a negative retryPeriod', { type: 'failover', transports: ['memory://'], retryPeriod: -1 }, /retryPeriod/],
  ])('object with %s', (_what, config, pattern) => {
    const error = configError(config as TransportConfig);
    expect(error.message).toMatch(pattern);
    expect(error.message).toContain('transport "default');
    expect(error.message).not.toContain(SECRET);
  });
});
