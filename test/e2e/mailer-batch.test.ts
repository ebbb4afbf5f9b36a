import 'reflect-metadata';
import { Test, type TestingModule } from '@nestjs/testing';
import { describe, expect, it } from 'vitest';
import {
  InvalidMailError, MailCancelledError, MailerConfigurationError, MailerModule, MailerService, TransportError,
  type MailEvent, type MailerModuleOptions,
} from '../../lib/index.js';
import { POSTMARK_TOKEN, PostmarkFake, PDF_BYTES } from '../support/provider-fakes/index.js';
import { onCleanup, smtpSink as sink } from '../support/cleanup.js';

async function boot(options: MailerModuleOptions): Promise<MailerService> {
  const moduleRef: TestingModule = await Test.createTestingModule({ imports: [MailerModule.forRoot(options)] }).compile();
  await moduleRef.init();
  onCleanup(() => moduleRef.close());
  return moduleRef.get(MailerService);
}

async function postmark(): Promise<PostmarkFake> {
  const fake = await new PostmarkFake().start();
  onCleanup(() => fake.stop());
  return fake;
}

function events(mailer: MailerService): MailEvent[] {
  const seen: MailEvent[] = [];
  mailer.events$.subscribe((e) => seen.push(e));
  return seen;
}

const from = 'Lumen <shop@example.com>';

