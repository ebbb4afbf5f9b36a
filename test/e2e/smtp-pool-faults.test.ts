import { describe, expect, it } from 'vitest';
import type { Mail, OutgoingMail } from '../../lib/core/mail.types.js';
import { TransportError } from '../../lib/errors/mailer.error.js';
import { isRateLimitFailure, isRetryableFailure } from '../../lib/retry/retry.decision.js';
import type { RetryEvent, RetryOptions } from '../../lib/retry/retry.options.js';
import { RetryPolicy } from '../../lib/retry/retry.policy.js';
import { sendWithRetry } from '../../lib/retry/retry-send.js';
import { composeMail } from '../../lib/transports/mail.compose.js';
import { SmtpTransport } from '../../lib/transports/smtp/smtp.transport.js';
import { onCleanup } from '../support/cleanup.js';
import { PEER_FAMILIES, startPeer, type FaultRule, type SmtpPeer } from '../support/smtp-peers.js';
import { FakeClock } from '../unit/retry/fake-clock.js';

// Faults on a pooled SMTP connection, against smtp-server and aiosmtpd. What each case must show:
// the caller hears of every failure (no success for a mail the server refused, no hang), nothing
// is sent again behind the retry policy's back, and each copy the server keeps is counted by
// Message-ID. docs/transports.md ("What a send promises over SMTP") states the guarantee.

function transport(peer: SmtpPeer): SmtpTransport {
  const t = new SmtpTransport(peer.family, {
    host: '127.0.0.1', port: peer.port, tlsMode: 'none', pool: { maxConnections: 1 },
    connectionTimeout: 5000, greetingTimeout: 5000, socketTimeout: 5000,
  });
  onCleanup(() => t.close());
  return t;
}

async function compose(subject: string, mail: Partial<Mail> = {}): Promise<OutgoingMail> {
  return composeMail({ from: 'shop@example.com', to: 'ada@example.org', subject, text: `This is ${subject}.`, ...mail }, {}, {}, {});
}

/** The module's retry policy without real waits; every failure it retries is kept in `retried`. */
function retrying(options: RetryOptions = {}): { policy: RetryPolicy; retried: TransportError[] } {
  const retried: TransportError[] = [];
  const policy = new RetryPolicy({ clock: new FakeClock(), jitter: 'none', onRetry: (e: RetryEvent) => { retried.push(e.error); }, ...options });
  return { policy, retried };
}

async function failure(promise: Promise<unknown>): Promise<TransportError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(TransportError);
  return error as TransportError;
}

/** Sends a further mail and waits until the server kept it: whatever the pool had queued before it has gone out by then. */
async function flush(t: SmtpTransport, peer: SmtpPeer, expected: number): Promise<void> {
  const last = await compose('flush');
  await t.send(last);
  await peer.waitFor(expected);
  await peer.settled();
  expect(peer.received).toHaveLength(expected);
  expect(peer.copies(last.messageId)).toBe(1);
}

/** The second message of a pooled connection meets `rule`; the first goes through. */
const onSecond = (rule: Omit<FaultRule, 'onConnection' | 'times'>): FaultRule => ({ ...rule, onConnection: 2, times: 1 });

