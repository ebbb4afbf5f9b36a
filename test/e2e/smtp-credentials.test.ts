import { lookup } from 'node:dns/promises';
import { createServer, connect, type AddressInfo, type Server } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import { describe, expect, it } from 'vitest';
import { TransportError } from '../../lib/errors/mailer.error.js';
import { composeMail } from '../../lib/transports/mail.compose.js';
import type { SmtpTransportOptions } from '../../lib/transports/smtp/smtp.options.js';
import { SmtpTransport } from '../../lib/transports/smtp/smtp.transport.js';
import { onCleanup, smtpSink } from '../support/cleanup.js';

const USER = 'app@example.com';
const PASS = 'Cl3arT3xtS3cret';

/** Every form the password takes on the wire: as it is, in AUTH PLAIN, in AUTH LOGIN. */
const PASSWORD_FORMS = [
  PASS,
  Buffer.from(`\u0000${USER}\u0000${PASS}`).toString('base64'),
  Buffer.from(PASS).toString('base64'),
];

/**
 * A name for this machine that is not a loopback name: the address of a network interface, or
 * else the host name. The transport decides on the name as configured, so the check that protects
 * a password sent to a remote server is the one that runs, while the connection stays on this
 * machine.
 */
async function nonLoopbackHost(): Promise<{ host: string; address: string }> {
  for (const addresses of Object.values(networkInterfaces())) {
    const found = addresses?.find((a) => a.family === 'IPv4' && !a.internal);
    if (found) return { host: found.address, address: found.address };
  }
  const name = hostname();
  return { host: name, address: (await lookup(name, { family: 4 })).address };
}

/** A TCP relay in front of the SMTP server that keeps every byte the client sends. */
async function recordingRelay(listenOn: string, targetPort: number): Promise<{ port: number; sent: () => string }> {
  const chunks: Buffer[] = [];
  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    client.on('data', (chunk: Buffer) => chunks.push(chunk));
    client.pipe(upstream).on('error', () => client.destroy());
    upstream.pipe(client).on('error', () => upstream.destroy());
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, listenOn, resolve));
  onCleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { port: (server.address() as AddressInfo).port, sent: () => Buffer.concat(chunks).toString('latin1') };
}

function transport(options: SmtpTransportOptions): SmtpTransport {
  const t = new SmtpTransport('mail', { pool: false, connectionTimeout: 3000, greetingTimeout: 3000, socketTimeout: 3000, ...options });
  onCleanup(() => t.close());
  return t;
}

async function send(t: SmtpTransport) {
  return t.send(await composeMail({ from: 'shop@example.com', to: 'ada@example.org', subject: 'Hi', text: 'Hello' }, {}, {}, {}));
}

async function failure(promise: Promise<unknown>): Promise<TransportError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(TransportError);
  return error as TransportError;
}

/** A server that takes AUTH without offering STARTTLS, as a misconfigured relay on port 25 would. */
async function plainServer() {
  return smtpSink({ starttls: false, auth: { user: USER, pass: PASS } });
}

describe('credentials never cross an unencrypted connection', () => {
  it('the relay sees the password when AUTH does go in clear (loopback host), so it would see a leak', async () => {
    const server = await plainServer();
    const relay = await recordingRelay('127.0.0.1', server.port);
    await send(transport({ host: '127.0.0.1', port: relay.port, auth: { user: USER, pass: PASS } }));
    const [mail] = await server.waitFor(1);
    expect(mail!.user).toBe(USER);
    expect(relay.sent()).toMatch(/^AUTH /m);
    expect(PASSWORD_FORMS.some((form) => relay.sent().includes(form))).toBe(true);
  });

  it('to another host, the send fails before AUTH with a tls failure to fix in the configuration; no byte of the password is sent', async () => {
    const server = await plainServer();
    const { host, address } = await nonLoopbackHost();
    const relay = await recordingRelay(address, server.port);
    const t = transport({ host, port: relay.port, auth: { user: USER, pass: PASS } });
    expect(t.options.tlsMode).toBe('opportunistic');

    const error = await failure(send(t));
    expect(error.failure).toBe('tls');
    expect(error.classification).toMatchObject({ action: 'fix-config', retryable: false, reason: 'failedstarttls' });
    expect(error.message).toMatch(/credentials are configured and the connection is not encrypted.*tlsMode: 'none'/);
    expect(error.message).not.toContain(PASS);

    const wire = relay.sent();
    expect(wire).toMatch(/^EHLO /m);
    expect(wire).not.toMatch(/^AUTH/m);
    expect(wire).not.toMatch(/^MAIL FROM/m);
    for (const form of PASSWORD_FORMS) expect(wire).not.toContain(form);
    expect(server.received).toHaveLength(0);
    expect(server.authFailures).toBe(0);
  });

  it('verify() fails the same way, before AUTH', async () => {
    const server = await plainServer();
    const { host, address } = await nonLoopbackHost();
    const relay = await recordingRelay(address, server.port);
    const error = await failure(transport({ host, port: relay.port, auth: { user: USER, pass: PASS } }).verify());
    expect(error.failure).toBe('tls');
    expect(error.classification?.action).toBe('fix-config');
    expect(relay.sent()).not.toMatch(/^AUTH/m);
    for (const form of PASSWORD_FORMS) expect(relay.sent()).not.toContain(form);
  });

  it("tlsMode: 'none', chosen explicitly, sends them in clear — the one way to ask for it", async () => {
    const server = await plainServer();
    const { host, address } = await nonLoopbackHost();
    const relay = await recordingRelay(address, server.port);
    await send(transport({ host, port: relay.port, tlsMode: 'none', auth: { user: USER, pass: PASS } }));
    const [mail] = await server.waitFor(1);
    expect(mail!.user).toBe(USER);
  });

  it('without credentials an opportunistic connection to another host still sends in clear when there is no STARTTLS', async () => {
    const server = await smtpSink({ starttls: false });
    const { host, address } = await nonLoopbackHost();
    const relay = await recordingRelay(address, server.port);
    await send(transport({ host, port: relay.port }));
    const [mail] = await server.waitFor(1);
    expect(mail!.secure).toBe(false);
  });
});
