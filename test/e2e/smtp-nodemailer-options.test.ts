import { describe, expect, it } from 'vitest';
import { TransportError } from '../../lib/errors/mailer.error.js';
import { composeMail } from '../../lib/transports/mail.compose.js';
import type { SmtpTransport } from '../../lib/transports/smtp/smtp.transport.js';
import { createTransport, type TransportConfig } from '../../lib/transports/transport.config.js';
import type { TransportLogger } from '../../lib/transports/transport-logger.js';
import { onCleanup, smtpSink } from '../support/cleanup.js';
import { testCertificates } from '../support/smtp-sink.js';

const USER = 'app@example.com';
const PASS = 'Tr4nsp0rtS3cret';

function transport(config: TransportConfig, logger?: TransportLogger): SmtpTransport {
  const t = createTransport('mail', config, { logger }) as SmtpTransport;
  onCleanup(() => t.close());
  return t;
}

async function send(t: SmtpTransport) {
  return t.send(await composeMail({ from: 'shop@example.com', to: 'ada@example.org', subject: 'Hi', text: 'Hello' }, {}, {}, {}));
}

const timeouts = { connectionTimeout: 3000, greetingTimeout: 3000, socketTimeout: 3000 };

describe("nodemailer's option names reach the wire", () => {
  it('secure: true speaks TLS from the first byte', async () => {
    const server = await smtpSink({ secure: true, auth: { user: USER, pass: PASS } });
    await send(transport({ host: '127.0.0.1', port: server.port, secure: true, tls: { ca: testCertificates().ca, servername: 'localhost' }, auth: { user: USER, pass: PASS }, ...timeouts }));
    const [mail] = await server.waitFor(1);
    expect(mail!.secure).toBe(true);
    expect(mail!.user).toBe(USER);
    expect(server.connections.every((c) => c.secure)).toBe(true);
  });

  it('requireTLS: true refuses a server without STARTTLS before anything is sent', async () => {
    const server = await smtpSink({ starttls: false });
    const error = await send(transport({ host: '127.0.0.1', port: server.port, requireTLS: true, ...timeouts })).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect((error as TransportError).failure).toBe('tls');
    expect(server.received).toHaveLength(0);
  });

  it('ignoreTLS: true stays in clear even when the server offers STARTTLS', async () => {
    const server = await smtpSink({ starttls: true });
    await send(transport({ host: '127.0.0.1', port: server.port, ignoreTLS: true, ...timeouts }));
    const [mail] = await server.waitFor(1);
    expect(mail!.secure).toBe(false);
  });

  it('debug: true logs the SMTP conversation through the transport logger, with the credentials masked', async () => {
    const server = await smtpSink({ starttls: true, auth: { user: USER, pass: PASS } });
    const lines: string[] = [];
    const logger: TransportLogger = { debug: (m) => lines.push(m), warn: (m) => lines.push(m), error: (m) => lines.push(m) };
    const t = transport({
      host: '127.0.0.1', port: server.port, requireTLS: true, tls: { ca: testCertificates().ca, servername: 'localhost' },
      auth: { user: USER, pass: PASS }, logger: true, debug: true, ...timeouts,
    }, logger);
    await send(t);
    await server.waitFor(1);
    const log = lines.join('\n');
    expect(log).toMatch(/SMTP transport "mail": C: EHLO/);
    expect(log).toMatch(/C: STARTTLS/);
    expect(log).toMatch(/C: AUTH PLAIN/);
    expect(log).toMatch(/S: 235/);
    for (const form of [PASS, Buffer.from(`\u0000${USER}\u0000${PASS}`).toString('base64'), Buffer.from(PASS).toString('base64')]) {
      expect(log).not.toContain(form);
    }
  });

  it('without logger or debug nothing is logged', async () => {
    const server = await smtpSink({ starttls: false });
    const lines: string[] = [];
    await send(transport({ host: '127.0.0.1', port: server.port, ...timeouts }, { debug: (m) => lines.push(m), warn: (m) => lines.push(m), error: (m) => lines.push(m) }));
    await server.waitFor(1);
    expect(lines).toEqual([]);
  });
});
