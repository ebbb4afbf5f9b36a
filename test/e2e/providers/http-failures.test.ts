import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TransportError } from '../../../lib/errors/mailer.error.js';
import type { HttpTransport } from '../../../lib/transports/http/index.js';
import { MailgunTransport, PostmarkTransport, ResendTransport, SendGridTransport } from '../../../lib/transports/providers/index.js';
import {
  MAILGUN_DOMAIN,
  MAILGUN_KEY,
  MailgunFake,
  POSTMARK_TOKEN,
  PostmarkFake,
  RESEND_KEY,
  ResendFake,
  SENDGRID_KEY,
  SendGridFake,
  leakedIn,
  outgoingMail,
  type FakeHttpServer,
} from '../../support/provider-fakes/index.js';

interface Case {
  provider: string;
  secret: string;
  fake: () => FakeHttpServer;
  transport: (baseUrl: string, timeout?: number) => HttpTransport;
}

const cases: Case[] = [
  {
    provider: 'sendgrid',
    secret: SENDGRID_KEY,
    fake: () => new SendGridFake(),
    transport: (baseUrl, timeout) => new SendGridTransport({ apiKey: SENDGRID_KEY, baseUrl, timeout }),
  },
  {
    provider: 'postmark',
    secret: POSTMARK_TOKEN,
    fake: () => new PostmarkFake(),
    transport: (baseUrl, timeout) => new PostmarkTransport({ serverToken: POSTMARK_TOKEN, baseUrl, timeout }),
  },
  {
    provider: 'resend',
    secret: RESEND_KEY,
    fake: () => new ResendFake(),
    transport: (baseUrl, timeout) => new ResendTransport({ apiKey: RESEND_KEY, baseUrl, timeout }),
  },
  {
    provider: 'mailgun',
    secret: MAILGUN_KEY,
    fake: () => new MailgunFake(),
    transport: (baseUrl, timeout) => new MailgunTransport({ apiKey: MAILGUN_KEY, domain: MAILGUN_DOMAIN, baseUrl, timeout }),
  },
];

async function failureOf(promise: Promise<unknown>): Promise<TransportError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(TransportError);
    return error as TransportError;
  }
  throw new Error('expected the send to fail');
}

/** A port nothing listens on: bound once, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe.each(cases)('$provider: every failure is a TransportError', ({ provider, secret, fake: makeFake, transport: makeTransport }) => {
  let fake: FakeHttpServer;
  let transport: HttpTransport;

  beforeAll(async () => {
    fake = await makeFake().start();
    transport = makeTransport(fake.url);
  });
  afterAll(() => fake.stop());

  it('sends through the fake when nothing is scripted', async () => {
    const result = await transport.send(outgoingMail());
    expect(result.accepted).toEqual(['alice@example.com', 'bob@example.com']);
    expect(result.providerMessageId).toBeTruthy();
  });

  it('a reset connection is failure "connection"', async () => {
    fake.failNext({ reset: true });
    const error = await failureOf(transport.send(outgoingMail()));
    expect(error.failure).toBe('connection');
    expect(error.provider).toBe(provider);
    expect(error.statusCode).toBeUndefined();
    expect(error.classification).toMatchObject({ retryable: true, action: 'retry' });
  });

  it('a refused connection is failure "connection" and names ECONNREFUSED', async () => {
    const refused = makeTransport(`http://127.0.0.1:${await closedPort()}`);
    const error = await failureOf(refused.send(outgoingMail()));
    expect(error.failure).toBe('connection');
    expect(error.message).toContain('ECONNREFUSED');
  });

  it('a server that never answers is failure "timeout" after the configured time', async () => {
    const quick = makeTransport(fake.url, 300);
    fake.failNext({ hang: true });
    const error = await failureOf(quick.send(outgoingMail()));
    expect(error.failure).toBe('timeout');
    expect(error.message).toContain('300 ms');
  });

  it("the caller's signal aborts the request", async () => {
    fake.failNext({ hang: true });
    const controller = new AbortController();
    const pending = (transport as HttpTransport & { send(m: unknown, o: unknown): Promise<unknown> }).send(outgoingMail(), { signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    const error = await failureOf(pending);
    expect(error.failure).toBe('unknown');
    expect(error.message).toContain('aborted');
  });

  it('401 is failure "auth" and the credential appears nowhere, even when the provider echoes it', async () => {
    fake.failNext({ status: 401, body: { message: `The key ${secret} is not valid`, errors: [{ message: `bad key ${secret}`, field: null }], ErrorCode: 10, Message: `token ${secret} refused`, name: 'missing_api_key' } });
    const error = await failureOf(transport.send(outgoingMail()));
    expect(error.failure).toBe('auth');
    expect(error.statusCode).toBe(401);
    expect(error.response).toBeTruthy();
    expect(error.classification).toMatchObject({ action: 'fix-config', retryable: false });
    expect(leakedIn(error, secret)).toEqual([]);
  });

  it('a wrong credential is refused by the fake and reported as auth without leaking it', async () => {
    const wrong = `${secret}-WRONG`;
    const bad = provider === 'sendgrid' ? new SendGridTransport({ apiKey: wrong, baseUrl: fake.url })
      : provider === 'postmark' ? new PostmarkTransport({ serverToken: wrong, baseUrl: fake.url })
      : provider === 'resend' ? new ResendTransport({ apiKey: wrong, baseUrl: fake.url })
      : new MailgunTransport({ apiKey: wrong, domain: MAILGUN_DOMAIN, baseUrl: fake.url });
    const error = await failureOf(bad.send(outgoingMail()));
    expect(error.failure).toBe('auth');
    expect([401, 403]).toContain(error.statusCode);
    expect(leakedIn(error, wrong)).toEqual([]);
    const verifyError = await failureOf(bad.verify());
    expect(verifyError.failure).toBe('auth');
  });

  it('429 with Retry-After in seconds is failure "rate-limit" with retryAfter in ms', async () => {
    fake.failNext({ status: 429, headers: { 'Retry-After': '7' }, body: { message: 'slow down' } });
    const error = await failureOf(transport.send(outgoingMail()));
    expect(error.failure).toBe('rate-limit');
    expect(error.statusCode).toBe(429);
    expect(error.retryAfter).toBe(7000);
    expect(error.classification).toMatchObject({ reason: 'ratelimited', action: 'slow-down', retryable: true });
  });

  it('Retry-After as an HTTP date is read too (503)', async () => {
    const at = new Date(Date.now() + 60_000).toUTCString();
    fake.failNext({ status: 503, headers: { 'Retry-After': at }, body: { message: 'maintenance' } });
    const error = await failureOf(transport.send(outgoingMail()));
    expect(error.failure).toBe('http');
    expect(error.statusCode).toBe(503);
    expect(error.retryAfter).toBeGreaterThan(55_000);
    expect(error.retryAfter).toBeLessThanOrEqual(60_000);
  });

  it('500 is failure "http" with the status', async () => {
    fake.failNext({ status: 500, body: 'upstream exploded' });
    const error = await failureOf(transport.send(outgoingMail()));
    expect(error.failure).toBe('http');
    expect(error.statusCode).toBe(500);
    expect(error.retryAfter).toBeUndefined();
    expect(error.response).toBe('upstream exploded');
  });

  it('verify() makes an authenticated call that sends nothing', async () => {
    const before = fake.requests.length;
    await transport.verify();
    const request = fake.requests.at(-1);
    expect(fake.requests.length).toBe(before + 1);
    expect(request?.method).toBe('GET');
  });
});
