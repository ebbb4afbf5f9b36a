import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Test } from '@nestjs/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Mail } from '../../lib/core/mail.types.js';
import type { DkimOptions } from '../../lib/core/dkim.types.js';
import { InvalidMailError, MailerConfigurationError, UnsupportedFeatureError } from '../../lib/errors/mailer.error.js';
import { MailerModule } from '../../lib/nest/mailer.module.js';
import { MailerService } from '../../lib/nest/mailer.service.js';
import { composeMail, assertSafeMail } from '../../lib/transports/mail.compose.js';
import type { SesTransport } from '../../lib/transports/providers/index.js';
import { SmtpTransport } from '../../lib/transports/smtp/smtp.transport.js';
import type { SmtpTransportOptions } from '../../lib/transports/smtp/smtp.options.js';
import { createTransport, type TransportConfig } from '../../lib/transports/transport.config.js';
import { onCleanup, smtpSink } from '../support/cleanup.js';
import { dkimKey, dkimOptions, verifyDkim } from '../support/dkim.js';
import {
  MAILGUN_DOMAIN, MAILGUN_KEY, MailgunFake, POSTMARK_TOKEN, PostmarkFake, RESEND_KEY, ResendFake, SENDGRID_KEY, SendGridFake,
  SES_ACCESS_KEY_ID, SES_REGION, SES_SECRET_ACCESS_KEY, SesFake, type FakeHttpServer,
} from '../support/provider-fakes/index.js';

const shop = dkimKey('shop.example', 'mail2026');

function smtp(port: number, extra: Partial<SmtpTransportOptions> = {}): SmtpTransport {
  const t = new SmtpTransport('signed', { host: '127.0.0.1', port, tlsMode: 'none', pool: false, ...extra });
  onCleanup(() => t.close());
  return t;
}

async function outgoing(mail: Partial<Mail> = {}) {
  const composed = await composeMail({
    from: 'Shop <orders@shop.example>',
    to: 'Ada <ada@example.org>',
    subject: 'Your order — Nº 42',
    text: 'Thank you for your order.\nIt ships tomorrow.',
    html: '<p>Thank you for your <b>order</b>.</p>',
    ...mail,
  }, {}, {}, {});
  assertSafeMail(composed);
  return composed;
}

