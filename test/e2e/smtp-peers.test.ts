import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Mail } from '../../lib/core/mail.types.js';
import { TransportError } from '../../lib/errors/mailer.error.js';
import { isRetryableFailure } from '../../lib/retry/retry.decision.js';
import { composeMail } from '../../lib/transports/mail.compose.js';
import type { SmtpTransportOptions } from '../../lib/transports/smtp/smtp.options.js';
import { SmtpTransport } from '../../lib/transports/smtp/smtp.transport.js';
import { onCleanup } from '../support/cleanup.js';
import { PEER_FAMILIES, startPeer, type SmtpPeer } from '../support/smtp-peers.js';
import { testCertificates } from '../support/smtp-sink.js';

// The SMTP behaviours that matter, against nodemailer's sibling (smtp-server) and against a server
// of another family (aiosmtpd), so the client is not only checked by its own reading of the RFCs.

const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');

function transport(peer: SmtpPeer, options: Partial<SmtpTransportOptions> = {}): SmtpTransport {
  const t = new SmtpTransport(peer.family, {
    host: '127.0.0.1', port: peer.port, tlsMode: 'none', pool: { maxConnections: 1 },
    connectionTimeout: 5000, greetingTimeout: 5000, socketTimeout: 5000, ...options,
  });
  onCleanup(() => t.close());
  return t;
}

async function send(t: SmtpTransport, mail: Partial<Mail> = {}) {
  const outgoing = await composeMail({ from: 'Shop <shop@example.com>', to: 'ada@example.org', subject: 'Hi', text: 'Hello', ...mail }, {}, {}, {});
  return t.send(outgoing);
}

