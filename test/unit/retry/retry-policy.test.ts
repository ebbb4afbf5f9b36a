import { describe, expect, it, vi } from 'vitest';
import { classifySmtpReply } from '../../../lib/bounces/index.js';
import {
  InvalidMailError, MailCancelledError, MailerConfigurationError, TemplateRenderError, TransportError, UnsupportedFeatureError,
} from '../../../lib/errors/mailer.error.js';
import { RetryPolicy, isRateLimitFailure, isRetryableFailure, resolveRetryOptions, systemClock, type RetryEvent } from '../../../lib/retry/index.js';
import { FakeClock } from './fake-clock.js';

function smtpError(code: number, text: string, extra: Partial<ConstructorParameters<typeof TransportError>[1]> = {}): TransportError {
  return new TransportError(`SMTP ${code} ${text}`, {
    transport: 'default',
    failure: 'envelope',
    responseCode: code,
    response: `${code} ${text}`,
    classification: classifySmtpReply(code, `${code} ${text}`),
    ...extra,
  });
}

function httpError(status: number, retryAfter?: number): TransportError {
  return new TransportError(`HTTP ${status}`, { transport: 'default', provider: 'resend', failure: status === 429 ? 'rate-limit' : 'http', statusCode: status, retryAfter });
}

const connection = () => new TransportError('connection refused', { transport: 'default', failure: 'connection' });

describe('isRetryableFailure', () => {
  it.each([
    ['a connection failure', connection(), true],
    ['a timeout', new TransportError('t', { transport: 'x', failure: 'timeout' }), true],
    ['451 4.7.1 greylisting', smtpError(451, '4.7.1 Greylisted, try again later'), true],
    ['421 4.7.0 too many connections', smtpError(421, '4.7.0 Too many connections', { failure: 'rate-limit' }), true],
    ['550 5.1.1 user unknown', smtpError(550, '5.1.1 User unknown'), false],
    ['554 5.7.1 spam', smtpError(554, '5.7.1 Message rejected as spam', { failure: 'message' }), false],
    ['450 4.1.1 user unknown (hard although 4xx)', smtpError(450, '4.1.1 User unknown'), false],
    ['HTTP 429', httpError(429, 1000), true],
    ['HTTP 503', httpError(503), true],
    ['HTTP 500', httpError(500), true],
    ['HTTP 408', httpError(408), true],
    ['HTTP 400', httpError(400), false],
    ['HTTP 422', httpError(422), false],
    ['a TLS problem', new TransportError('cert', { transport: 'x', failure: 'tls' }), false],
    ['535 authentication failed', smtpError(535, '5.7.8 Authentication credentials invalid', { failure: 'auth' }), false],
    ['an unknown failure without a classification', new TransportError('?', { transport: 'x', failure: 'unknown' }), false],
    ['InvalidMailError', new InvalidMailError('bad address'), false],
    ['UnsupportedFeatureError', new UnsupportedFeatureError('ses', 'AMP'), false],
    ['MailerConfigurationError', new MailerConfigurationError('no'), false],
    ['TemplateRenderError', new TemplateRenderError('receipt', 'missing'), false],
    ['MailCancelledError', new MailCancelledError('staging'), false],
    ['a plain Error', new Error('boom'), false],
  ])('%s → %s', (_name, error, expected) => {
    expect(isRetryableFailure(error)).toBe(expected);
  });

  it('every recipient refused: retried only when every refusal was temporary', () => {
    const refused = (code: number, text: string, address: string) => ({ address, replyCode: code, classification: classifySmtpReply(code, `${code} ${text}`, address) });
    const allTemporary = smtpError(451, '4.7.1 Greylisted', { rejected: [refused(451, '4.7.1 Greylisted', 'a@x.test'), refused(452, '4.2.2 Mailbox full', 'b@x.test')] });
    const mixed = smtpError(451, '4.7.1 Greylisted', { rejected: [refused(451, '4.7.1 Greylisted', 'a@x.test'), refused(550, '5.1.1 User unknown', 'b@x.test')] });
    expect(isRetryableFailure(allTemporary)).toBe(true);
    expect(isRetryableFailure(mixed)).toBe(false);
  });

  it('knows a rate-limit answer', () => {
    expect(isRateLimitFailure(httpError(429))).toBe(true);
    expect(isRateLimitFailure(smtpError(421, '4.7.0 Too many messages, slow down'))).toBe(true);
    expect(isRateLimitFailure(smtpError(451, '4.3.0 Try again'))).toBe(false);
    expect(isRateLimitFailure(new Error('x'))).toBe(false);
  });
});

