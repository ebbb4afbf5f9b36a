import 'reflect-metadata';
import { Test } from '@nestjs/testing';
import { describe, expect, it } from 'vitest';
import {
  InvalidMailError, MAIL_QUEUE_EVENTS, MailerConfigurationError, MailerModule, MailerQueue, MailerQueueModule,
  type MailerQueueModuleOptions, type MailQueueEvent,
} from 'nestjs-mailroom';
import { Mailbox, MailerTestingModule } from 'nestjs-mailroom/testing';
import { onCleanup, smtpSink } from '../../support/cleanup.js';
import { TEMPLATES } from './testing-support.js';

// Nothing listens on port 1: a queue that tried Redis would fail to start.
const NO_REDIS = { url: 'redis://127.0.0.1:1' };

async function queueApp(transport: string, queue: Partial<MailerQueueModuleOptions> = {}) {
  const moduleRef = await Test.createTestingModule({
    imports: [
      MailerModule.forRoot({ transport, defaults: { from: 'Shop <shop@example.com>' }, templates: { dir: TEMPLATES } }),
      MailerQueueModule.forRoot({ connection: NO_REDIS, ...queue }),
      MailerTestingModule,
    ],
  }).compile();
  await moduleRef.init();
  onCleanup(() => moduleRef.close());
  const queueService = moduleRef.get(MailerQueue);
  const events: MailQueueEvent[] = [];
  queueService.events$.subscribe((event) => events.push(event));
  return { moduleRef, queue: queueService, mailbox: moduleRef.get(Mailbox), events };
}

describe('MailerQueueModule under MailerTestingModule', () => {
  it('sends an enqueued mail through the pipeline into the mailbox, without Redis or a connection', async () => {
    const sink = await smtpSink();
    const { queue, mailbox, events } = await queueApp(`${sink.url}?tlsMode=none`);
    expect(queue).toBeInstanceOf(MailerQueue);

    const job = await queue.enqueue({ to: 'ada@example.org', template: 'welcome', subject: 'Welcome', context: { name: 'Ada' } }, { delay: 60_000 });
    const mail = await mailbox.waitFor({ to: 'ada@example.org', template: 'welcome', context: { name: 'Ada' } });

    // Enqueued without `from`: the Message-ID is derived from the job, on the default sender's domain.
    expect(job.messageId).toBeUndefined();
    expect(mail.messageId).toMatch(/^<[0-9a-f]{32}@example\.com>$/);
    expect(mail.html).toContain('Welcome, Ada!');
    // Closing waits for the job in progress, as a worker's shutdown does.
    await queue.close();
    expect(events.map((e) => [e.type, e.jobId])).toEqual([[MAIL_QUEUE_EVENTS.queued, job.jobId], [MAIL_QUEUE_EVENTS.sent, job.jobId]]);
    expect(events[0]).toMatchObject({ delay: 60_000 });
    expect(sink.connections).toEqual([]);
  });

  it("retries a job as the queue's retry options say, then fails it for good", async () => {
    const { queue, mailbox, events } = await queueApp('smtp://smtp.example.com:587', { retry: { limit: 1 } });
    mailbox.failNext('421 4.7.0 Try again later');
    const first = await queue.enqueue({ to: 'ada@example.org', subject: 'Retried', text: 'x' });
    await mailbox.waitFor({ subject: 'Retried' });

    mailbox.failNext({ subject: 'Given up' }, '421 4.7.0 Try again later').failNext({ subject: 'Given up' }, '421 4.7.0 Try again later');
    const second = await queue.enqueue({ to: 'ada@example.org', subject: 'Given up', text: 'x' });
    mailbox.failNext({ subject: 'Refused' }, '550 5.1.1 User unknown');
    const third = await queue.enqueue({ to: 'gone@example.org', subject: 'Refused', text: 'x' });
    await queue.close();

    const outcome = (jobId: string) => events.filter((e) => e.jobId === jobId && e.type !== MAIL_QUEUE_EVENTS.queued)
      .map((e) => (e.type === MAIL_QUEUE_EVENTS.failed ? `failed ${e.attempt}${e.final ? ' final' : ''}` : `sent ${e.type === MAIL_QUEUE_EVENTS.sent ? e.attempt : ''}`));
    expect(outcome(first.jobId)).toEqual(['failed 1', 'sent 2']);
    expect(outcome(second.jobId)).toEqual(['failed 1', 'failed 2 final']);
    expect(outcome(third.jobId)).toEqual(['failed 1 final']);
    mailbox.expectCount(1);
  });

  it('keeps the checks of the real queue: job options, idempotent job ids, mails that cannot travel', async () => {
    const { queue, mailbox } = await queueApp('memory://');
    await expect(queue.enqueue({ to: 'ada@example.org', text: 'x' }, { priority: 0 })).rejects.toBeInstanceOf(InvalidMailError);
    await expect(queue.enqueue({ to: 'ada@example.org', text: 'x', context: { run: () => 1 } })).rejects.toThrow(/a function/);
    const once = await queue.enqueue({ to: 'ada@example.org', subject: 'Once', text: 'x' }, { jobId: 'welcome-ada' });
    const twice = await queue.enqueue({ to: 'ada@example.org', subject: 'Once', text: 'x' }, { jobId: 'welcome-ada' });
    expect([once.duplicate, twice.duplicate]).toEqual([false, true]);
    const batch = await queue.enqueueBatch([{ to: 'a@example.org', text: 'a' }, { mail: { to: 'b@example.org', text: 'b' }, jobId: 'b-mail' }]);
    expect(batch.map((r) => r.duplicate)).toEqual([false, false]);
    await queue.close();
    mailbox.expectCount(3);
  });

  it('refuses enqueue() in worker mode, as the real queue does', async () => {
    const { queue } = await queueApp('memory://', { mode: 'worker' });
    await expect(queue.enqueue({ to: 'ada@example.org', text: 'x' })).rejects.toBeInstanceOf(MailerConfigurationError);
  });

  it('keeps the jobs of a producer-only application waiting, as Redis would for another process', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [MailerQueueModule.forRoot({ connection: NO_REDIS, mode: 'producer' }), MailerTestingModule],
    }).compile();
    await moduleRef.init();
    onCleanup(() => moduleRef.close());
    const queue = moduleRef.get(MailerQueue);
    await queue.enqueue({ from: 'shop@example.com', to: 'ada@example.org', text: 'x' });
    expect(await queue.getJobCounts()).toMatchObject({ waiting: 1, active: 0, completed: 0 });
    moduleRef.get(Mailbox).expectNotSent();
  });
});
