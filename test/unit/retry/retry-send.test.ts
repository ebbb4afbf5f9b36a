import { describe, expect, it } from 'vitest';
import { classifySmtpReply } from '../../../lib/bounces/index.js';
import type { OutgoingMail } from '../../../lib/core/mail.types.js';
import type { TransportResult } from '../../../lib/core/send-result.types.js';
import type { Transport } from '../../../lib/core/transport.types.js';
import { TransportError } from '../../../lib/errors/mailer.error.js';
import { RetryPolicy, TokenBucketRateLimiter, sendWithRetry, type RateLimiter } from '../../../lib/retry/index.js';
import { FailoverTransport } from '../../../lib/transports/failover.transport.js';
import { MemoryTransport } from '../../../lib/transports/memory.transport.js';
import { outgoingMail } from '../../support/provider-fakes/mail.fixture.js';
import { FakeClock } from './fake-clock.js';

/** Fails with the scripted errors, then delivers; records the Message-ID of every call. */
class ScriptedTransport implements Transport {
  readonly kind = 'scripted';
  readonly seen: string[] = [];
  constructor(readonly name: string, private readonly script: unknown[]) {}
  async send(mail: OutgoingMail): Promise<TransportResult> {
    this.seen.push(mail.messageId);
    const next = this.script.shift();
    if (next !== undefined) throw next;
    return { messageId: mail.messageId, accepted: mail.envelope.to, rejected: [], envelope: mail.envelope };
  }
  async verify(): Promise<void> {}
  async close(): Promise<void> {}
}

const down = (name: string) => new TransportError(`${name} down`, { transport: name, failure: 'connection' });
const greylisted = (name: string) => new TransportError('451', {
  transport: name, failure: 'envelope', responseCode: 451, classification: classifySmtpReply(451, '451 4.7.1 Greylisted, try again later'),
});

describe('sendWithRetry', () => {
  it('sends the same mail on every attempt and lists each attempt, the successful one last', async () => {
    const clock = new FakeClock();
    const t = new ScriptedTransport('default', [down('default'), greylisted('default')]);
    const mail = outgoingMail();
    const result = await sendWithRetry(t, mail, { policy: new RetryPolicy({ clock, jitter: 'none' }) });
    expect(t.seen).toEqual([mail.messageId, mail.messageId, mail.messageId]);
    expect(result.attempts!.map((a) => [a.transport, a.ok, a.error?.failure])).toEqual([
      ['default', false, 'connection'], ['default', false, 'envelope'], ['default', true, undefined],
    ]);
  });

  it('the final error is the last TransportError, listing every attempt', async () => {
    const t = new ScriptedTransport('default', [down('default'), down('default'), greylisted('default')]);
    const error = await sendWithRetry(t, outgoingMail(), { policy: new RetryPolicy({ clock: new FakeClock() }) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect((error as TransportError).failure).toBe('envelope');
    expect((error as TransportError).attempts!.map((a) => a.error?.failure)).toEqual(['connection', 'connection', 'envelope']);
  });

  it('a transport that throws the same error object each time is counted once per attempt', async () => {
    const same = down('default');
    const t = new ScriptedTransport('default', [same, same, same]);
    const error = await sendWithRetry(t, outgoingMail(), { policy: new RetryPolicy({ clock: new FakeClock() }) }).catch((e: unknown) => e as TransportError);
    expect(error).toBe(same);
    expect(same.attempts).toHaveLength(3);
  });

  it("composes with a failover's own attempts", async () => {
    const clock = new FakeClock();
    const a = new ScriptedTransport('mail[0]', [down('mail[0]'), down('mail[0]')]);
    const b = new ScriptedTransport('mail[1]', [down('mail[1]')]);
    const failover = new FailoverTransport({ name: 'mail', transports: [a, b], retryPeriod: 0 });
    const result = await sendWithRetry(failover, outgoingMail(), { policy: new RetryPolicy({ clock, jitter: 'none' }) });
    expect(result.attempts!.map((x) => [x.transport, x.ok])).toEqual([
      ['mail[0]', false], ['mail[1]', false], ['mail[0]', false], ['mail[1]', true],
    ]);
    expect(result.deliveredBy).toBe('mail[1]');
    expect(clock.sleeps).toEqual([1000]);
  });

  it('without a policy: one attempt, and the attempt list is still there', async () => {
    const t = new ScriptedTransport('default', [down('default')]);
    const error = await sendWithRetry(t, outgoingMail()).catch((e: unknown) => e as TransportError);
    expect(error.attempts).toHaveLength(1);
    const ok = await sendWithRetry(new MemoryTransport('m'), outgoingMail());
    expect(ok.attempts).toEqual([{ transport: 'm', kind: 'memory', ok: true }]);
  });

  it('acquires from the limiter before every attempt and penalizes it on a rate-limit answer', async () => {
    const clock = new FakeClock();
    const penalties: number[] = [];
    let acquired = 0;
    const limiter: RateLimiter = { acquire: async () => { acquired++; }, penalize: (ms) => { penalties.push(ms); } };
    const limited = new TransportError('429', { transport: 'default', failure: 'rate-limit', statusCode: 429, retryAfter: 2000 });
    const t = new ScriptedTransport('default', [limited]);
    await sendWithRetry(t, outgoingMail(), { policy: new RetryPolicy({ clock, jitter: 'none' }), limiter });
    expect(acquired).toBe(2);
    expect(penalties).toEqual([2000]);
    expect(clock.sleeps).toEqual([2000]);
  });

  it('a real token bucket slows the retry after a penalty', async () => {
    const clock = new FakeClock();
    const limiter = new TokenBucketRateLimiter({ perSecond: 4, burst: 1, clock });
    const limited = new TransportError('421', { transport: 'default', failure: 'rate-limit', responseCode: 421, classification: classifySmtpReply(421, '421 4.7.0 Too many messages, slow down') });
    const t = new ScriptedTransport('default', [limited]);
    await sendWithRetry(t, outgoingMail(), { policy: new RetryPolicy({ clock, jitter: 'none', backoff: { initial: 100 } }), limiter });
    // The retry waited its backoff (100 ms), then for a token at the halved rate (2/s: 500 ms after the penalty).
    expect(clock.sleeps).toEqual([100, 400]);
  });
});
