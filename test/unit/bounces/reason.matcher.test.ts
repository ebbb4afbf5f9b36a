import { describe, expect, it } from 'vitest';
import type { BounceReason } from '../../../lib/core/classification.types.js';
import { ReasonMatcher, splitAlternatives } from '../../../lib/bounces/reason.matcher.js';
import { REASON_PATTERNS } from '../../../lib/bounces/reason.tables.js';
import { normalizeDiagnostic } from '../../../lib/bounces/reason.classifier.js';

// Every alternative run in table order: what the indexed matcher must agree with.
function naive(text: string, accept: (r: BounceReason) => BounceReason | undefined): BounceReason | undefined {
  for (const [reason, source] of REASON_PATTERNS) {
    const hit = splitAlternatives(source).some((alt) => new RegExp(alt).test(text));
    if (!hit) continue;
    const r = accept(reason);
    if (r !== undefined) return r;
  }
  return undefined;
}

const TEXTS = [
  '550 5.1.1 <a@b.test>: Recipient address rejected: User unknown in local recipient table',
  '421 4.7.0 Try again later, closing connection. (EHLO) ab12 - gsmtp',
  '552 5.2.2 The email account that you tried to reach is over quota.',
  '554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org',
  '550 5.7.26 This mail is unauthenticated, which poses a security risk to the sender and Gmail users, and has been blocked.',
  '451 4.3.0 Temporary local problem - please try later',
  '550 Requested action not taken: mailbox unavailable (S2017062302)',
  '553 5.1.3 The recipient address <a@@b> is not a valid RFC-5321 address.',
  '421 Too many concurrent SMTP connections; please try again later.',
  'host mx.receiver.test said: 550 No such user here (in reply to RCPT TO command)',
  'Message rejected: throttled, sending too fast',
  'Your message was rejected due to spam classification; an antivirus scan found malware',
  'Boîte du destinataire pleine',
  'The user(s) account is disabled.',
  'mailbox is full: retry timeout exceeded',
  'smtp; 550 Insecure Mail Relay',
  'Connection timed out while talking to mx.receiver.test',
  'nothing that any pattern knows about',
  // Plain words inside longer words, at the start, the end and the middle of a word.
  'x-antivirus-scanner: viruses found, message quarantined',
  'listed at mydnsblzone and multi.uribl.example; throttling in effect',
  'procmailrc: exit 75 from maildropfilter',
  'deferred: ratelimited by policy, rdnsfail',
  'insufficient system storage; recipients unknown',
  'the usernames here are unknown to us; not a valid recipient',
  '',
].map(normalizeDiagnostic);

describe('ReasonMatcher', () => {
  const matcher = new ReasonMatcher(REASON_PATTERNS);

  it('finds what running every pattern in order finds', () => {
    for (const t of TEXTS) expect(matcher.find(t, (r) => r)).toBe(naive(t, (r) => r));
  });

  it('moves on to the next reason when the first match is refused', () => {
    const refuseFirst = (): ((r: BounceReason) => BounceReason | undefined) => {
      let refused = false;
      return (r) => {
        if (!refused) {
          refused = true;
          return undefined;
        }
        return r;
      };
    };
    for (const t of TEXTS) expect(matcher.find(t, refuseFirst())).toBe(naive(t, refuseFirst()));
  });

  it('agrees with every pattern run in order on texts made of the patterns\' own words', () => {
    // Words glued together, split by spaces or punctuation, so that each word occurs inside others,
    // at their edges and alone: the boundary rules of the index are what this exercises.
    const words = [...new Set(REASON_PATTERNS.flatMap(([, src]) => src.toLowerCase().match(/[a-z0-9']{2,}/g) ?? []))];
    const glue = [' ', ' ', ' ', '', '-', '.', ': ', ' <', '> ', '_', ' (', ') ', ', '];
    let seed = 7;
    const rnd = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    let matched = 0;
    for (let t = 0; t < 3000; t++) {
      let text = '';
      const count = 2 + rnd(9);
      for (let k = 0; k < count; k++) text += words[rnd(words.length)]! + glue[rnd(glue.length)]!;
      const want = naive(text, (r) => r);
      if (want !== undefined) matched++;
      expect(matcher.find(text, (r) => r), text).toBe(want);
    }
    // Most of those texts match some pattern; the comparison is not only of misses.
    expect(matched).toBeGreaterThan(500);
  });

  it('leaves no state behind between calls, even when accept throws', () => {
    const a = matcher.find(TEXTS[0]!, (r) => r);
    matcher.find(TEXTS[3]!, (r) => r);
    expect(matcher.find(TEXTS[0]!, (r) => r)).toBe(a);
    expect(() => matcher.find(TEXTS[0]!, () => {
      throw new Error('refused');
    })).toThrow('refused');
    for (const t of TEXTS) expect(matcher.find(t, (r) => r)).toBe(naive(t, (r) => r));
  });
});