describe.each(PEER_FAMILIES)('pooled SMTP faults against %s', (family) => {
  it.each([false, true])('421 to RCPT of a later message on the connection: a rate-limit failure, then one copy on retry (PIPELINING: %s)', async (pipelining) => {
    const peer = await startPeer(family, { pipelining, rules: [{ stage: 'rcpt', onConnection: 2, reply: '421 4.7.0 Too many messages on this connection, slow down' }] });
    const t = transport(peer);
    const first = await compose('first');
    await t.send(first);

    const second = await compose('second');
    const error = await failure(t.send(second));
    expect(error.failure).toBe('rate-limit');
    expect(error.responseCode).toBe(421);
    expect(error.response).toContain('4.7.0');
    expect(error.classification).toMatchObject({ reason: 'ratelimited', action: 'slow-down', retryable: true, bounce: 'soft' });
    expect(error.possiblyDelivered).toBeUndefined();
    expect(isRetryableFailure(error)).toBe(true);
    expect(isRateLimitFailure(error)).toBe(true);

    // A new connection takes the next mail; under the retry policy the refused one, second on that
    // connection, meets the 421 again and goes out once on a third.
    const third = await compose('third');
    await t.send(third);
    const { policy, retried } = retrying();
    const result = await sendWithRetry(t, second, { policy });
    expect(retried.map((e) => [e.failure, e.responseCode])).toEqual([['rate-limit', 421]]);
    expect(result.attempts!.map((a) => a.ok)).toEqual([false, true]);
    await peer.waitFor(3);
    await peer.settled();
    expect(peer.received).toHaveLength(3);
    for (const mail of [first, second, third]) expect(peer.copies(mail.messageId)).toBe(1);
    expect(peer.connections()).toBe(3);
  });

  it('a pooled connection closed without a word before DATA: nothing was sent, so a new connection takes the mail at once; one copy', async () => {
    const peer = await startPeer(family, { pipelining: true, rules: [onSecond({ stage: 'rcpt', action: 'drop' })] });
    const t = transport(peer);
    await t.send(await compose('first'));
    const second = await compose('second');
    const result = await t.send(second);
    expect(result.accepted).toEqual(['ada@example.org']);
    await flush(t, peer, 3);
    expect(peer.copies(second.messageId)).toBe(1);
    expect(peer.connections()).toBe(2);
  });

  it('and the new connection closed too: a connection failure that says nothing was sent; one copy on retry', async () => {
    const peer = await startPeer(family, {
      rules: [{ stage: 'rcpt', message: 2, action: 'drop' }, { stage: 'rcpt', message: 3, action: 'drop' }],
    });
    const t = transport(peer);
    await t.send(await compose('first'));
    const second = await compose('second');
    const { policy, retried } = retrying();
    const result = await sendWithRetry(t, second, { policy });
    expect(retried.map((e) => [e.failure, e.possiblyDelivered])).toEqual([['connection', undefined]]);
    expect(result.attempts!.map((a) => a.ok)).toEqual([false, true]);
    await flush(t, peer, 3);
    expect(peer.copies(second.messageId)).toBe(1);
  });

  it('connection lost after the message, which the server did not keep: possibly delivered as far as the client knows; one copy on retry', async () => {
    const peer = await startPeer(family, { rules: [onSecond({ stage: 'data', action: 'drop' })] });
    const t = transport(peer);
    await t.send(await compose('first'));
    const second = await compose('second');
    const { policy, retried } = retrying();
    await sendWithRetry(t, second, { policy });
    expect(retried.map((e) => [e.failure, e.possiblyDelivered])).toEqual([['connection', true]]);
    await flush(t, peer, 3);
    expect(peer.copies(second.messageId)).toBe(1);
  });

  it('the server kept the message and the connection was lost before its 250: reported, and not sent again unless the retry policy says so', async () => {
    const peer = await startPeer(family, { rules: [onSecond({ stage: 'data', action: 'accept-then-drop' })] });
    const t = transport(peer);
    await t.send(await compose('first'));
    const second = await compose('second');
    const error = await failure(t.send(second));
    expect(error.failure).toBe('connection');
    expect(error.possiblyDelivered).toBe(true);
    expect(error.message).toMatch(/may have been accepted/);
    // The pool carries on over a new connection and has not sent the message a second time.
    await flush(t, peer, 3);
    expect(peer.copies(second.messageId)).toBe(1);
  });

  it('the same loss under the default retry rules: a second copy with the same Message-ID (at least once)', async () => {
    const peer = await startPeer(family, { rules: [onSecond({ stage: 'data', action: 'accept-then-drop' })] });
    const t = transport(peer);
    await t.send(await compose('first'));
    const second = await compose('second');
    const { policy, retried } = retrying();
    const result = await sendWithRetry(t, second, { policy });
    expect(retried.map((e) => e.possiblyDelivered)).toEqual([true]);
    expect(result.attempts!.map((a) => a.ok)).toEqual([false, true]);
    await flush(t, peer, 4);
    expect(peer.copies(second.messageId)).toBe(2);
  });

  it('the same loss with shouldRetry declining possibly delivered mail: one copy, and the error says it may have arrived (at most once)', async () => {
    const peer = await startPeer(family, { rules: [onSecond({ stage: 'data', action: 'accept-then-drop' })] });
    const t = transport(peer);
    await t.send(await compose('first'));
    const second = await compose('second');
    const { policy, retried } = retrying({ shouldRetry: (e) => (e.possiblyDelivered ? false : undefined) });
    const error = await failure(sendWithRetry(t, second, { policy }));
    expect(error.possiblyDelivered).toBe(true);
    expect(error.attempts).toHaveLength(1);
    expect(retried).toEqual([]);
    await flush(t, peer, 3);
    expect(peer.copies(second.messageId)).toBe(1);
  });

  it('the server answers 250 and then closes: a success, one copy, and the next mail goes over a new connection', async () => {
    const peer = await startPeer(family, { rules: [{ stage: 'data', action: 'reply-then-close', times: 1 }] });
    const t = transport(peer);
    const first = await compose('first');
    const result = await t.send(first);
    expect(result.accepted).toEqual(['ada@example.org']);
    await flush(t, peer, 2);
    expect(peer.copies(first.messageId)).toBe(1);
    expect(peer.connections()).toBe(2);
  });
});
