import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { TransportConfigKeys } from '../../../lib/transports/transport-config.key.js';

const SECRET = 'Sup3rS3cretPassw0rd';

describe('TransportConfigKeys', () => {
  it('gives equal configurations one key, whatever the order of their keys', () => {
    const keys = new TransportConfigKeys();
    const a = { host: 'smtp.acme.example', port: 587, auth: { user: 'acme', pass: SECRET }, tls: { ca: Buffer.from('PEM') }, undefinedKey: undefined };
    const b = { tls: { ca: Buffer.from('PEM') }, auth: { pass: SECRET, user: 'acme' }, port: 587, host: 'smtp.acme.example' };
    expect(keys.key(a)).toBe(keys.key(b));
    expect(keys.key(`smtp://acme:${SECRET}@smtp.acme.example`)).toBe(keys.key(`smtp://acme:${SECRET}@smtp.acme.example`));
  });

  it('tells apart what differs: a password, a number from its string, a Buffer, nesting', () => {
    const keys = new TransportConfigKeys();
    const distinct = [
      `smtp://acme:${SECRET}@smtp.acme.example`,
      `smtp://acme:${SECRET}x@smtp.acme.example`,
      { port: 587 },
      { port: '587' },
      { tls: { ca: Buffer.from('PEM-A') } },
      { tls: { ca: Buffer.from('PEM-B') } },
      ['a', 'b'],
      ['ab'],
      { a: { b: 1 } },
      { a: 'b', b: 1 },
      null,
      {},
    ];
    expect(new Set(distinct.map((c) => keys.key(c))).size).toBe(distinct.length);
  });

  it('compares what is not plain data by identity', () => {
    const keys = new TransportConfigKeys();
    const logger = { debug() {}, info() {}, warn() {}, error() {} };
    class Logger { debug() {} }
    const key = createPrivateKey(generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    expect(keys.key({ logger })).toBe(keys.key({ logger }));
    expect(keys.key({ logger: new Logger() })).not.toBe(keys.key({ logger: new Logger() }));
    expect(keys.key({ dkim: { privateKey: key } })).toBe(keys.key({ dkim: { privateKey: key } }));
    const cyclic: Record<string, unknown> = { host: 'h' };
    cyclic.self = cyclic;
    expect(keys.key(cyclic)).toBe(keys.key(cyclic));
  });

  it('shows nothing of the configuration, and differs from one instance to the next', () => {
    const config = `smtp://acme:${SECRET}@smtp.acme.example`;
    const one = new TransportConfigKeys().key(config);
    const two = new TransportConfigKeys().key(config);
    expect(one).toMatch(/^[0-9a-f]{64}$/);
    expect(one).not.toBe(two);
  });
});