describe('DKIM over SMTP, verified by mailauth', () => {
  it('signs every mail with the transport key; the received bytes verify', async () => {
    const sink = await smtpSink();
    const t = smtp(sink.port, { dkim: dkimOptions(shop) });
    await t.send(await outgoing({ attachments: [{ filename: 'invoice.pdf', content: Buffer.from('%PDF-1.4 test') }] }));
    const [received] = await sink.waitFor(1);
    const checks = await verifyDkim(received!.raw, [shop]);
    expect(checks).toEqual([expect.objectContaining({ domain: 'shop.example', selector: 'mail2026', result: 'pass' })]);
    expect(checks[0]!.signedHeaders).toEqual(expect.arrayContaining(['from', 'to', 'subject', 'date', 'message-id']));
  });

  it('a received mail whose body was changed after signing fails verification', async () => {
    const sink = await smtpSink();
    const t = smtp(sink.port, { dkim: dkimOptions(shop) });
    await t.send(await outgoing());
    const [received] = await sink.waitFor(1);
    const raw = received!.raw.toString('latin1');
    expect((await verifyDkim(raw, [shop]))[0]!.result).toBe('pass');
    const tampered = raw.replace('It ships tomorrow.', 'It ships next year.');
    expect(tampered).not.toBe(raw);
    const [check] = await verifyDkim(tampered, [shop]);
    expect(check!.result).not.toBe('pass');
    expect(check!.comment).toMatch(/body hash/);
  });

  it('a changed signed header fails verification too', async () => {
    const sink = await smtpSink();
    const t = smtp(sink.port, { dkim: dkimOptions(shop) });
    await t.send(await outgoing());
    const [received] = await sink.waitFor(1);
    const tampered = received!.raw.toString('latin1').replace(/^Subject: .*$/m, 'Subject: Urgent: reset your password');
    expect((await verifyDkim(tampered, [shop]))[0]!.result).toBe('fail');
  });

  it('puts two signatures with different header lists on one mail; each verifies', async () => {
    const platform = dkimKey('mailer.example', 'k1', { slot: 1 });
    const sink = await smtpSink();
    const t = smtp(sink.port, {
      dkim: [dkimOptions(shop), dkimOptions(platform, { headerFieldNames: 'From:To:Subject' })],
    });
    await t.send(await outgoing());
    const [received] = await sink.waitFor(1);
    const checks = await verifyDkim(received!.raw, [shop, platform]);
    expect(checks.map((c) => [c.domain, c.result]).sort()).toEqual([['mailer.example', 'pass'], ['shop.example', 'pass']]);
    expect(checks.find((c) => c.domain === 'mailer.example')!.signedHeaders).toEqual(['from', 'to', 'subject']);
  });

  it('reads the key from privateKeyPath once, at start-up', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mailroom-dkim-'));
    const path = join(dir, 'shop.pem');
    writeFileSync(path, shop.privateKey);
    const sink = await smtpSink();
    const t = smtp(sink.port, { dkim: { domainName: 'shop.example', keySelector: 'mail2026', privateKeyPath: path } });
    writeFileSync(path, 'replaced after start-up');
    await t.send(await outgoing());
    const [received] = await sink.waitFor(1);
    expect((await verifyDkim(received!.raw, [shop]))[0]!.result).toBe('pass');
  });

  it('adds a per-send signature to the transport one, and a per-send key for the same record replaces it', async () => {
    const tenant = dkimKey('tenant.example', 'sel', { slot: 1 });
    const rotated = dkimKey('shop.example', 'mail2026', { slot: 2 });
    const sink = await smtpSink();
    const t = smtp(sink.port, { dkim: dkimOptions(shop) });
    await t.send(await outgoing({ from: 'hello@tenant.example', dkim: dkimOptions(tenant) }));
    await t.send(await outgoing({ dkim: { ...dkimOptions(rotated), privateKey: createPrivateKey(rotated.privateKey) } }));
    const [first, second] = await sink.waitFor(2);
    const both = await verifyDkim(first!.raw, [shop, tenant]);
    expect(both.map((c) => `${c.domain}:${c.result}`).sort()).toEqual(['shop.example:pass', 'tenant.example:pass']);
    const replaced = await verifyDkim(second!.raw, [rotated]);
    expect(replaced).toEqual([expect.objectContaining({ domain: 'shop.example', result: 'pass' })]);
  });

  it("reads a mail's privateKeyPath when the mail is composed", async () => {
    const tenant = dkimKey('tenant.example', 'sel', { slot: 1 });
    const dir = mkdtempSync(join(tmpdir(), 'mailroom-dkim-tenant-'));
    writeFileSync(join(dir, 'tenant.pem'), tenant.privateKey);
    const sink = await smtpSink();
    const t = smtp(sink.port);
    await t.send(await outgoing({ dkim: { domainName: 'tenant.example', keySelector: 'sel', privateKeyPath: join(dir, 'tenant.pem') } }));
    const [received] = await sink.waitFor(1);
    expect(await verifyDkim(received!.raw, [tenant])).toEqual([expect.objectContaining({ domain: 'tenant.example', result: 'pass' })]);
    await expect(outgoing({ dkim: { domainName: 'tenant.example', keySelector: 'sel', privateKeyPath: join(dir, 'gone.pem') } }))
      .rejects.toThrow(/dkim \(sel\._domainkey\.tenant\.example\): the key file .*gone\.pem does not exist/);
  });

  it('signs each attempt again after a transient failure; the retry verifies with the same Message-ID', async () => {
    let attempts = 0;
    const sink = await smtpSink({ data: () => (++attempts === 1 ? { code: 451, message: '4.3.0 Try again later' } : undefined) });
    const t = smtp(sink.port, { dkim: dkimOptions(shop) });
    const mail = await outgoing();
    await expect(t.send(mail)).rejects.toMatchObject({ responseCode: 451 });
    const result = await t.send(mail);
    const [received] = await sink.waitFor(1);
    expect(attempts).toBe(2);
    expect(received!.parsed.messageId).toBe(result.messageId);
    expect(result.messageId).toBe(mail.messageId);
    expect((await verifyDkim(received!.raw, [shop]))[0]!.result).toBe('pass');
  });

  it('refuses a bad per-send key before anything is sent, without showing the key', async () => {
    const sink = await smtpSink();
    smtp(sink.port);
    const garbage = '-----BEGIN PRIVATE KEY-----\nTm90IGEga2V5IGF0IGFsbCwganVzdCB0ZXh0Lg==\n-----END PRIVATE KEY-----\n';
    const error = await outgoing({ dkim: { domainName: 'shop.example', keySelector: 's1', privateKey: garbage } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidMailError);
    expect((error as InvalidMailError).field).toBe('dkim');
    expect((error as Error).message).toMatch(/s1\._domainkey\.shop\.example/);
    expect((error as Error).message).not.toContain('Tm90IGEga2V5');
    expect(sink.received).toHaveLength(0);
  });
});

