import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import type { INestApplication } from '@nestjs/common';
import { SpanStatusCode } from '@opentelemetry/api';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MailerModule, MailerService, MailerWebhooksModule } from '../../../lib/index.js';
import { collect, everyAttributeValue, registerOtel, type OtelHarness } from '../../support/otel.js';

/* Webhook deliveries over HTTP and bounce mails parsed, as spans and counters. */

const credentials = { username: 'hooks', password: 'w3bh00k-secret' };
const auth = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
const fixture = (name: string) => readFileSync(new URL(`../../fixtures/webhooks/postmark/${name}.json`, import.meta.url), 'utf8');

let otel: OtelHarness;
let app: INestApplication;

beforeAll(async () => {
  otel = registerOtel();
  const moduleRef = await Test.createTestingModule({
    imports: [
      MailerModule.forRoot({ transport: 'memory://', defaults: { from: 'shop@example.com' } }),
      MailerWebhooksModule.forRoot({ providers: { postmark: credentials } }),
    ],
  }).compile();
  app = moduleRef.createNestApplication({ rawBody: true, logger: false });
  await app.init();
});

afterAll(async () => {
  await app?.close();
  await otel.shutdown();
});

const post = (name: string, authorization = auth) => request(app.getHttpServer()).post('/webhooks/mail/postmark')
  .set('content-type', 'application/json').set('authorization', authorization).send(fixture(name));

describe('webhook telemetry', () => {
  it('a span per delivery, events counted by provider and type, refused requests counted by reason', async () => {
    await post('bounce').expect(200);
    await post('delivery').expect(200);
    await post('spam-complaint').expect(200);
    await post('bounce', `Basic ${Buffer.from('hooks:guess').toString('base64')}`).expect(401);

    const spans = otel.spans().filter((s) => s.name === 'mail.webhook');
    expect(spans.map((s) => s.attributes['mailroom.webhook.outcome'])).toEqual(['accepted', 'accepted', 'accepted', 'unauthorized']);
    expect(spans.every((s) => s.attributes['mailroom.provider'] === 'postmark')).toBe(true);
    expect(spans[3]!.attributes['mailroom.webhook.reason']).toBe('mismatch');

    await collect(otel);
    const events = (type: string) => otel.count('mailroom.webhook.events', { 'mailroom.provider': 'postmark', 'mailroom.event.type': type });
    expect([events('bounced'), events('delivered'), events('complained')]).toEqual([1, 1, 1]);
    expect(otel.count('mailroom.webhook.events', { 'mailroom.event.type': 'bounced', 'mailroom.classification.bounce': 'hard' })).toBe(1);
    expect(otel.count('mailroom.webhook.signature_failures', { 'mailroom.provider': 'postmark', 'mailroom.webhook.reason': 'mismatch' })).toBe(1);
    expect(everyAttributeValue(spans).some((v) => v.includes('@'))).toBe(false);
  });

  it('a bounce mail parsed: a span with what it found, recipients counted by reason', async () => {
    const raw = readFileSync(new URL('../../fixtures/bounces/exim.eml', import.meta.url));
    const results = await app.get(MailerService).handleBounce(raw);
    expect(results.length).toBeGreaterThan(0);
    const span = otel.spans().filter((s) => s.name === 'mail.bounce.parse').at(-1)!;
    expect(span.status.code).not.toBe(SpanStatusCode.ERROR);
    expect(span.attributes['mailroom.bounce.results']).toBe(results.length);
    expect(span.attributes['mailroom.classification.reason']).toEqual([...new Set(results.map((r) => r.classification.reason))].sort());
    await collect(otel);
    const reason = results[0]!.classification.reason;
    expect(otel.count('mailroom.bounces', { 'mailroom.classification.reason': reason })).toBe(results.filter((r) => r.classification.reason === reason).length);
  });
});
