import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { Mail } from '../../lib/core/mail.types.js';
import { TransportError } from '../../lib/errors/mailer.error.js';
import { composeMail } from '../../lib/transports/mail.compose.js';
import { SmtpTransport } from '../../lib/transports/smtp/smtp.transport.js';
import type { SmtpTransportOptions } from '../../lib/transports/smtp/smtp.options.js';
import { startSmtpSink, testCertificates, type SmtpSink } from '../support/smtp-sink.js';

const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');

const open: Array<{ stop?: () => Promise<void>; close?: () => Promise<void> }> = [];
afterEach(async () => {
  for (const x of open.splice(0).reverse()) await (x.close ?? x.stop)!.call(x);
});

async function sink(options?: Parameters<typeof startSmtpSink>[0]): Promise<SmtpSink> {
  const s = await startSmtpSink(options);
  open.push(s);
  return s;
}

function transport(options: Partial<SmtpTransportOptions> & { port: number }): SmtpTransport {
  const t = new SmtpTransport('test', { host: '127.0.0.1', tlsMode: 'opportunistic', pool: false, connectionTimeout: 3000, greetingTimeout: 3000, socketTimeout: 3000, ...options });
  open.push(t);
  return t;
}

async function send(t: SmtpTransport, mail: Partial<Mail> = {}) {
  const outgoing = await composeMail({ from: 'Shop <shop@example.com>', to: 'ada@example.org', subject: 'Hi', text: 'Hello', ...mail }, {}, {}, {});
  return t.send(outgoing);
}