describe('DKIM configuration errors stop start-up', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mailroom-dkim-bad-'));
  const secretPem = shop.privateKey;
  const bodyOf = (pem: string) => pem.split('\n')[1]!;
  const build = (dkim: unknown) => () => createTransport('outbound', { host: '127.0.0.1', port: 2525, tlsMode: 'none', dkim } as SmtpTransportOptions);

  it.each<[string, () => DkimOptions, RegExp]>([
    ['a missing key file', () => ({ domainName: 'shop.example', keySelector: 's1', privateKeyPath: join(dir, 'nope.pem') }), /key file .*nope\.pem does not exist/],
    ['garbage', () => ({ domainName: 'shop.example', keySelector: 's1', privateKey: 'not a key' }), /is not a PEM private key/],
    ['a public key', () => ({ domainName: 'shop.example', keySelector: 's1', privateKey: shop.publicKey.export({ type: 'spki', format: 'pem' }) as string }), /public key/],
    ['an Ed25519 key', () => ({ domainName: 'shop.example', keySelector: 's1', privateKey: ed25519Pem() }), /Ed25519 .*not supported.*RSA/],
    ['a 512-bit RSA key', () => ({ domainName: 'shop.example', keySelector: 's1', privateKey: dkimKey('x', 'y', { bits: 512 }).privateKey }), /512 bits; RFC 8301 requires at least 1024/],
    ['an encrypted key without passphrase', () => ({ domainName: 'shop.example', keySelector: 's1', privateKey: encryptedPem() }), /encrypted key; give its passphrase/],
    ['a wrong passphrase', () => ({ domainName: 'shop.example', keySelector: 's1', privateKey: encryptedPem(), passphrase: 'wrong' }), /passphrase does not decrypt/],
    ['sha1', () => ({ ...dkimOptions(shop), hashAlgo: 'sha1' as 'sha256' }), /hashAlgo must be sha256/],
    ['From left unsigned', () => dkimOptions(shop, { skipFields: 'From:Date' }), /From field to be signed/],
    ['a header list without From', () => dkimOptions(shop, { headerFieldNames: 'To:Subject' }), /must include From/],
    ['a bad domain', () => ({ ...dkimOptions(shop), domainName: 'shop example' }), /domainName "shop example" is not a domain name/],
    ['both key and path', () => ({ ...dkimOptions(shop), privateKeyPath: '/etc/key.pem' }), /either privateKey or privateKeyPath, not both/],
    ['an unknown option', () => ({ ...dkimOptions(shop), selector: 'x' } as DkimOptions), /unknown option "selector"/],
  ])('%s', (_what, options, message) => {
    const given = options();
    let thrown: unknown;
    try {
      build(given)();
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ code: 'MAILER_CONFIGURATION' });
    const text = (thrown as Error).message;
    expect(text).toMatch(/^transport "outbound": dkim/);
    expect(text).toMatch(message);
    // No line of the key (nor the passphrase) in the message.
    const secrets = [bodyOf(secretPem), given.passphrase ?? 'right'];
    if (typeof given.privateKey === 'string') secrets.push(...given.privateKey.split('\n').filter((line) => line.length > 8 && !line.startsWith('-----')));
    for (const secret of secrets) expect(text).not.toContain(secret);
  });

  it('names the record of the failing signature among several', () => {
    expect(build([dkimOptions(shop), { domainName: 'other.example', keySelector: 'k2', privateKey: 'junk' }])).toThrow(/dkim\[1\] \(k2\._domainkey\.other\.example\)/);
  });

  it('refuses the same selector twice', () => {
    expect(build([dkimOptions(shop), dkimOptions(shop)])).toThrow(/two signatures use mail2026\._domainkey\.shop\.example/);
  });

  it("refuses a key field beside nodemailer's keys, which nodemailer would ignore", () => {
    expect(build({ keys: [dkimOptions(shop)], domainName: 'other.example' })).toThrow(/"domainName" goes inside each entry of keys/);
  });

  it("accepts nodemailer's { keys: [...] } form", () => {
    const t = build({ keys: [dkimOptions(shop)], skipFields: 'Message-ID' })();
    onCleanup(() => t.close());
    expect(t.kind).toBe('smtp');
  });
});

