import { describe, expect, it } from 'vitest';
import { PoolClosures } from '../../../lib/transports/smtp/smtp.pool-closures.js';

// The entry nodemailer's pool writes when a reused connection closes before a message went out.
const CLOSED = 'Connection #%s was closed by the server before message %s was sent: %s';

describe('PoolClosures', () => {
  it('keeps the reason of a closure by Message-ID and gives it out once', () => {
    const closures = new PoolClosures();
    const log = closures.logger(false);
    log.info({ tnx: 'pool', cid: 3, messageId: '<a1@shop.example>' }, CLOSED, 3, '<a1@shop.example>', 'Server closed the connection: 421 4.7.0 Slow down');
    expect(closures.take('<a1@shop.example>')).toBe('Server closed the connection: 421 4.7.0 Slow down');
    expect(closures.take('<a1@shop.example>')).toBeUndefined();
  });

  it('ignores every other entry', () => {
    const closures = new PoolClosures();
    const log = closures.logger(false);
    log.debug({ tnx: 'pool', cid: 1, messageId: 'a1@shop.example', action: 'assign' }, 'Assigned message <%s> to #%s (%s)', 'a1@shop.example', 1, 2);
    log.info({ tnx: 'send', messageId: '<a1@shop.example>' }, 'Sending message %s using #%s to <%s>', '<a1@shop.example>', 1, 'ada@example.org');
    expect(closures.take('<a1@shop.example>')).toBeUndefined();
  });

  it('hands every entry on to the configured logger, falling back as nodemailer does for a missing level', () => {
    const seen: unknown[][] = [];
    const closures = new PoolClosures();
    const log = closures.logger({ info: (...args: unknown[]) => seen.push(['info', ...args]), error: (...args: unknown[]) => seen.push(['error', ...args]) });
    log.debug({ tnx: 'x' }, 'a %s', 1);
    log.error({ tnx: 'y' }, 'b');
    expect(seen).toEqual([['info', { tnx: 'x' }, 'a %s', 1], ['error', { tnx: 'y' }, 'b']]);
  });

  it('forgets the oldest reasons past its bound, so unread ones cannot pile up', () => {
    const closures = new PoolClosures();
    const log = closures.logger(false);
    for (let i = 0; i < 300; i += 1) log.info({ tnx: 'pool', messageId: `<m${i}@x>` }, CLOSED, 1, `<m${i}@x>`, 'Connection closed unexpectedly');
    expect(closures.take('<m0@x>')).toBeUndefined();
    expect(closures.take('<m299@x>')).toBe('Connection closed unexpectedly');
  });
});
