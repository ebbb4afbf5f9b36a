import 'reflect-metadata';
import { Test } from '@nestjs/testing';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  MailerModule,
  MailerService,
  MAIL_QUEUE_EVENTS,
  SUPPRESSION_EVENTS,
  TransportError,
  type MailEvent,
  type MailQueueSentEvent,
  type ResolvedTransport,
  type TransportResolver,
} from '../../../lib/index.js';
import { MailerQueue } from '../../../lib/queue/index.js';
import { onCleanup, smtpSink } from '../../support/cleanup.js';
import { OwnRedisServer } from '../../support/redis-server.js';
import { stopRedis } from '../../support/redis.js';
import { QueueTestBed, until } from '../queue/queue-support.js';

/*
 * Tenants where Redis is involved: a queued mail resolves in the worker as it would have where it
 * was enqueued, and a tenant's suppression scope lives in Redis keys of its own, outages included.
 */

let bed: QueueTestBed | undefined;
afterEach(async () => {
  await bed?.cleanup();
  bed = undefined;
});
afterAll(async () => {
  await stopRedis();
});

describe('a queued mail for a tenant', () => {
  it('is sent by the worker through the transport the resolver chooses there, from what travelled with the job', async () => {
    bed = new QueueTestBed('tenants');
    const platform = await bed.sink();
    const acme = await bed.sink({ auth: { user: 'acme', pass: 'acme-secret' } });
    const globex = await bed.sink({ auth: { user: 'globex', pass: 'globex-secret' } });
    const accounts: Record<string, ResolvedTransport> = {
      acme: { name: 'acme', transport: `smtp://acme:acme-secret@127.0.0.1:${acme.port}?tlsMode=none` },
      globex: { name: 'globex', transport: `smtp://globex:globex-secret@127.0.0.1:${globex.port}?tlsMode=none` },
    };
    // Decided from the tenant and the mail alone: both are in the job.
    const transportResolver: TransportResolver = (mail, { tenant }) => {
      const id = tenant ?? mail.metadata?.tenant;
      return id ? accounts[id] : undefined;
    };
    const producer = await bed.app(platform, { mode: 'producer' }, { transportResolver });
    const worker = await bed.app(platform, { mode: 'worker' }, { transportResolver });
    const sent: MailQueueSentEvent[] = [];
    worker.get(MailerQueue).events$.subscribe((e) => {
      if (e.type === MAIL_QUEUE_EVENTS.sent) sent.push(e);
    });

    const queue = producer.get(MailerQueue);
    await queue.enqueue({ to: 'ada@example.org', subject: 'For Acme', text: 'x' }, { tenant: 'acme' });
    await queue.enqueueBatch([
      { mail: { to: 'grace@example.org', subject: 'For Globex', text: 'x', metadata: { tenant: 'globex' } } },
      { mail: { to: 'linus@example.org', subject: 'For the platform', text: 'x' } },
    ]);
    await expect(queue.enqueue({ to: 'ada@example.org', text: 'x' }, { tenant: '' })).rejects.toThrow(/tenant must be a non-empty string/);

    const [toAcme] = await acme.waitFor(1);
    const [toGlobex] = await globex.waitFor(1);
    const [toPlatform] = await platform.waitFor(1);
    expect([toAcme!.user, toAcme!.parsed.subject]).toEqual(['acme', 'For Acme']);
    expect([toGlobex!.user, toGlobex!.parsed.subject]).toEqual(['globex', 'For Globex']);
    expect(toPlatform!.parsed.subject).toBe('For the platform');
    await until(() => sent.length === 3, 5_000, 'three sent events');
    expect(sent.map((e) => e.result.transport).sort()).toEqual(['acme', 'default', 'globex']);
  });
});

describe('a suppression scope on Redis', () => {
  it('keeps a tenant\'s entries under its own keys, through an outage too', async () => {
    const server = await OwnRedisServer.start({ persistent: true });
    onCleanup(() => server.stop());
    const platform = await smtpSink();
    const acme = await smtpSink({ rcpt: (address) => (address.startsWith('gone') ? { code: 550, message: `5.1.1 <${address}>: User unknown` } : undefined) });
    const moduleRef = await Test.createTestingModule({
      imports: [MailerModule.forRoot({
        transport: `${platform.url}?tlsMode=none`,
        defaults: { from: 'Platform <mail@platform.example>' },
        retry: false,
        suppression: { redis: { url: server.url }, circuit: { probeInterval: 50, maxProbeInterval: 200 } },
      })],
    }).compile();
    await moduleRef.init();
    onCleanup(() => moduleRef.close());
    const mailer = moduleRef.get(MailerService);
    const events: MailEvent[] = [];
    mailer.events$.subscribe((e) => events.push(e));
    mailer.addTransport('acme', `${acme.url}?tlsMode=none`, { suppressionScope: 'acme' });
    const admin = new Redis(server.url);
    // Its reconnection attempts while the server is down are expected.
    admin.on('error', () => undefined);
    onCleanup(() => void admin.disconnect());

    await expect(mailer.send({ to: 'gone1@example.org', text: 'x' }, { transport: 'acme' })).rejects.toBeInstanceOf(TransportError);
    expect(await admin.hkeys('mailroom:suppression:scope:acme:entries')).toEqual(['gone1@example.org']);
    expect(await admin.exists('mailroom:suppression:entries')).toBe(0);

    await server.kill();
    await expect(mailer.send({ to: 'gone2@example.org', text: 'x' }, { transport: 'acme' })).rejects.toBeInstanceOf(TransportError);
    // Held back for Acme from what the outage taught, and only for Acme.
    const held = await mailer.send({ to: 'gone2@example.org', text: 'x' }, { transport: 'acme' });
    expect(held.rejected).toMatchObject([{ address: 'gone2@example.org', classification: { reason: 'suppressed' } }]);
    expect((await mailer.send({ to: 'gone2@example.org', text: 'x' })).accepted).toEqual(['gone2@example.org']);

    await server.restart();
    await until(() => events.some((e) => e.type === SUPPRESSION_EVENTS.available), 15_000, 'suppression.available');
    expect((await admin.hkeys('mailroom:suppression:scope:acme:entries')).sort()).toEqual(['gone1@example.org', 'gone2@example.org']);
    expect(await admin.exists('mailroom:suppression:entries')).toBe(0);
    expect(platform.received.map((m) => m.envelope.to)).toEqual([['gone2@example.org']]);
  });
});
