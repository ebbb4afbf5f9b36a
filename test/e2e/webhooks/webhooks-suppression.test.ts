import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { MailerModule, MailerService, MailerWebhooksModule } from '../../../lib/index.js';

const credentials = { username: 'hooks', password: 'w3bh00k-secret' };
const auth = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
const fixture = (name: string) => readFileSync(new URL(`../../fixtures/webhooks/postmark/${name}.json`, import.meta.url), 'utf8');

const apps: INestApplication[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

async function start(suppress?: boolean): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      MailerModule.forRoot({ transport: 'memory://', defaults: { from: 'shop@example.com' } }),
      MailerWebhooksModule.forRoot({ providers: { postmark: credentials }, suppress }),
    ],
  }).compile();
  const app = moduleRef.createNestApplication({ rawBody: true, logger: false });
  await app.init();
  apps.push(app);
  return app;
}

describe('webhooks feed the suppression list', () => {
  it.each([['a hard bounce', 'bounce'], ['a spam complaint', 'spam-complaint']])('%s suppresses the address for later sends', async (_what, name) => {
    const app = await start();
    await request(app.getHttpServer()).post('/webhooks/mail/postmark').set('content-type', 'application/json').set('authorization', auth)
      .send(fixture(name)).expect(200);
    const mailer = app.get(MailerService);
    const result = await mailer.send({ to: ['alice@example.com', 'bob@example.com'], text: 'x' });
    expect(result.accepted).toEqual(['bob@example.com']);
    expect(result.rejected.map((r) => [r.address, r.classification?.reason])).toEqual([['alice@example.com', 'suppressed']]);
    expect((await mailer.suppressions!.get('alice@example.com'))?.source).toBe('webhook');
  });

  it('a soft bounce, a forged request or suppress: false add nothing', async () => {
    const app = await start();
    await request(app.getHttpServer()).post('/webhooks/mail/postmark').set('content-type', 'application/json').set('authorization', auth)
      .send(fixture('soft-bounce')).expect(200);
    await request(app.getHttpServer()).post('/webhooks/mail/postmark').set('content-type', 'application/json')
      .set('authorization', `Basic ${Buffer.from('hooks:guess').toString('base64')}`).send(fixture('bounce')).expect(401);
    expect(await app.get(MailerService).suppressions!.count()).toBe(0);

    const off = await start(false);
    await request(off.getHttpServer()).post('/webhooks/mail/postmark').set('content-type', 'application/json').set('authorization', auth)
      .send(fixture('bounce')).expect(200);
    expect(await off.get(MailerService).suppressions!.count()).toBe(0);
  });
});