describe('MailerService.sendBatch', () => {
  it("uses the transport's batch endpoint and reports per mail, in input order; a mail that fails validation fails alone", async () => {
    const fake = await postmark();
    const mailer = await boot({ transport: `postmark+api://${POSTMARK_TOKEN}@${new URL(fake.url).host}`, defaults: { from } });
    const seen = events(mailer);
    const outcomes = await mailer.sendBatch([
      { to: 'ada@example.org', subject: 'One', text: 'one' },
      { to: 'not an address', subject: 'Two', text: 'two' },
      { to: 'grace@example.org', subject: 'Three', html: '<p>three</p>', attachments: [{ filename: 'a.pdf', content: PDF_BYTES }] },
      { to: 'alan@example.org', subject: 'Line\r\nBcc: x@evil.test', text: 'injected' },
    ]);
    expect(outcomes.map((o) => o.ok)).toEqual([true, false, true, false]);
    expect(fake.requests.map((r) => r.path)).toEqual(['/email/batch']);
    expect((fake.requests[0]!.json as unknown[]).length).toBe(2);
    const [one, two, three, four] = outcomes;
    if (!one!.ok || !three!.ok || two!.ok || four!.ok) throw new Error('unexpected outcome shape');
    expect(one!.result).toMatchObject({ transport: 'default', accepted: ['ada@example.org'], attempts: [{ transport: 'default', ok: true }] });
    expect(three!.result.accepted).toEqual(['grace@example.org']);
    expect(two!.error).toBeInstanceOf(InvalidMailError);
    expect(four!.error).toBeInstanceOf(InvalidMailError);
    // The bad address and the header injection fail while composing: no listener sees either mail.
    expect(seen.filter((e) => e.type === 'mail.sending')).toHaveLength(2);
    expect(seen.filter((e) => e.type === 'mail.failed')).toHaveLength(0);
    expect(seen.filter((e) => e.type === 'mail.sent').map((e) => (e.type === 'mail.sent' ? e.result.messageId : ''))).toEqual([one!.result.messageId, three!.result.messageId]);
  });

  it('reports refused mails per mail and publishes mail.failed for each', async () => {
    const fake = await postmark();
    fake.inactive.add('ghost@example.org');
    const mailer = await boot({ transport: `postmark+api://${POSTMARK_TOKEN}@${new URL(fake.url).host}`, defaults: { from } });
    const seen = events(mailer);
    const outcomes = await mailer.sendBatch([
      { to: 'ghost@example.org', subject: 'A', text: 'a' },
      { to: 'ada@example.org', subject: 'B', text: 'b' },
    ]);
    expect(outcomes[0]).toMatchObject({ ok: false, error: { providerCode: '406' } });
    expect(outcomes[0]!.ok || outcomes[0]!.error).toBeInstanceOf(TransportError);
    expect(outcomes[1]!.ok).toBe(true);
    expect(seen.filter((e) => e.type === 'mail.failed')).toHaveLength(1);
    expect(seen.filter((e) => e.type === 'mail.sent')).toHaveLength(1);
  });

  it('sends one by one, with bounded concurrency, through a transport without sendBatch', async () => {
    const s = await sink();
    const mailer = await boot({ transport: `${s.url}?tlsMode=none`, defaults: { from } });
    const mails = Array.from({ length: 12 }, (_, i) => ({ to: `user${i}@example.org`, subject: `Mail ${i}`, text: `body ${i}` }));
    const outcomes = await mailer.sendBatch(mails, { concurrency: 3 });
    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(outcomes.map((o) => (o.ok ? o.result.accepted[0] : ''))).toEqual(mails.map((m) => m.to));
    await s.waitFor(12);
  });

  it('a mail cancelled by a mail.sending subscriber fails alone', async () => {
    const mailer = await boot({ transport: 'memory://', defaults: { from } });
    mailer.events$.subscribe((e) => {
      if (e.type === 'mail.sending' && e.mail.subject === 'Drop me') e.cancel('staging');
    });
    const outcomes = await mailer.sendBatch([{ to: 'a@example.org', subject: 'Keep', text: 'x' }, { to: 'b@example.org', subject: 'Drop me', text: 'y' }]);
    expect(outcomes[0]!.ok).toBe(true);
    expect(outcomes[1]).toMatchObject({ ok: false });
    expect(outcomes[1]!.ok || outcomes[1]!.error).toBeInstanceOf(MailCancelledError);
  });

  it('fails over per mail and names the transport that delivered each', async () => {
    const fake = await postmark();
    const mailer = await boot({
      transport: `failover(postmark+api://${POSTMARK_TOKEN}@${new URL(fake.url).host} memory://)`,
      defaults: { from },
    });
    fake.failNext({ status: 500, body: { ErrorCode: 100, Message: 'Postmark is down for maintenance.' } });
    const outcomes = await mailer.sendBatch([{ to: 'a@example.org', subject: 'A', text: 'a' }, { to: 'b@example.org', subject: 'B', text: 'b' }]);
    for (const o of outcomes) {
      if (!o.ok) throw o.error;
      expect(o.result.transport).toBe('default[1]');
      expect(o.result.attempts.map((a) => [a.transport, a.ok])).toEqual([['default[0]', false], ['default[1]', true]]);
    }
    // send() fills transport and attempts the same way.
    fake.failNext({ status: 503, body: 'Service Unavailable' });
    const single = await mailer.send({ to: 'c@example.org', subject: 'C', text: 'c' });
    expect(single.transport).toBe('default[1]');
  });

  it('an unknown transport name or a non-array rejects the whole call', async () => {
    const mailer = await boot({ transport: 'memory://', defaults: { from } });
    await expect(mailer.sendBatch([{ to: 'a@example.org', subject: 'A', text: 'a' }], { transport: 'nope' })).rejects.toBeInstanceOf(MailerConfigurationError);
    await expect(mailer.sendBatch('x' as never)).rejects.toBeInstanceOf(InvalidMailError);
    await expect(mailer.sendBatch([])).resolves.toEqual([]);
  });

  it('a bound mailer sends batches through its transport', async () => {
    const mailer = await boot({ transports: { default: 'memory://', bulk: 'memory://' }, defaults: { from } });
    const outcomes = await mailer.use('bulk').sendBatch([{ to: 'a@example.org', subject: 'A', text: 'a' }]);
    expect(outcomes[0]).toMatchObject({ ok: true, result: { transport: 'bulk' } });
    expect(mailer.getTransport<import('../../lib/index.js').MemoryTransport>('bulk').sent).toHaveLength(1);
    expect(mailer.getTransport<import('../../lib/index.js').MemoryTransport>('default').sent).toHaveLength(0);
  });
});
