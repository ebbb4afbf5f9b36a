import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { AppModule } from '../../sample-app/src/app.module.js';

const apps: INestApplication[] = [];
const saved = { METRICS: process.env.METRICS, MAILER_URL: process.env.MAILER_URL };
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});

async function start(): Promise<INestApplication> {
  delete process.env.MAILER_URL;
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  apps.push(app);
  return app;
}

describe('sample app metrics', () => {
  it('METRICS=prometheus: GET /metrics shows the mails sent, by transport and provider, and the send durations', async () => {
    process.env.METRICS = 'prometheus';
    const app = await start();
    await request(app.getHttpServer()).post('/orders/1001/receipt').expect(202);
    await request(app.getHttpServer()).post('/orders/1002/receipt').expect(202);
    const scrape = await request(app.getHttpServer()).get('/metrics').expect(200);
    expect(scrape.headers['content-type']).toMatch(/^text\/plain/);
    const text = scrape.text;
    const sent = text.split('\n').find((line) => line.startsWith('mailroom_mail_sent') && !line.startsWith('#'));
    expect(sent).toMatch(/mailroom_transport="default"/);
    expect(sent).toMatch(/mailroom_provider="smtp"/);
    expect(sent).toMatch(/ 2$/);
    expect(text).toMatch(/^# TYPE mailroom_send_duration\w* histogram$/m);
    expect(text).toMatch(/^mailroom_send_duration\w*_count\{[^}]*mailroom_outcome="sent"[^}]*\} 2$/m);
    expect(text).not.toContain('@');
  });

  it('without METRICS, /metrics is not there', async () => {
    delete process.env.METRICS;
    const app = await start();
    await request(app.getHttpServer()).get('/metrics').expect(404);
  });
});