describe('DKIM through the mailer', () => {
  it('a bad key stops MailerModule.forRoot, naming the transport and the record, not the key', async () => {
    const error = await Test.createTestingModule({
      imports: [MailerModule.forRoot({
        transports: {
          default: 'memory://',
          signed: { host: '127.0.0.1', port: 2525, tlsMode: 'none', dkim: { domainName: 'shop.example', keySelector: 'mail2026', privateKey: shop.publicKey.export({ type: 'spki', format: 'pem' }) as string } },
        },
      })],
    }).compile().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MailerConfigurationError);
    expect((error as Error).message).toMatch(/^transport "signed": dkim \(mail2026\._domainkey\.shop\.example\): privateKey holds a public key/);
    expect((error as Error).message).not.toContain('BEGIN');
  });

  it('failover keeps the signature and the Message-ID: the transport that delivers signs what it sends', async () => {
    const down = await smtpSink({ connect: () => ({ code: 421, message: '4.3.2 Service not available' }) });
    const up = await smtpSink();
    const tenant = dkimKey('tenant.example', 'sel', { slot: 1 });
    const smtpTo = (port: number) => ({ host: '127.0.0.1', port, tlsMode: 'none' as const, pool: false, dkim: dkimOptions(shop) });
    const moduleRef = await Test.createTestingModule({
      imports: [MailerModule.forRoot({
        transport: { type: 'failover', transports: [smtpTo(down.port), smtpTo(up.port)] },
        defaults: { from: 'Shop <orders@shop.example>' },
        suppression: false,
        retry: false,
      })],
    }).compile();
    await moduleRef.init();
    onCleanup(() => moduleRef.close());
    const result = await moduleRef.get(MailerService).send({ to: 'ada@example.org', subject: 'Order', text: 'Shipped.', dkim: dkimOptions(tenant) });
    expect(result.attempts.map((a) => a.ok)).toEqual([false, true]);
    const [received] = await up.waitFor(1);
    expect(down.received).toHaveLength(0);
    expect(received!.parsed.messageId).toBe(result.messageId);
    const checks = await verifyDkim(received!.raw, [shop, tenant]);
    expect(checks.map((c) => `${c.domain}:${c.result}`).sort()).toEqual(['shop.example:pass', 'tenant.example:pass']);
  });
});