describe('SMTP transport against a real SMTP server', () => {
  it('delivers a full message that parses back to what was sent', async () => {
    const s = await sink({ starttls: false });
    const t = transport({ port: s.port });
    const result = await send(t, {
      from: { name: 'Läden Ünïcode', address: 'shop@example.com' },
      to: ['Ada Lovelace <ada@example.org>', 'bob@example.org'],
      cc: 'carol@example.org',
      bcc: 'audit@example.net',
      replyTo: 'support@example.com',
      subject: 'Ihre Bestellung — 注文 #42 ✓',
      text: 'Plain body',
      html: '<p>HTML body <img src="cid:logo@shop"></p>',
      headers: { 'X-Order-Id': '42' },
      priority: 'high',
      tags: ['receipt'],
      listUnsubscribe: { url: 'https://example.com/u/1', mailto: 'unsub@example.com', oneClick: true },
      attachments: [
        { filename: 'invoice.pdf', content: Buffer.from('%PDF-1.4 test'), contentType: 'application/pdf' },
        { filename: 'notes.txt', content: 'aGVsbG8=', encoding: 'base64' },
        { filename: 'stream.txt', content: Readable.from([Buffer.from('from a stream')]) },
        { filename: 'logo.png', content: PNG, cid: 'logo@shop', contentType: 'image/png' },
      ],
    });
    const [mail] = await s.waitFor(1);
    const p = mail!.parsed;
    expect(result.accepted.sort()).toEqual(['ada@example.org', 'audit@example.net', 'bob@example.org', 'carol@example.org']);
    expect(result.rejected).toEqual([]);
    expect(mail!.envelope.to.sort()).toEqual(['ada@example.org', 'audit@example.net', 'bob@example.org', 'carol@example.org']);
    expect(p.subject).toBe('Ihre Bestellung — 注文 #42 ✓');
    expect(p.from?.value).toEqual([{ name: 'Läden Ünïcode', address: 'shop@example.com' }]);
    expect((p.to as { value: unknown[] }).value).toEqual([{ name: 'Ada Lovelace', address: 'ada@example.org' }, { name: '', address: 'bob@example.org' }]);
    expect(p.headers.has('bcc')).toBe(false);
    expect(p.replyTo?.value[0]?.address).toBe('support@example.com');
    expect(p.text?.trim()).toBe('Plain body');
    expect(p.html).toContain('HTML body');
    expect(p.messageId).toBe(result.messageId);
    expect(p.headers.get('x-order-id')).toBe('42');
    expect(p.headers.get('priority')).toBe('high');
    expect(p.headers.get('x-tags')).toBe('receipt');
    expect(p.headers.get('list')).toEqual({
      unsubscribe: { mail: 'unsub@example.com', url: 'https://example.com/u/1' },
      'unsubscribe-post': { name: 'List-Unsubscribe=One-Click' },
    });
    const byName = new Map(p.attachments.map((a) => [a.filename, a]));
    expect(byName.get('invoice.pdf')?.content.toString()).toBe('%PDF-1.4 test');
    expect(byName.get('invoice.pdf')?.contentType).toBe('application/pdf');
    expect(byName.get('notes.txt')?.content.toString()).toBe('hello');
    expect(byName.get('stream.txt')?.content.toString()).toBe('from a stream');
    const logo = byName.get('logo.png');
    expect(logo?.contentId).toBe('<logo@shop>');
    expect(logo?.content.equals(PNG)).toBe(true);
  });

  it('with textEncoding base64 the parts still read back exactly', async () => {
    const s = await sink({ starttls: false });
    const t = transport({ port: s.port, textEncoding: 'base64' });
    const html = '<p style="color: #0a7">Grüße — 3 × Lampe à €64,00</p>';
    await send(t, { html, text: 'Grüße — 3 × Lampe à €64,00' });
    const [mail] = await s.waitFor(1);
    expect(mail!.parsed.html).toBe(html);
    expect(mail!.parsed.text?.trim()).toBe('Grüße — 3 × Lampe à €64,00');
  });

  it('sends internationalised addresses (UTF-8 local part, IDN domain)', async () => {
    const s = await sink({ starttls: false });
    const t = transport({ port: s.port });
    await send(t, { to: 'Jürgen <jürgen@bücher.example>' });
    const [mail] = await s.waitFor(1);
    const to = (mail!.parsed.to as { value: Array<{ address: string; name: string }> }).value[0]!;
    expect(to.name).toBe('Jürgen');
    expect(['jürgen@bücher.example', 'jürgen@xn--bcher-kva.example']).toContain(to.address);
  });

  it('upgrades with STARTTLS when required and verifies the certificate against the given CA', async () => {
    const s = await sink({ auth: { user: 'app', pass: 's3cret' } });
    const t = transport({ port: s.port, tlsMode: 'starttls', tls: { ca: testCertificates().ca }, auth: { user: 'app', pass: 's3cret' } });
    await send(t);
    const [mail] = await s.waitFor(1);
    expect(mail!.secure).toBe(true);
    expect(mail!.user).toBe('app');
  });

  it('refuses to send in clear text when STARTTLS is required but not offered', async () => {
    const s = await sink({ starttls: false });
    const t = transport({ port: s.port, tlsMode: 'starttls' });
    const error = await send(t).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect((error as TransportError).failure).toBe('tls');
    expect((error as TransportError).message).toMatch(/STARTTLS/);
    expect(s.received).toHaveLength(0);
  });

  it('speaks implicit TLS (smtps) and rejects an untrusted certificate by default', async () => {
    const s = await sink({ secure: true });
    const trusted = transport({ port: s.port, tlsMode: 'implicit', tls: { ca: testCertificates().ca, servername: 'localhost' } });
    await send(trusted);
    await s.waitFor(1);
    expect(s.received[0]!.secure).toBe(true);

    const untrusted = transport({ port: s.port, tlsMode: 'implicit' });
    const error = await send(untrusted).catch((e: unknown) => e) as TransportError;
    expect(error).toBeInstanceOf(TransportError);
    expect(error.failure).toBe('tls');
    expect(s.received).toHaveLength(1);
  });

  it('authenticates with XOAUTH2 and an access token', async () => {
    const s = await sink({ auth: { user: 'app@example.com', pass: 'ya29.token' } });
    const t = transport({ port: s.port, tlsMode: 'starttls', tls: { ca: testCertificates().ca }, auth: { user: 'app@example.com', method: 'XOAUTH2', accessToken: 'ya29.token' } });
    await send(t);
    const [mail] = await s.waitFor(1);
    expect(mail!.user).toBe('app@example.com');
  });

  it('reports rejected credentials as an auth failure without the password', async () => {
    const s = await sink({ auth: { user: 'app', pass: 'right-password' } });
    const t = transport({ port: s.port, tlsMode: 'starttls', tls: { ca: testCertificates().ca }, auth: { user: 'app', pass: 'Wr0ngPa55!' } });
    const error = await send(t).catch((e: unknown) => e) as TransportError;
    expect(error).toBeInstanceOf(TransportError);
    expect(error.failure).toBe('auth');
    expect(error.responseCode).toBe(535);
    expect(s.authFailures).toBe(1);
    expect(JSON.stringify({ ...error, message: error.message, stack: error.stack })).not.toContain('Wr0ngPa55!');
    expect(s.received).toHaveLength(0);
  });

  it('returns a partial result naming the one recipient the server refused', async () => {
    const s = await sink({
      starttls: false,
      rcpt: (address) => (address === 'ghost@example.org' ? { code: 550, message: '5.1.1 <ghost@example.org>: Recipient address rejected: User unknown' } : undefined),
    });
    const t = transport({ port: s.port });
    const result = await send(t, { to: ['ada@example.org', 'ghost@example.org', 'bob@example.org'] });
    expect(result.accepted.sort()).toEqual(['ada@example.org', 'bob@example.org']);
    expect(result.rejected).toHaveLength(1);
    const [rejected] = result.rejected;
    expect(rejected).toMatchObject({ address: 'ghost@example.org', replyCode: 550, status: '5.1.1' });
    expect(rejected!.response).toContain('User unknown');
    expect(rejected!.classification).toMatchObject({ reason: 'userunknown', bounce: 'hard', retryable: false, action: 'suppress' });
    const [mail] = await s.waitFor(1);
    expect(mail!.envelope.to.sort()).toEqual(['ada@example.org', 'bob@example.org']);
  });

  it('fails with every refused recipient listed when none is accepted', async () => {
    const s = await sink({ starttls: false, rcpt: () => ({ code: 550, message: '5.1.1 User unknown' }) });
    const t = transport({ port: s.port });
    const error = await send(t, { to: ['a@example.org', 'b@example.org'] }).catch((e: unknown) => e) as TransportError;
    expect(error).toBeInstanceOf(TransportError);
    expect(error.failure).toBe('envelope');
    expect(error.rejected?.map((r) => r.address).sort()).toEqual(['a@example.org', 'b@example.org']);
    expect(error.classification?.bounce).toBe('hard');
    expect(s.received).toHaveLength(0);
  });

  it('classifies a 421 greeting as a transient refusal', async () => {
    const s = await sink({ starttls: false, connect: () => ({ code: 421, message: '4.7.0 Too many connections, slow down' }) });
    const t = transport({ port: s.port });
    const error = await send(t).catch((e: unknown) => e) as TransportError;
    expect(error).toBeInstanceOf(TransportError);
    expect(error.responseCode).toBe(421);
    expect(error.classification).toMatchObject({ bounce: 'soft', retryable: true });
  });

  it('treats a connection dropped after DATA as not sent', async () => {
    const s = await sink({ starttls: false, drop: (stage) => stage === 'data' });
    const t = transport({ port: s.port });
    const error = await send(t).catch((e: unknown) => e) as TransportError;
    expect(error).toBeInstanceOf(TransportError);
    expect(['connection', 'protocol', 'timeout']).toContain(error.failure);
    expect(s.received).toHaveLength(0);
  });

  it('reports a refused connection as a connection failure', async () => {
    const s = await sink({ starttls: false });
    const port = s.port;
    await s.stop();
    open.splice(open.indexOf(s), 1);
    const t = transport({ port });
    const error = await send(t).catch((e: unknown) => e) as TransportError;
    expect(error).toBeInstanceOf(TransportError);
    expect(error.failure).toBe('connection');
  });

  it('verify() authenticates, and fails with the auth failure for a wrong password', async () => {
    const s = await sink({ auth: { user: 'app', pass: 'pw' } });
    const ok = transport({ port: s.port, tlsMode: 'starttls', tls: { ca: testCertificates().ca }, auth: { user: 'app', pass: 'pw' } });
    await expect(ok.verify()).resolves.toBeUndefined();
    const bad = transport({ port: s.port, tlsMode: 'starttls', tls: { ca: testCertificates().ca }, auth: { user: 'app', pass: 'nope' } });
    await expect(bad.verify()).rejects.toMatchObject({ failure: 'auth' });
    expect(s.received).toHaveLength(0);
  });

  it('reuses pooled connections for consecutive mails', async () => {
    const s = await sink({ starttls: false });
    const t = transport({ port: s.port, pool: { maxConnections: 1 } });
    for (let i = 0; i < 3; i += 1) await send(t, { subject: `n${i}` });
    await s.waitFor(3);
    expect(s.connections).toHaveLength(1);
    expect(s.received.map((m) => m.parsed.subject)).toEqual(['n0', 'n1', 'n2']);
  });
});