describe('RetryPolicy backoff', () => {
  it('grows exponentially up to max without jitter', () => {
    const policy = new RetryPolicy({ jitter: 'none', backoff: { initial: 100, factor: 3, max: 1000 } });
    expect([1, 2, 3, 4, 5].map((n) => policy.backoffDelay(n))).toEqual([100, 300, 900, 1000, 1000]);
  });

  it('full jitter spreads between 0 and the wait; equal between half and the whole', () => {
    const full = new RetryPolicy({ jitter: 'full' });
    const equal = new RetryPolicy({ jitter: 'equal' });
    expect(full.backoffDelay(2, () => 0)).toBe(0);
    expect(full.backoffDelay(2, () => 0.5)).toBe(1000);
    expect(equal.backoffDelay(2, () => 0)).toBe(1000);
    expect(equal.backoffDelay(2, () => 0.999)).toBe(1999);
  });

  it('takes a jitter function', () => {
    const policy = new RetryPolicy({ jitter: (delay, retry) => delay + retry });
    expect(policy.backoffDelay(1)).toBe(1001);
    expect(policy.backoffDelay(3)).toBe(4003);
  });

  it('defaults: 2 retries, 1 s doubling to 30 s, full jitter, Retry-After up to 60 s, deadline 60 s', () => {
    const o = new RetryPolicy().options;
    expect(o).toMatchObject({ limit: 2, backoff: { initial: 1000, factor: 2, max: 30_000 }, jitter: 'full', maxRetryAfter: 60_000, deadline: 60_000 });
    expect(o.clock).toBe(systemClock);
  });

  it('layers merge field by field, backoff too', () => {
    const o = resolveRetryOptions([{ limit: 5, backoff: { initial: 10 } }, { backoff: { max: 50 } }, undefined]);
    expect(o.limit).toBe(5);
    expect(o.backoff).toEqual({ initial: 10, factor: 2, max: 50 });
  });

  it.each([
    [{ limit: -1 }], [{ limit: 1.5 }], [{ backoff: { initial: -1 } }], [{ backoff: { factor: 0.5 } }],
    [{ maxRetryAfter: Number.NaN }], [{ deadline: -5 }], [{ jitter: 'some' as never }], [{ shouldRetry: 1 as never }],
  ])('refuses %j with a configuration error', (options) => {
    expect(() => new RetryPolicy(options)).toThrow(MailerConfigurationError);
  });
});

