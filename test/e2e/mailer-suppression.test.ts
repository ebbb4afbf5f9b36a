import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { Test, type TestingModule } from '@nestjs/testing';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { MailerModule, MailerService, type MailerModuleOptions } from '../../lib/index.js';
import { deleteKeysByPrefix, redisUrl, uniqueKeyPrefix } from '../support/redis.js';
import { onCleanup, smtpSink as sink } from '../support/cleanup.js';

async function boot(options: Partial<MailerModuleOptions> & { transport: string }): Promise<MailerService> {
  const moduleRef: TestingModule = await Test.createTestingModule({
    imports: [MailerModule.forRoot({ defaults: { from: 'shop@example.com' }, ...options })],
  }).compile();
  await moduleRef.init();
  onCleanup(() => moduleRef.close());
  return moduleRef.get(MailerService);
}

const userUnknown = (address: string) => (address.startsWith('gone') ? { code: 550, message: '5.1.1 <' + address + '>: Recipient address rejected: User unknown' } : undefined);

describe('suppression list', () => {
  it('leaves out an address that hard-bounced, from envelope and headers, and reports it as suppressed', async () => {
    const s = await sink({ rcpt: userUnknown });
    const mailer = await boot({ transport: `${s.url}?tlsMode=none` });
    const first = await mailer.send({ to: ['a@example.org', 'gone@example.org'], cc: 'c@example.org', text: 'one' });
    expect(first.rejected).toMatchObject([{ address: 'gone@example.org', replyCode: 550, classification: { reason: 'userunknown' } }]);

    const second = await mailer.send({ to: ['a@example.org', 'Gone@Example.org'], cc: 'c@example.org', text: 'two' });
    expect(second.accepted.sort()).toEqual(['a@example.org', 'c@example.org']);
    expect(second.rejected).toHaveLength(1);
    expect(second.rejected[0]).toMatchObject({ address: 'Gone@Example.org', classification: { reason: 'suppressed', kind: 'rejected', retryable: false } });
    const [, mail] = await s.waitFor(2);
    expect(mail!.envelope.to.sort()).toEqual(['a@example.org', 'c@example.org']);
    expect((mail!.parsed.to as { value: Array<{ address: string }> }).value.map((v) => v.address)).toEqual(['a@example.org']);
    expect(await mailer.suppressions!.get('gone@example.org')).toMatchObject({ reason: 'userunknown', source: 'smtp' });
  });

  it('sends nothing at all when every recipient is suppressed', async () => {
    const s = await sink({ rcpt: userUnknown });
    const mailer = await boot({ transport: `${s.url}?tlsMode=none&pool=false` });
    await mailer.send({ to: ['gone@example.org'], text: 'x' }).catch(() => undefined);
    const connections = s.connections.length;
    const result = await mailer.send({ to: 'gone@example.org', text: 'again' });
    expect(result.accepted).toEqual([]);
    expect(result.rejected.map((r) => r.classification?.reason)).toEqual(['suppressed']);
    expect(result.attempts).toEqual([]);
    expect(s.connections).toHaveLength(connections);
  });

  it('does not suppress after a temporary refusal', async () => {
    const s = await sink({ rcpt: (a) => (a.startsWith('busy') ? { code: 452, message: '4.2.2 Mailbox full, try later' } : undefined) });
    const mailer = await boot({ transport: `${s.url}?tlsMode=none` });
    await mailer.send({ to: ['a@example.org', 'busy@example.org'], text: 'x' });
    const again = await mailer.send({ to: ['a@example.org', 'busy@example.org'], text: 'y' });
    expect(again.rejected.map((r) => r.classification?.reason)).not.toContain('suppressed');
    expect(await mailer.suppressions!.count()).toBe(0);
  });

  it('learns from bounce e-mails, and a support team can list and remove entries', async () => {
    const s = await sink();
    const mailer = await boot({ transport: `${s.url}?tlsMode=none` });
    const found = await mailer.handleBounce(readFileSync(new URL('../fixtures/bounces/postfix-dsn.eml', import.meta.url)));
    expect(found.map((f) => f.recipient)).toEqual(['ghost@receiver.test']);
    const page = await mailer.suppressions!.list();
    expect(page.entries).toMatchObject([{ address: 'ghost@receiver.test', source: 'bounce-mail', reason: 'userunknown' }]);

    const held = await mailer.send({ to: 'ghost@receiver.test', text: 'x' });
    expect(held.accepted).toEqual([]);
    expect(await mailer.suppressions!.remove('ghost@receiver.test')).toBe(true);
    const sent = await mailer.send({ to: 'ghost@receiver.test', text: 'x' });
    expect(sent.accepted).toEqual(['ghost@receiver.test']);
    await s.waitFor(1);
  });

  it('never learns from a delay warning, even one about an unknown user; the final report of the same MTA does', async () => {
    const s = await sink();
    const mailer = await boot({ transport: `${s.url}?tlsMode=none` });
    const warning = await mailer.handleBounce(readFileSync(new URL('../fixtures/bounces/outcome/postfix-warning-userunknown.eml', import.meta.url)));
    expect(warning.map((w) => [w.recipient, w.classification.kind, w.classification.reason, w.classification.bounce])).toEqual([
      ['checking@receiver.test', 'deferred', 'userunknown', 'soft'],
    ]);
    expect(await mailer.suppressions!.count()).toBe(0);
    const sent = await mailer.send({ to: 'checking@receiver.test', text: 'x' });
    expect(sent.accepted).toEqual(['checking@receiver.test']);
    await s.waitFor(1);

    await mailer.handleBounce(readFileSync(new URL('../fixtures/bounces/postfix-dsn.eml', import.meta.url)));
    expect(await mailer.suppressions!.count()).toBe(1);
  });

  it('can be turned off', async () => {
    const s = await sink({ rcpt: userUnknown });
    const mailer = await boot({ transport: `${s.url}?tlsMode=none`, suppression: false });
    await mailer.send({ to: ['a@example.org', 'gone@example.org'], text: 'x' });
    const again = await mailer.send({ to: ['a@example.org', 'gone@example.org'], text: 'x' });
    expect(again.rejected).toMatchObject([{ address: 'gone@example.org', replyCode: 550 }]);
    expect(mailer.suppressions).toBeUndefined();
  });
});

describe('suppression list shared through Redis', () => {
  const prefix = uniqueKeyPrefix('mailer-suppression');
  afterAll(async () => {
    const client = new Redis(await redisUrl());
    await deleteKeysByPrefix(client, prefix);
    await client.quit();
  });

  it('what one instance learns, another instance honours', async () => {
    const url = await redisUrl();
    const s = await sink({ rcpt: userUnknown });
    const one = await boot({ transport: `${s.url}?tlsMode=none`, suppression: { redis: { url, keyPrefix: prefix } } });
    const two = await boot({ transport: `${s.url}?tlsMode=none`, suppression: { redis: { url, keyPrefix: prefix } } });
    await one.send({ to: ['a@example.org', 'gone@example.org'], text: 'x' });
    const result = await two.send({ to: ['a@example.org', 'gone@example.org'], text: 'y' });
    expect(result.accepted).toEqual(['a@example.org']);
    expect(result.rejected[0]?.classification?.reason).toBe('suppressed');
  });
});
