import { describe, expect, it } from 'vitest';
import { classifyProviderError } from '../../../lib/bounces/provider-error.classifier.js';
import { classifySmtpReply } from '../../../lib/bounces/smtp-reply.classifier.js';
import { InvalidMailError, TransportError, type TransportFailure } from '../../../lib/errors/mailer.error.js';
import { isTransportFault, normalizeTransportFailure } from '../../../lib/transports/transport-failure.js';

function smtp(failure: TransportFailure, code: number, text: string): TransportError {
  return new TransportError(text, { transport: 't', failure, responseCode: code, classification: classifySmtpReply(code, text) });
}

function http(provider: string, statusCode: number, message: string, providerCode?: string, failure: TransportFailure = 'http'): TransportError {
  return new TransportError(message, {
    transport: 't', provider, failure, statusCode, providerCode,
    classification: classifyProviderError({ provider, statusCode, providerCode, message }),
  });
}

describe('isTransportFault: fail over when the transport failed, not when the mail was refused', () => {
  it.each([
    ['connection refused', new TransportError('x', { transport: 't', failure: 'connection' }), true],
    ['timeout', new TransportError('x', { transport: 't', failure: 'timeout' }), true],
    ['TLS', new TransportError('x', { transport: 't', failure: 'tls' }), true],
    ['unknown (a wrapped plain Error)', new TransportError('x', { transport: 't', failure: 'unknown' }), true],
    ['SMTP 535 auth', smtp('auth', 535, '535 5.7.8 Authentication credentials invalid'), true],
    ['SMTP 421 rate', smtp('rate-limit', 421, '421 4.7.0 Too many connections, slow down'), true],
    ['SMTP 451 after DATA', smtp('message', 451, '451 4.3.0 Temporary local problem'), true],
    ['SMTP 550 relaying denied', smtp('envelope', 550, '550 5.7.1 Relaying denied'), true],
    ['SMTP 554 sending IP blocked', smtp('envelope', 554, '554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org'), true],
    ['SMTP 550 5.1.1 user unknown', smtp('envelope', 550, '550 5.1.1 User unknown'), false],
    ['SMTP 552 message too large', smtp('message', 552, '552 5.3.4 Message size exceeds fixed limit'), false],
    ['SMTP 554 spam', smtp('message', 554, '554 5.7.1 Message rejected as spam'), false],
    ['HTTP 503', http('sendgrid', 503, 'service unavailable'), true],
    ['HTTP 500 Postmark maintenance', http('postmark', 500, 'Postmark is down for maintenance.', '100'), true],
    ['HTTP 429', http('resend', 429, 'Too many requests', 'rate_limit_exceeded', 'rate-limit'), true],
    ['HTTP 401', http('postmark', 401, 'Request does not contain a valid Server token.', '10', 'auth'), true],
    ['HTTP 403 unverified sender', http('resend', 403, 'The example.com domain is not verified.', 'validation_error'), true],
    ['Postmark 406 inactive', http('postmark', 422, 'You tried to send to recipient(s) that have been marked as inactive.', '406', 'envelope'), false],
    ['HTTP 400 invalid address', http('sendgrid', 400, 'Does not contain a valid address.'), false],
    ['HTTP 422 bad request', http('postmark', 422, 'Provide a Subject.', '300'), false],
    ['HTTP 413 too large', http('mailgun', 413, 'Request entity too large'), false],
  ])('%s → %s', (_what, error, expected) => {
    expect(isTransportFault(error)).toBe(expected);
  });

  it('an HTTP error without classification is decided by its status', () => {
    const bare = (statusCode?: number) => new TransportError('x', { transport: 't', failure: 'http', statusCode });
    expect([undefined, 401, 403, 408, 429, 500, 502].map((s) => isTransportFault(bare(s)))).toEqual([true, true, true, true, true, true, true]);
    expect([400, 404, 422].map((s) => isTransportFault(bare(s)))).toEqual([false, false, false]);
  });
});

describe('normalizeTransportFailure', () => {
  it('wraps anything that is not a MailerError, keeping it as cause', () => {
    const plain = new Error('boom');
    const wrapped = normalizeTransportFailure({ name: 'custom' }, plain);
    expect(wrapped).toBeInstanceOf(TransportError);
    expect(wrapped).toMatchObject({ transport: 'custom', failure: 'unknown', cause: plain });
    expect(normalizeTransportFailure({ name: 'c' }, 'text')).toMatchObject({ failure: 'unknown', cause: 'text' });
  });

  it('passes the package errors through', () => {
    const invalid = new InvalidMailError('bad');
    expect(normalizeTransportFailure({ name: 'c' }, invalid)).toBe(invalid);
  });

  it('removes credentials from a wrapped message', () => {
    const wrapped = normalizeTransportFailure({ name: 'c' }, new Error('could not reach https://user:hunter2@api.example.com'));
    expect(wrapped.message).not.toContain('hunter2');
  });
});
