import 'reflect-metadata';
import { trace } from '@opentelemetry/api';
import { Test } from '@nestjs/testing';
import { describe, expect, it } from 'vitest';
import { MailerModule, MailerService } from '../../../lib/index.js';
import { onCleanup, smtpSink as sink } from '../../support/cleanup.js';

/*
 * @opentelemetry/api installed, no SDK registered (this file registers none): sends behave as
 * without telemetry and no recording span is ever active during them.
 */
describe('telemetry with the API and no SDK', () => {
  it('sends, retries and fails as usual; what a listener sees has no recording span', async () => {
    const s = await sink({ rcpt: (address) => (address.startsWith('gone') ? { code: 550, message: '5.1.1 User unknown' } : undefined) });
    const moduleRef = await Test.createTestingModule({
      imports: [MailerModule.forRoot({ transport: `${s.url}?tlsMode=none`, defaults: { from: 'shop@example.com' } })],
    }).compile();
    moduleRef.useLogger(false);
    await moduleRef.init();
    onCleanup(() => moduleRef.close());
    const mailer = moduleRef.get(MailerService);
    const seen: boolean[] = [];
    mailer.events$.subscribe(() => seen.push(trace.getActiveSpan()?.isRecording() ?? false));
    const result = await mailer.send({ to: 'ada@example.org', subject: 'Hi', text: 'x' });
    expect(result.accepted).toEqual(['ada@example.org']);
    await expect(mailer.send({ to: 'gone@example.org', subject: 'Hi', text: 'x' })).rejects.toMatchObject({ code: 'MAILER_TRANSPORT' });
    expect(seen.length).toBeGreaterThanOrEqual(4);
    expect(seen.every((recording) => !recording)).toBe(true);
    expect(await s.waitFor(1)).toHaveLength(1);
  });
});