describe('DKIM over SES raw, verified by mailauth', () => {
  let fake: SesFake;
  const ses = (dkim?: unknown): SesTransport => {
    const t = createTransport('ses', { type: 'ses', region: SES_REGION, accessKeyId: SES_ACCESS_KEY_ID, secretAccessKey: SES_SECRET_ACCESS_KEY, baseUrl: fake.url, dkim } as TransportConfig) as SesTransport;
    onCleanup(() => t.close());
    return t;
  };
  beforeAll(async () => {
    fake = await new SesFake().start();
  });
  beforeEach(() => {
    fake.reset();
    fake.received.length = 0;
  });
  afterAll(() => fake.stop());

  it('signs the raw message; Message-ID and Date, which SES rewrites, are left out of the signature', async () => {
    const tenant = dkimKey('tenant.example', 'sel', { slot: 1 });
    await ses(dkimOptions(shop)).send(await outgoing({ dkim: dkimOptions(tenant), attachments: [{ filename: 'a.txt', content: 'attached' }] }));
    const checks = await verifyDkim(fake.received[0]!.raw, [shop, tenant]);
    expect(checks.map((c) => `${c.domain}:${c.result}`).sort()).toEqual(['shop.example:pass', 'tenant.example:pass']);
    for (const check of checks) {
      expect(check.signedHeaders).toContain('from');
      expect(check.signedHeaders).not.toContain('message-id');
      expect(check.signedHeaders).not.toContain('date');
    }
    const tampered = fake.received[0]!.raw.toString('latin1').replace('It ships tomorrow.', 'It ships never.');
    expect((await verifyDkim(tampered, [shop]))[0]!.result).not.toBe('pass');
  });

  it('refuses a configured header list with Message-ID at start-up', () => {
    expect(() => ses(dkimOptions(shop, { headerFieldNames: 'From:Subject:Message-ID' })))
      .toThrow(/^transport "ses" \(ses\): dkim \(mail2026\._domainkey\.shop\.example\): headerFieldNames lists Message-ID, which SES rewrites/);
  });

  it('refuses a per-send header list with Date before any request', async () => {
    const error = await ses().send(await outgoing({ dkim: dkimOptions(shop, { headerFieldNames: 'From:Date' }) })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsupportedFeatureError);
    expect((error as Error).message).toMatch(/over Date, which SES rewrites/);
    expect(fake.requests).toHaveLength(0);
  });
});

describe('providers that build the message themselves cannot sign with your key', () => {
  const providers: Array<[string, () => FakeHttpServer, (url: string) => TransportConfig, RegExp]> = [
    ['sendgrid', () => new SendGridFake(), (url) => ({ type: 'sendgrid', apiKey: SENDGRID_KEY, baseUrl: url }), /Sender Authentication/],
    ['postmark', () => new PostmarkFake(), (url) => ({ type: 'postmark', serverToken: POSTMARK_TOKEN, baseUrl: url }), /Sender Signatures/],
    ['mailgun', () => new MailgunFake(), (url) => ({ type: 'mailgun', apiKey: MAILGUN_KEY, domain: MAILGUN_DOMAIN, baseUrl: url }), /Sending → Domains/],
    ['resend', () => new ResendFake(), (url) => ({ type: 'resend', apiKey: RESEND_KEY, baseUrl: url }), /Resend \(Domains\)/],
  ];

  it.each(providers)('%s: a dkim option stops start-up and says where to set DKIM up', (kind, _fake, config, setup) => {
    let thrown: unknown;
    try {
      createTransport('api', { ...(config('http://127.0.0.1:9') as object), dkim: dkimOptions(shop) } as TransportConfig);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(MailerConfigurationError);
    expect((thrown as Error).message).toMatch(new RegExp(`^transport "api" \\(${kind}\\): "dkim" cannot be set on the ${kind} transport`));
    expect((thrown as Error).message).toMatch(setup);
  });

  it.each(providers)('%s: a mail with its own dkim is refused before any request', async (_kind, makeFake, config) => {
    const fake = await makeFake().start();
    onCleanup(() => fake.stop());
    const t = createTransport('api', config(fake.url));
    const error = await t.send(await outgoing({ dkim: dkimOptions(shop) })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsupportedFeatureError);
    expect((error as Error).message).toMatch(/per-send DKIM signature .*send signed mail through SMTP or SES/);
    expect(fake.requests).toHaveLength(0);
  });
});

function ed25519Pem(): string {
  return generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
}

function encryptedPem(): string {
  return createPrivateKey(shop.privateKey).export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'right' }) as string;
}