async function failure(promise: Promise<unknown>): Promise<TransportError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(TransportError);
  return error as TransportError;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe.each(PEER_FAMILIES)('SMTP against %s', (family) => {
  it('delivers a message that parses back to what was sent', async () => {
    const peer = await startPeer(family);
    const result = await send(transport(peer), {
      from: { name: 'Läden Ünïcode', address: 'shop@example.com' },
      to: ['Ada Lovelace <ada@example.org>', 'bob@example.org'],
      cc: 'carol@example.org',
      bcc: 'audit@example.net',
      subject: 'Ihre Bestellung — 注文 #42 ✓',
      text: 'Plain body',
      html: '<p>HTML body <img src="cid:logo@shop"></p>',
      headers: { 'X-Order-Id': '42' },
      attachments: [
        { filename: 'invoice.pdf', content: Buffer.from('%PDF-1.4 test'), contentType: 'application/pdf' },
        { filename: 'logo.png', content: PNG, cid: 'logo@shop', contentType: 'image/png' },
      ],
    });
    const [mail] = await peer.waitFor(1);
    const p = mail!.parsed;
    expect(result.accepted.sort()).toEqual(['ada@example.org', 'audit@example.net', 'bob@example.org', 'carol@example.org']);
    expect(mail!.envelope.from).toBe('shop@example.com');
    expect([...mail!.envelope.to].sort()).toEqual(['ada@example.org', 'audit@example.net', 'bob@example.org', 'carol@example.org']);
    expect(p.messageId).toBe(result.messageId);
    expect(p.subject).toBe('Ihre Bestellung — 注文 #42 ✓');
    expect(p.from?.value).toEqual([{ name: 'Läden Ünïcode', address: 'shop@example.com' }]);
    expect(p.headers.has('bcc')).toBe(false);
    expect(p.headers.get('x-order-id')).toBe('42');
    expect(p.text?.trim()).toBe('Plain body');
    expect(p.html).toContain('HTML body');
    const byName = new Map(p.attachments.map((a) => [a.filename, a]));
    expect(byName.get('invoice.pdf')?.content.toString()).toBe('%PDF-1.4 test');
    expect(byName.get('logo.png')?.contentId).toBe('<logo@shop>');
    expect(byName.get('logo.png')?.content.equals(PNG)).toBe(true);
  });

  it.each(['PLAIN', 'LOGIN'] as const)('upgrades with STARTTLS, checks the certificate and authenticates with AUTH %s', async (method) => {
    const peer = await startPeer(family, { tls: 'starttls', auth: { user: 'app', pass: 's3cret' } });
    await send(transport(peer, { tlsMode: 'starttls', tls: { ca: testCertificates().ca }, auth: { user: 'app', pass: 's3cret', method } }));
    const [mail] = await peer.waitFor(1);
    expect(mail!.secure).toBe(true);
    expect(mail!.user).toBe('app');
  });

  it('reports a wrong password as an auth failure, without the password, and sends nothing', async () => {
    const peer = await startPeer(family, { tls: 'starttls', auth: { user: 'app', pass: 'right-password' } });
    const error = await failure(send(transport(peer, { tlsMode: 'starttls', tls: { ca: testCertificates().ca }, auth: { user: 'app', pass: 'Wr0ngPa55!' } })));
    expect(error.failure).toBe('auth');
    expect(error.responseCode).toBe(535);
    expect(isRetryableFailure(error)).toBe(false);
    expect(JSON.stringify({ ...error, message: error.message, stack: error.stack })).not.toContain('Wr0ngPa55!');
    await peer.settled();
    expect(peer.authFailures()).toBe(1);
    expect(peer.received).toHaveLength(0);
  });

  it('speaks implicit TLS and refuses a certificate it cannot verify', async () => {
    const peer = await startPeer(family, { tls: 'implicit' });
    await send(transport(peer, { tlsMode: 'implicit', tls: { ca: testCertificates().ca, servername: 'localhost' } }));
    const [mail] = await peer.waitFor(1);
    expect(mail!.secure).toBe(true);
    const error = await failure(send(transport(peer, { tlsMode: 'implicit' })));
    expect(error.failure).toBe('tls');
    await peer.settled();
    expect(peer.received).toHaveLength(1);
  });

  it('sends nothing in clear when STARTTLS is required and the server does not offer it', async () => {
    const peer = await startPeer(family);
    const error = await failure(send(transport(peer, { tlsMode: 'starttls' })));
    expect(error.failure).toBe('tls');
    await peer.settled();
    expect(peer.received).toHaveLength(0);
  });

  it('a 5xx and a 4xx recipient: the others get the mail, the two are listed with their classification', async () => {
    const peer = await startPeer(family, {
      rules: [
        { stage: 'rcpt', recipient: 'ghost@example.org', reply: '550 5.1.1 <ghost@example.org>: Recipient address rejected: User unknown' },
        { stage: 'rcpt', recipient: 'later@example.org', reply: '451 4.7.1 <later@example.org>: Greylisted, try again later' },
      ],
    });
    const result = await send(transport(peer), { to: ['ada@example.org', 'ghost@example.org', 'later@example.org', 'bob@example.org'] });
    expect(result.accepted.sort()).toEqual(['ada@example.org', 'bob@example.org']);
    const rejected = new Map(result.rejected.map((r) => [r.address, r]));
    expect(rejected.get('ghost@example.org')).toMatchObject({ replyCode: 550, status: '5.1.1', classification: { reason: 'userunknown', bounce: 'hard', action: 'suppress', retryable: false } });
    expect(rejected.get('later@example.org')).toMatchObject({ replyCode: 451, status: '4.7.1', classification: { bounce: 'soft', retryable: true } });
    const [mail] = await peer.waitFor(1);
    expect([...mail!.envelope.to].sort()).toEqual(['ada@example.org', 'bob@example.org']);
  });

  it('every recipient deferred: a retryable envelope failure, and nothing kept', async () => {
    const peer = await startPeer(family, { rules: [{ stage: 'rcpt', reply: '451 4.7.1 Greylisted, try again later' }] });
    const error = await failure(send(transport(peer), { to: ['a@example.org', 'b@example.org'] }));
    expect(error.failure).toBe('envelope');
    expect(error.rejected?.map((r) => r.replyCode)).toEqual([451, 451]);
    expect(isRetryableFailure(error)).toBe(true);
    await peer.settled();
    expect(peer.received).toHaveLength(0);
  });

  it('a large message (4 MB attachment, 5.5 MB on the wire) arrives byte for byte', async () => {
    const peer = await startPeer(family);
    const big = randomBytes(4 * 1024 * 1024);
    const result = await send(transport(peer), { attachments: [{ filename: 'big.bin', content: big, contentType: 'application/octet-stream' }] });
    const [mail] = await peer.waitFor(1);
    expect(mail!.parsed.messageId).toBe(result.messageId);
    const attachment = mail!.parsed.attachments[0]!;
    expect(attachment.size).toBe(big.length);
    expect(sha256(attachment.content)).toBe(sha256(big));
  });

  it('an internationalised mailbox goes out with SMTPUTF8', async () => {
    const peer = await startPeer(family, { smtputf8: true });
    await send(transport(peer), { to: 'Jürgen <jürgen@bücher.example>' });
    const [mail] = await peer.waitFor(1);
    expect(mail!.mailOptions).toContain('SMTPUTF8');
    expect(mail!.envelope.to).toHaveLength(1);
    expect(['jürgen@bücher.example', 'jürgen@xn--bcher-kva.example']).toContain(mail!.envelope.to[0]);
  });

  it('non-ASCII text leaves 7-bit clean, so a server without 8BITMIME takes it', async () => {
    const peer = await startPeer(family, { eightBitMime: false, smtputf8: false });
    const text = 'Grüße — 3 × Lampe à €64,00 — 注文';
    const html = `<p>${text}</p>`;
    await send(transport(peer), { subject: text, text, html });
    const [mail] = await peer.waitFor(1);
    expect(mail!.raw.every((byte) => byte < 0x80)).toBe(true);
    expect(mail!.mailOptions.some((o) => o.startsWith('BODY=8BITMIME'))).toBe(false);
    expect(mail!.parsed.subject).toBe(text);
    expect(mail!.parsed.text?.trim()).toBe(text);
    expect(mail!.parsed.html).toBe(html);
  });

  it.each([true, false])('pooled mails follow each other over one connection (PIPELINING advertised: %s)', async (pipelining) => {
    const peer = await startPeer(family, { pipelining });
    const t = transport(peer);
    for (let i = 0; i < 3; i += 1) await send(t, { subject: `n${i}`, to: ['ada@example.org', 'bob@example.org'] });
    const received = await peer.waitFor(3);
    expect(received.map((m) => m.parsed.subject)).toEqual(['n0', 'n1', 'n2']);
    expect(received.every((m) => m.envelope.to.length === 2)).toBe(true);
    expect(peer.connections()).toBe(1);
  });
});
