import 'reflect-metadata';
import { Test } from '@nestjs/testing';
import { describe, expect, it } from 'vitest';
import { MailerModule, MailerService, TransportError, type Mail } from '../../../lib/index.js';
import { PostmarkTransport } from '../../../lib/transports/providers/index.js';
import { POSTMARK_TOKEN, PostmarkFake, outgoingMail } from '../../support/provider-fakes/index.js';
import { onCleanup } from '../../support/cleanup.js';

async function postmark(): Promise<PostmarkFake> {
  const fake = await new PostmarkFake().start();
  onCleanup(() => fake.stop());
  return fake;
}

async function boot(fake: PostmarkFake): Promise<MailerService> {
  const moduleRef = await Test.createTestingModule({
    imports: [MailerModule.forRoot({ transport: `postmark+api://${POSTMARK_TOKEN}@${new URL(fake.url).host}`, defaults: { from: 'shop@example.com' } })],
  }).compile();
  await moduleRef.init();
  onCleanup(() => moduleRef.close());
  return moduleRef.get(MailerService);
}

const mail = (to: Mail['to'], extra: Partial<Mail> = {}): Mail => ({ to, subject: 'Hi', text: 'Hello', ...extra });

describe('Postmark inactive recipients (422, ErrorCode 406) teach the suppression list', () => {
  it('the transport lists every inactive recipient of a refused single send in rejected', async () => {
    const fake = await postmark();
    fake.inactive.add('alice@example.com').add('bob@example.com');
    const transport = new PostmarkTransport({ serverToken: POSTMARK_TOKEN, baseUrl: fake.url });
    const error = await transport.send(outgoingMail()).catch((e: unknown) => e) as TransportError;
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({ failure: 'envelope', statusCode: 422, providerCode: '406' });
    expect(error.rejected?.map((r) => [r.address, r.replyCode, r.classification?.reason, r.classification?.action])).toEqual([
      ['alice@example.com', 422, 'suppressed', 'suppress'],
      ['bob@example.com', 422, 'suppressed', 'suppress'],
    ]);
  });

  it('a single send: the recipient is suppressed, and the next mail to it is not sent', async () => {
    const fake = await postmark();
    fake.inactive.add('ghost@example.org');
    const mailer = await boot(fake);
    const error = await mailer.send(mail('Ghost <Ghost@Example.org>')).catch((e: unknown) => e);
    expect(error).toMatchObject({ providerCode: '406' });
    expect(await mailer.suppressions!.get('ghost@example.org')).toMatchObject({ reason: 'suppressed', source: 'provider' });

    const requests = fake.requests.length;
    const again = await mailer.send(mail('ghost@example.org'));
    expect(fake.requests.length).toBe(requests);
    expect(again.accepted).toEqual([]);
    expect(again.rejected.map((r) => r.classification?.reason)).toEqual(['suppressed']);
  });

  it('a batch: the mail refused with 406 teaches its recipient, the others go out', async () => {
    const fake = await postmark();
    fake.inactive.add('ghost@example.org');
    const mailer = await boot(fake);
    const outcomes = await mailer.sendBatch([mail('ghost@example.org'), mail('ada@example.org')]);
    expect(outcomes.map((o) => o.ok)).toEqual([false, true]);
    expect(await mailer.suppressions!.get('ghost@example.org')).toMatchObject({ reason: 'suppressed', source: 'provider' });
    expect(await mailer.suppressions!.has('ada@example.org')).toBe(false);
  });

  it('some recipients inactive: the mail goes to the others and the inactive ones are suppressed, as before', async () => {
    const fake = await postmark();
    fake.inactive.add('ghost@example.org');
    const mailer = await boot(fake);
    const result = await mailer.send(mail(['ada@example.org', 'ghost@example.org']));
    expect(result.accepted).toEqual(['ada@example.org']);
    expect(await mailer.suppressions!.get('ghost@example.org')).toMatchObject({ reason: 'suppressed', source: 'provider' });
  });
});
