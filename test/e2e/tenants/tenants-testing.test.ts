import 'reflect-metadata';
import { Test } from '@nestjs/testing';
import { describe, expect, it } from 'vitest';
import {
  MailerModule, MailerQueue, MailerQueueModule, MailerService, TransportError, type ResolvedTransport,
} from 'nestjs-mailroom';
import { Mailbox, MailerTestingModule } from 'nestjs-mailroom/testing';
import { onCleanup, smtpSink } from '../../support/cleanup.js';

/*
 * Under MailerTestingModule, transports added at run time and those a resolver opens are captured
 * like the configured ones: their configuration is still checked, and no connection is opened.
 */

const NO_REDIS = { url: 'redis://127.0.0.1:1' };

describe('tenants under MailerTestingModule', () => {
  it('captures mail of added and resolver-opened transports, queued mail included, and opens nothing', async () => {
    const acme = await smtpSink({ auth: { user: 'acme', pass: 'acme-secret' } });
    const globex = await smtpSink({ auth: { user: 'globex', pass: 'globex-secret' } });
    const tenants: Record<string, ResolvedTransport> = {
      globex: { name: 'globex', transport: `smtp://globex:globex-secret@127.0.0.1:${globex.port}?tlsMode=none`, suppressionScope: 'globex' },
    };
    const moduleRef = await Test.createTestingModule({
      imports: [
        MailerModule.forRoot({
          transport: 'smtp://smtp.platform.example:587',
          defaults: { from: 'Platform <mail@platform.example>' },
          transportResolver: (_mail, { tenant }) => (tenant ? tenants[tenant] : undefined),
        }),
        MailerQueueModule.forRoot({ connection: NO_REDIS }),
        MailerTestingModule,
      ],
    }).compile();
    await moduleRef.init();
    onCleanup(() => moduleRef.close());
    const mailer = moduleRef.get(MailerService);
    const mailbox = moduleRef.get(Mailbox);

    mailer.addTransport('acme', `smtp://acme:acme-secret@127.0.0.1:${acme.port}?tlsMode=none`);
    expect(() => mailer.addTransport('initech', 'smtps://u:p@smtp.initech.example:587')).toThrow(/smtps:\/\/ on port 587|port 587/);

    await mailer.send({ to: 'ada@example.org', subject: 'From Acme', text: 'x' }, { transport: 'acme' });
    await mailer.send({ to: 'grace@example.org', subject: 'From Globex', text: 'x' }, { tenant: 'globex' });
    await moduleRef.get(MailerQueue).enqueue({ to: 'linus@example.org', subject: 'Queued for Globex', text: 'x' }, { tenant: 'globex' });
    await mailbox.waitFor({ subject: 'Queued for Globex' });

    expect(mailbox.mails.map((m) => [m.subject, m.transport, m.kind])).toEqual([
      ['From Acme', 'acme', 'smtp'],
      ['From Globex', 'globex', 'smtp'],
      ['Queued for Globex', 'globex', 'smtp'],
    ]);
    mailbox.expectSent({ transport: 'globex', to: 'linus@example.org' });

    // Simulated failures meet the tenant's transport and its suppression scope as real ones would.
    mailbox.failNext({ transport: 'globex' }, '550 5.1.1 <gone@example.org>: User unknown');
    await expect(mailer.send({ to: 'gone@example.org', subject: 'Lost', text: 'x' }, { tenant: 'globex' })).rejects.toBeInstanceOf(TransportError);
    expect(await mailer.suppressionsFor('globex').has('gone@example.org')).toBe(true);
    expect(await mailer.suppressions!.has('gone@example.org')).toBe(false);

    expect(acme.connections).toEqual([]);
    expect(globex.connections).toEqual([]);
  });
});