describe('RetryPolicy.run', () => {
  it('retries a transient failure with backoff and returns the first success', async () => {
    const clock = new FakeClock();
    const events: RetryEvent[] = [];
    const policy = new RetryPolicy({ clock, jitter: 'none', limit: 3, onRetry: (e) => { events.push(e); } });
    const op = vi.fn<(attempt: number) => Promise<string>>()
      .mockRejectedValueOnce(connection())
      .mockRejectedValueOnce(smtpError(451, '4.7.1 Greylisted'))
      .mockResolvedValueOnce('sent');
    await expect(policy.run(op)).resolves.toBe('sent');
    expect(op.mock.calls.map((c) => c[0])).toEqual([1, 2, 3]);
    expect(clock.sleeps).toEqual([1000, 2000]);
    expect(events.map((e) => [e.attempt, e.delay])).toEqual([[1, 1000], [2, 2000]]);
  });

  it('never retries a permanent failure', async () => {
    const clock = new FakeClock();
    const policy = new RetryPolicy({ clock });
    for (const error of [smtpError(550, '5.1.1 User unknown'), new InvalidMailError('x'), new MailCancelledError()]) {
      const op = vi.fn().mockRejectedValue(error);
      await expect(policy.run(op)).rejects.toBe(error);
      expect(op).toHaveBeenCalledTimes(1);
    }
    expect(clock.sleeps).toEqual([]);
  });

  it('stops after limit retries and throws the last failure', async () => {
    const clock = new FakeClock();
    const failures = [connection(), connection(), connection(), connection()];
    let n = 0;
    const policy = new RetryPolicy({ clock, limit: 2, jitter: 'none' });
    await expect(policy.run(async () => { throw failures[n++]; })).rejects.toBe(failures[2]);
    expect(n).toBe(3);
    expect(clock.sleeps).toEqual([1000, 2000]);
  });

  it('limit 0 sends once', async () => {
    const op = vi.fn().mockRejectedValue(connection());
    await expect(new RetryPolicy({ limit: 0, clock: new FakeClock() }).run(op)).rejects.toBeInstanceOf(TransportError);
    expect(op).toHaveBeenCalledTimes(1);
  });

  it('waits at least the Retry-After the server asked for', async () => {
    const clock = new FakeClock();
    const policy = new RetryPolicy({ clock, jitter: 'none', backoff: { initial: 10 } });
    const op = vi.fn().mockRejectedValueOnce(httpError(429, 4000)).mockResolvedValueOnce('ok');
    await policy.run(op);
    expect(clock.sleeps).toEqual([4000]);
  });

  it('does not wait for a Retry-After longer than maxRetryAfter', async () => {
    const clock = new FakeClock();
    const onGiveUp = vi.fn();
    const policy = new RetryPolicy({ clock, maxRetryAfter: 5000 });
    const error = httpError(429, 3_600_000);
    const op = vi.fn().mockRejectedValue(error);
    await expect(policy.run(op, { onGiveUp })).rejects.toBe(error);
    expect(op).toHaveBeenCalledTimes(1);
    expect(onGiveUp).toHaveBeenCalledWith(error, 'retry-after');
  });

  it('starts no wait that would end after the deadline', async () => {
    const clock = new FakeClock();
    const onGiveUp = vi.fn();
    const policy = new RetryPolicy({ clock, jitter: 'none', limit: 10, deadline: 2500 });
    const op = vi.fn().mockRejectedValue(connection());
    await expect(policy.run(op, { onGiveUp })).rejects.toBeInstanceOf(TransportError);
    expect(clock.sleeps).toEqual([1000]);
    expect(op).toHaveBeenCalledTimes(2);
    expect(onGiveUp.mock.calls[0]![1]).toBe('deadline');
  });

  it('an abort during a wait stops at once and throws the last failure', async () => {
    const controller = new AbortController();
    const policy = new RetryPolicy({ jitter: 'none', backoff: { initial: 60_000 }, onRetry: () => controller.abort() });
    const error = connection();
    const op = vi.fn().mockRejectedValue(error);
    const started = Date.now();
    await expect(policy.run(op, { signal: controller.signal })).rejects.toBe(error);
    expect(op).toHaveBeenCalledTimes(1);
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('an abort before the first attempt throws the signal reason and runs nothing', async () => {
    const op = vi.fn();
    await expect(new RetryPolicy().run(op, { signal: AbortSignal.abort(new Error('stop')) })).rejects.toThrow('stop');
    expect(op).not.toHaveBeenCalled();
  });

  it('shouldRetry decides for TransportErrors; undefined keeps the default; other errors are never retried', async () => {
    const clock = new FakeClock();
    const yes = new RetryPolicy({ clock, shouldRetry: () => true });
    const op1 = vi.fn().mockRejectedValueOnce(smtpError(550, '5.7.1 Blocked')).mockResolvedValueOnce('ok');
    await expect(yes.run(op1)).resolves.toBe('ok');

    const no = new RetryPolicy({ clock, shouldRetry: (_e, attempt) => (attempt > 0 ? false : undefined) });
    const op2 = vi.fn().mockRejectedValue(connection());
    await expect(no.run(op2)).rejects.toBeInstanceOf(TransportError);
    expect(op2).toHaveBeenCalledTimes(1);

    const keep = new RetryPolicy({ clock, shouldRetry: () => undefined });
    const op3 = vi.fn().mockRejectedValueOnce(connection()).mockResolvedValueOnce('ok');
    await expect(keep.run(op3)).resolves.toBe('ok');

    const invalid = new InvalidMailError('x');
    const op4 = vi.fn().mockRejectedValue(invalid);
    await expect(yes.run(op4)).rejects.toBe(invalid);
    expect(op4).toHaveBeenCalledTimes(1);
  });

  it('an onRetry hook that throws stops retrying', async () => {
    const policy = new RetryPolicy({ clock: new FakeClock(), onRetry: () => { throw new Error('no more'); } });
    await expect(policy.run(vi.fn().mockRejectedValue(connection()))).rejects.toThrow('no more');
  });
});
