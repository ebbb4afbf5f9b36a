import { createPrivateKey } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { DkimOptions } from '../../../lib/core/dkim.types.js';
import type { Mail } from '../../../lib/core/mail.types.js';
import { InvalidMailError } from '../../../lib/errors/index.js';
import { deserializeMail, fromDomain, serializeMail } from '../../../lib/queue/mail.serializer.js';
import { composeMail } from '../../../lib/transports/mail.compose.js';
import { dkimKey } from '../../support/dkim.js';

/** What a worker gets: the job data after a trip through JSON (as Redis stores it). */
async function throughQueue(mail: Mail): Promise<Mail> {
  return deserializeMail(JSON.parse(JSON.stringify(await serializeMail(mail))));
}

const compose = (mail: Mail) => composeMail({ from: 'shop@example.com', to: 'ada@example.org', text: 't', ...mail }, {}, {}, {});

describe('serializeMail', () => {
  it('keeps every field and survives JSON unchanged', async () => {
    const mail = {
      from: { name: 'Shop', address: 'shop@example.com' },
      to: ['ada@example.org', { name: 'Bob', address: 'bob@example.org' }],
      cc: 'c@example.org', bcc: ['d@example.org'], replyTo: 'r@example.org',
      subject: 'Ünïcødé ✓', text: 't', html: '<p>h</p>', template: 'orders/receipt', layout: false as const,
      context: { n: 1, ok: true, none: null, list: [1, 'two', { three: 3 }], nested: { deep: { x: 'y' } } },
      headers: { 'X-A': 'a' }, tags: ['t1'], metadata: { k: 'v' }, priority: 'high' as const,
      listUnsubscribe: { url: 'https://example.com/u', oneClick: true }, messageId: '<id@example.com>',
      envelope: { from: 'bounce@example.com', to: ['ada@example.org'] },
    };
    const out = await serializeMail(mail);
    expect(JSON.parse(JSON.stringify(out))).toEqual(mail);
    expect(deserializeMail(out)).toEqual(mail);
  });

  it('turns Dates into ISO strings, and objects with toJSON into their JSON form', async () => {
    const at = new Date('2026-03-01T12:00:00.000Z');
    const out = await serializeMail({ to: 'a@example.org', context: { at, list: [at], money: { toJSON: () => '12.50' } } });
    expect(out.context).toEqual({ at: '2026-03-01T12:00:00.000Z', list: ['2026-03-01T12:00:00.000Z'], money: '12.50' });
  });

  it('drops undefined properties as JSON does, keeps array holes as null', async () => {
    const out = await serializeMail({ to: 'a@example.org', subject: undefined, context: { a: undefined, l: [undefined] } });
    expect(out).toEqual({ to: 'a@example.org', context: { l: [null] } });
  });

  it('stores Buffer, Uint8Array and stream contents as base64; strings stay as they are', async () => {
    const bytes = Buffer.from([0, 1, 2, 250, 255]);
    const out = await serializeMail({
      attachments: [
        { filename: 'a', content: bytes },
        { filename: 'b', content: new Uint8Array(bytes.buffer.slice(bytes.byteOffset + 1, bytes.byteOffset + 3)) as unknown as Buffer },
        { filename: 'c', content: Readable.from([Buffer.from('he'), Buffer.from('llo')]) },
        { filename: 'd', content: Readable.from(['str', 'ing'], { objectMode: true }) },
        { filename: 'e', content: 'AAEC', encoding: 'base64' },
        { filename: 'f', content: 'plain' },
        { filename: 'g', path: 'https://example.com/x.pdf', cid: 'x', headers: { 'X-H': '1' } },
      ],
    });
    expect(out.attachments).toEqual([
      { filename: 'a', content: bytes.toString('base64'), encoding: 'base64' },
      { filename: 'b', content: Buffer.from([1, 2]).toString('base64'), encoding: 'base64' },
      { filename: 'c', content: Buffer.from('hello').toString('base64'), encoding: 'base64' },
      { filename: 'd', content: Buffer.from('string').toString('base64'), encoding: 'base64' },
      { filename: 'e', content: 'AAEC', encoding: 'base64' },
      { filename: 'f', content: 'plain' },
      { filename: 'g', path: 'https://example.com/x.pdf', cid: 'x', headers: { 'X-H': '1' } },
    ]);
  });

  it('carries a calendar invite: the worker composes the same event', async () => {
    const ics = 'BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nSUMMARY:Nº 42\r\nEND:VCALENDAR\r\n';
    for (const content of [ics, Buffer.from(ics)]) {
      const mail: Mail = { icalEvent: { method: 'request', filename: 'visit.ics', content } };
      const out = await serializeMail(mail);
      expect(typeof out.icalEvent?.content).toBe('string');
      const expected = await compose(mail);
      const arrived = await compose(await throughQueue(mail));
      expect(arrived.icalEvent).toEqual(expected.icalEvent);
      expect(arrived.icalEvent).toEqual({ method: 'REQUEST', filename: 'visit.ics', content: ics });
    }
  });

  it('carries DKIM signatures: PEM text, a Buffer key as PEM, a key path, nodemailer\'s keys form', async () => {
    const key = dkimKey('shop.example', 's1');
    const mail: Mail = {
      dkim: [
        { domainName: 'shop.example', keySelector: 's1', privateKey: key.privateKey, headerFieldNames: 'From:To:Subject' },
        { domainName: 'shop.example', keySelector: 's2', privateKey: Buffer.from(key.privateKey) },
        { domainName: 'shop.example', keySelector: 's3', privateKeyPath: '/run/secrets/dkim.pem' },
      ],
    };
    const out = await serializeMail(mail);
    expect(out.dkim).toEqual([
      { domainName: 'shop.example', keySelector: 's1', privateKey: key.privateKey, headerFieldNames: 'From:To:Subject' },
      { domainName: 'shop.example', keySelector: 's2', privateKey: key.privateKey },
      { domainName: 'shop.example', keySelector: 's3', privateKeyPath: '/run/secrets/dkim.pem' },
    ]);
    const two = { dkim: (mail.dkim as DkimOptions[]).slice(0, 2) } as Mail;
    const arrived = await compose(await throughQueue(two));
    expect(arrived.dkim?.map((s) => [s.keySelector, s.headerFieldNames, s.privateKey.export({ type: 'pkcs8', format: 'pem' })])).toEqual([
      ['s1', 'From:To:Subject', key.privateKey],
      ['s2', undefined, key.privateKey],
    ]);
    const keysForm = await serializeMail({ dkim: { keys: [{ domainName: 'a.example', keySelector: 'k', privateKey: key.privateKey }], skipFields: 'Date' } } as unknown as Mail);
    expect(keysForm.dkim).toEqual([{ domainName: 'a.example', keySelector: 'k', privateKey: key.privateKey, skipFields: 'Date' }]);
  });

  it('refuses a DKIM key given as a KeyObject, pointing at privateKeyPath', async () => {
    const key = createPrivateKey(dkimKey('shop.example', 's1').privateKey);
    const error = await serializeMail({ dkim: { domainName: 'shop.example', keySelector: 's1', privateKey: key } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidMailError);
    expect((error as Error).message).toMatch(/mail\.dkim\.privateKey: a KeyObject cannot be put on the queue; give privateKeyPath/);
  });

  it('does not change the mail it is given', async () => {
    const content = Buffer.from('x');
    const mail = { to: 'a@example.org', attachments: [{ content }], context: { at: new Date(0) } };
    await serializeMail(mail);
    expect(mail.attachments[0]!.content).toBe(content);
    expect(mail.context.at).toBeInstanceOf(Date);
  });

  it.each([
    ['a function', { context: { f: () => 1 } }, /mail\.context\.f: a function/],
    ['a symbol', { context: { s: Symbol('x') } }, /a symbol/],
    ['a bigint', { context: { b: 1n } }, /a bigint/],
    ['NaN', { context: { n: Number.NaN } }, /the number NaN/],
    ['Infinity', { context: { n: Number.POSITIVE_INFINITY } }, /the number Infinity/],
    ['an invalid Date', { context: { d: new Date('nope') } }, /an invalid Date/],
    ['a Map', { context: { m: new Map() } }, /an instance of Map/],
    ['a class instance', { context: { c: new (class Money { v = 1; })() } }, /an instance of Money/],
    ['a Buffer outside attachments', { context: { b: Buffer.from('x') } }, /binary data outside an attachment/],
    ['a stream outside attachments', { context: { s: Readable.from(['x']) } }, /a stream outside an attachment/],
    ['a number as attachment content', { attachments: [{ content: 5 }] }, /attachments\[0\]\.content/],
    ['attachments that are no array', { attachments: { content: 'x' } }, /mail\.attachments/],
  ])('refuses %s with InvalidMailError', async (_name, mail, message) => {
    const error = await serializeMail(mail as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidMailError);
    expect((error as Error).message).toMatch(message);
  });

  it('refuses a cycle', async () => {
    const context: Record<string, unknown> = {};
    context.self = context;
    await expect(serializeMail({ context })).rejects.toThrow(/mail\.context\.self: a circular reference/);
  });

  it('accepts the same object twice when it is no cycle', async () => {
    const shared = { x: 1 };
    expect((await serializeMail({ context: { a: shared, b: shared } })).context).toEqual({ a: { x: 1 }, b: { x: 1 } });
  });

  it('refuses a stream that fails, naming the attachment', async () => {
    const failing = new Readable({ read() { this.destroy(new Error('EIO')); } });
    await expect(serializeMail({ attachments: [{ content: 'ok' }, { content: failing }] }))
      .rejects.toThrow(/mail\.attachments\[1\]\.content: the attachment stream failed while it was read for the queue: EIO/);
  });

  it('refuses what is no mail', async () => {
    await expect(serializeMail(null as never)).rejects.toBeInstanceOf(InvalidMailError);
    await expect(serializeMail([] as never)).rejects.toBeInstanceOf(InvalidMailError);
  });
});

describe('fromDomain', () => {
  it.each([
    ['shop@example.com', 'example.com'],
    ['Shop <shop@example.com>', 'example.com'],
    ['"A, B" <a@sub.example.org>', 'sub.example.org'],
    [{ name: 'x', address: 'x@bücher.de' }, 'bücher.de'],
    ['no-at-sign', undefined],
    [undefined, undefined],
    [{ address: 5 }, undefined],
  ])('%j → %s', (from, domain) => {
    expect(fromDomain(from)).toBe(domain);
  });
});

describe('a job read back from the queue', () => {
  it('is checked like any mail: a job changed in Redis cannot carry a header injection or an over-long address', async () => {
    const data = JSON.parse(JSON.stringify(await serializeMail({ to: 'ada@example.org', attachments: [{ filename: 'a.txt', content: 'x' }] })));
    data.attachments[0].contentDisposition = 'attachment\r\nBcc: victim@example.net';
    await expect(compose(deserializeMail(data))).rejects.toMatchObject({ field: 'attachments[0].contentDisposition' });
    data.attachments[0].contentDisposition = 'inline';
    data.to = `${'a'.repeat(65)}@example.org`;
    await expect(compose(deserializeMail(data))).rejects.toThrow(/allows at most 64/);
  });
});
