import 'reflect-metadata';
import { randomBytes, randomInt } from 'node:crypto';
import { Global, Injectable, Module, type INestApplication } from '@nestjs/common';
import { EventEmitter2, EventEmitterModule } from '@nestjs/event-emitter';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  MAILER_DELIVERY_SINKS,
  MailerConfigurationError,
  MailerWebhooksModule,
  MailerWebhooksService,
  type DeliveryEvent,
  type DeliveryEventSink,
  type MailerWebhooksModuleOptions,
} from '../../../lib/index.js';
import {
  basicAuth,
  flipByte,
  mailgunSign,
  readFixture,
  resendSecret,
  resendSign,
  sendGridSigner,
  snsNotification,
  snsSigner,
  snsSubscriptionConfirmation,
  SNS_TOPIC,
} from '../../unit/webhooks/webhook-signers.js';

const MINUTES = 60_000;

const sendgrid = sendGridSigner();
const mailgunKey = 'key-e2e-0123456789abcdef';
const resendKey = resendSecret();
const sns = snsSigner();
const postmark = { username: 'postmark', password: 'e2e-secret' };
const confirmed: string[] = [];

function providers(): MailerWebhooksModuleOptions['providers'] {
  return {
    sendgrid: { publicKey: sendgrid.publicKey },
    mailgun: { signingKey: mailgunKey },
    resend: { secret: resendKey },
    ses: {
      region: 'eu-west-1',
      topicArn: SNS_TOPIC,
      autoConfirm: true,
      fetchCertificate: sns.fetchCertificate,
      confirmSubscription: async (url) => {
        confirmed.push(url.href);
      },
    },
    postmark,
  };
}

class RecordingSink implements DeliveryEventSink {
  readonly events: DeliveryEvent[] = [];
  fail = false;
  async record(event: DeliveryEvent): Promise<void> {
    if (this.fail) throw new Error('store unavailable');
    this.events.push(event);
  }
}

interface Harness {
  app: INestApplication;
  sink: RecordingSink;
  streamed: DeliveryEvent[];
  emitted: Array<{ name: string; event: DeliveryEvent }>;
}

async function boot(imports: unknown[], sink: RecordingSink, rawBody = true): Promise<Harness> {
  const moduleRef = await Test.createTestingModule({ imports: [EventEmitterModule.forRoot(), ...(imports as never[])] }).compile();
  const app = moduleRef.createNestApplication({ rawBody, logger: false });
  await app.init();
  const streamed: DeliveryEvent[] = [];
  app.get(MailerWebhooksService).events$.subscribe((e) => streamed.push(e));
  const emitted: Harness['emitted'] = [];
  app.get(EventEmitter2).onAny((name, event) => {
    if (String(name).startsWith('mail.delivery.')) emitted.push({ name: String(name), event: event as DeliveryEvent });
  });
  return { app, sink, streamed, emitted };
}

/** A signed request per provider, with a way to forge it. */
interface Signed {
  body: string;
  headers: Record<string, string>;
}

/** A new id, so that each delivery a test makes is one the endpoint has not seen. */
const freshId = () => randomBytes(8).toString('hex');

function signed(provider: string, now = Date.now()): Signed {
  switch (provider) {
    case 'sendgrid': {
      const events = (readFixture('sendgrid', 'bounce') as Array<Record<string, unknown>>).map((e) => ({ ...e, sg_event_id: freshId() }));
      const body = JSON.stringify(events);
      return { body, headers: sendgrid.sign(body, now) };
    }
    case 'mailgun': {
      const payload = readFixture('mailgun', 'failed-permanent') as { 'event-data': Record<string, unknown> };
      const fresh = { ...payload, 'event-data': { ...payload['event-data'], id: freshId() } };
      return { body: mailgunSign(fresh, mailgunKey, now), headers: { 'content-type': 'application/json' } };
    }
    case 'resend': {
      const body = JSON.stringify(readFixture('resend', 'suppressed'));
      return { body, headers: resendSign(body, resendKey, now) };
    }
    case 'ses': {
      const notification = JSON.parse((readFixture('ses', 'bounce') as { Message: string }).Message) as unknown;
      const body = JSON.stringify(sns.sign(snsNotification(notification, now)));
      // SNS posts its JSON as text/plain.
      return { body, headers: { 'content-type': 'text/plain; charset=UTF-8', 'x-amz-sns-message-type': 'Notification' } };
    }
    case 'postmark': {
      const body = JSON.stringify({ ...(readFixture('postmark', 'bounce') as object), ID: randomInt(1, 2 ** 47) });
      return { body, headers: { 'content-type': 'application/json', ...basicAuth(postmark.username, postmark.password) } };
    }
    default:
      throw new Error(provider);
  }
}

function post(app: INestApplication, path: string, req: Signed) {
  let r = request(app.getHttpServer()).post(path);
  for (const [k, v] of Object.entries(req.headers)) r = r.set(k, v);
  return r.send(req.body);
}

const PROVIDERS = ['sendgrid', 'mailgun', 'resend', 'ses', 'postmark'] as const;
const RECIPIENT: Record<string, string> = {
  sendgrid: 'alex@example.com', mailgun: 'alice@example.com', resend: 'alice@example.com', ses: 'alice@example.com', postmark: 'alice@example.com',
};

describe('MailerWebhooksModule over HTTP', () => {
  let h: Harness;
  beforeAll(async () => {
    const sink = new RecordingSink();
    h = await boot([MailerWebhooksModule.forRoot({ providers: providers(), sinks: [sink] })], sink);
  });
  afterAll(async () => {
    await h.app.close();
  });
  beforeEach(() => {
    h.sink.events.length = 0;
    h.sink.fail = false;
    h.streamed.length = 0;
    h.emitted.length = 0;
  });

  describe.each(PROVIDERS)('%s', (provider) => {
    const path = `/webhooks/mail/${provider}`;

    it('a signed request: 200, the event reaches the sink, events$ and the event emitter', async () => {
      const res = await post(h.app, path, signed(provider)).expect(200);
      expect(res.body).toEqual({ received: 1 });
      expect(h.sink.events).toHaveLength(1);
      const event = h.sink.events[0]!;
      expect(event).toMatchObject({ provider, recipient: RECIPIENT[provider] });
      expect(['bounced', 'rejected']).toContain(event.type);
      expect(event.classification?.action).toBe('suppress');
      expect(h.streamed).toEqual([event]);
      expect(h.emitted).toEqual([{ name: `mail.delivery.${event.type}`, event }]);
    });

    it('a forged request (one byte changed): 401 and nothing happens', async () => {
      const req = signed(provider);
      let forged: Signed;
      if (provider === 'postmark') {
        forged = { ...req, headers: { ...req.headers, ...basicAuth(postmark.username, flipByte(postmark.password)) } };
      } else if (provider === 'mailgun') {
        // Mailgun signs timestamp + token only; change a byte of the token.
        const body = JSON.parse(req.body) as { signature: { token: string } };
        body.signature.token = flipByte(body.signature.token);
        forged = { ...req, body: JSON.stringify(body) };
      } else {
        forged = { ...req, body: flipByte(req.body, req.body.indexOf('@') - 1) };
      }
      const res = await post(h.app, path, forged).expect(401);
      expect(res.body.message).toMatch(/verification failed/);
      expect(h.sink.events).toEqual([]);
      expect(h.streamed).toEqual([]);
      expect(h.emitted).toEqual([]);
    });

    it('a request without its signature: 401 and nothing happens', async () => {
      const req = signed(provider);
      let bare: Signed;
      if (provider === 'mailgun') {
        const { signature: _s, ...rest } = JSON.parse(req.body) as Record<string, unknown>;
        bare = { body: JSON.stringify(rest), headers: req.headers };
      } else if (provider === 'ses') {
        const { Signature: _s, ...rest } = JSON.parse(req.body) as Record<string, unknown>;
        bare = { body: JSON.stringify(rest), headers: req.headers };
      } else {
        bare = { body: req.body, headers: { 'content-type': 'application/json' } };
      }
      await post(h.app, path, bare).expect(401);
      expect(h.sink.events).toEqual([]);
      expect(h.emitted).toEqual([]);
    });

    if (provider !== 'postmark') {
      it('a stale request, correctly signed: 401 and nothing happens', async () => {
        await post(h.app, path, signed(provider, Date.now() - 10 * MINUTES)).expect(401);
        expect(h.sink.events).toEqual([]);
        expect(h.streamed).toEqual([]);
      });
    }
  });

  it('a body that verifies but is not the provider’s payload: 400, nothing emitted', async () => {
    const body = JSON.stringify({ hello: 'world' });
    const res = await post(h.app, '/webhooks/mail/resend', { body, headers: resendSign(body, resendKey) }).expect(400);
    expect(res.body.message).toMatch(/type/);
    expect(h.streamed).toEqual([]);
  });

  it('the same delivery twice (a provider retry): accepted once, published once', async () => {
    const req = signed('resend');
    await post(h.app, '/webhooks/mail/resend', req).expect(200, { received: 1 });
    await post(h.app, '/webhooks/mail/resend', req).expect(200, { received: 0, duplicate: true });
    expect(h.streamed).toHaveLength(1);
  });

  it('Mailgun: a captured signature reused with another body changes nothing', async () => {
    const req = signed('mailgun');
    await post(h.app, '/webhooks/mail/mailgun', req).expect(200, { received: 1 });
    // Another event, with an id of its own: only the signature's token ties it to the first request.
    const body = JSON.parse(req.body.replace('alice@example.com', 'victim@example.com')) as { 'event-data': { id: string } };
    body['event-data'].id = freshId();
    const altered = { ...req, body: JSON.stringify(body) };
    await post(h.app, '/webhooks/mail/mailgun', altered).expect(200, { received: 0, duplicate: true });
    expect(h.sink.events.map((e) => e.recipient)).toEqual(['alice@example.com']);
  });

  it('a failing sink: 500 so the provider delivers again, nothing published', async () => {
    h.sink.fail = true;
    await post(h.app, '/webhooks/mail/postmark', signed('postmark')).expect(500);
    expect(h.streamed).toEqual([]);
    expect(h.emitted).toEqual([]);
    h.sink.fail = false;
    await post(h.app, '/webhooks/mail/postmark', signed('postmark')).expect(200);
    expect(h.streamed).toHaveLength(1);
  });

  it('SendGrid batches: one event per entry', async () => {
    const body = JSON.stringify(readFixture('sendgrid', 'batch'));
    await post(h.app, '/webhooks/mail/sendgrid', { body, headers: sendgrid.sign(body) }).expect(200, { received: 6 });
    expect(h.emitted.map((e) => e.name)).toEqual([
      'mail.delivery.sent', 'mail.delivery.opened', 'mail.delivery.clicked', 'mail.delivery.rejected', 'mail.delivery.unsubscribed', 'mail.delivery.bounced',
    ]);
  });

  it('an SNS subscription confirmation is verified, then confirmed', async () => {
    confirmed.length = 0;
    const message = sns.sign(snsSubscriptionConfirmation());
    const res = await post(h.app, '/webhooks/mail/ses', { body: JSON.stringify(message), headers: { 'content-type': 'text/plain; charset=UTF-8' } }).expect(200);
    expect(res.body).toEqual({ received: 0, subscription: 'confirmed' });
    expect(confirmed).toEqual([message.SubscribeURL]);

    const forged = { ...sns.sign(snsSubscriptionConfirmation()), Token: 'forged' };
    await post(h.app, '/webhooks/mail/ses', { body: JSON.stringify(forged), headers: { 'content-type': 'text/plain' } }).expect(401);
    expect(confirmed).toHaveLength(1);
  });

  it('SES JSON posted as application/json works too', async () => {
    const req = signed('ses');
    await post(h.app, '/webhooks/mail/ses', { ...req, headers: { 'content-type': 'application/json' } }).expect(200, { received: 1 });
  });

  it('unknown providers are 404', async () => {
    await request(h.app.getHttpServer()).post('/webhooks/mail/brevo').send({}).expect(404);
  });
});

describe('configuration', () => {
  const apps: INestApplication[] = [];
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
  });

  it('forRootAsync with a custom path, and sinks bound to MAILER_DELIVERY_SINKS', async () => {
    const bound = new RecordingSink();
    @Global()
    @Module({ providers: [{ provide: MAILER_DELIVERY_SINKS, useValue: bound }], exports: [MAILER_DELIVERY_SINKS] })
    class SinkModule {}
    const CONFIG = Symbol('config');
    @Module({ providers: [{ provide: CONFIG, useValue: postmark }], exports: [CONFIG] })
    class ConfigModule {}
    const h = await boot([
      SinkModule,
      MailerWebhooksModule.forRootAsync({
        path: '/hooks/email/',
        imports: [ConfigModule],
        inject: [CONFIG],
        useFactory: (credentials: typeof postmark) => ({ providers: { postmark: credentials } }),
      }),
    ], bound);
    apps.push(h.app);
    await post(h.app, '/hooks/email/postmark', signed('postmark')).expect(200, { received: 1 });
    expect(bound.events).toHaveLength(1);
    expect(h.emitted[0]!.name).toBe('mail.delivery.bounced');
    await post(h.app, '/webhooks/mail/postmark', signed('postmark')).expect(404);
    await post(h.app, '/hooks/email/sendgrid', signed('sendgrid')).expect(404);
  });

  it('forRootAsync with useClass and useExisting', async () => {
    @Injectable()
    class WebhookConfig {
      createMailerWebhooksOptions(): MailerWebhooksModuleOptions {
        return { providers: { postmark } };
      }
    }
    @Module({ providers: [WebhookConfig], exports: [WebhookConfig] })
    class WebhookConfigModule {}
    for (const registration of [
      MailerWebhooksModule.forRootAsync({ useClass: WebhookConfig }),
      MailerWebhooksModule.forRootAsync({ imports: [WebhookConfigModule], useExisting: WebhookConfig }),
    ]) {
      const sink = new RecordingSink();
      const h = await boot([registration], sink);
      apps.push(h.app);
      await post(h.app, '/webhooks/mail/postmark', signed('postmark')).expect(200, { received: 1 });
      expect(h.streamed).toHaveLength(1);
    }
  });

  it('without rawBody: true a JSON webhook answers 500 naming the fix, and accepts nothing', async () => {
    const sink = new RecordingSink();
    const h = await boot([MailerWebhooksModule.forRoot({ providers: providers(), sinks: [sink] })], sink, false);
    apps.push(h.app);
    const res = await post(h.app, '/webhooks/mail/resend', signed('resend')).expect(500);
    expect(res.body.message).toMatch(/rawBody: true/);
    expect(sink.events).toEqual([]);
    expect(h.streamed).toEqual([]);
  });

  it('eventEmitter: false publishes on events$ only', async () => {
    const sink = new RecordingSink();
    const h = await boot([MailerWebhooksModule.forRoot({ providers: { postmark }, sinks: [sink], eventEmitter: false })], sink);
    apps.push(h.app);
    await post(h.app, '/webhooks/mail/postmark', signed('postmark')).expect(200);
    expect(h.streamed).toHaveLength(1);
    expect(h.emitted).toEqual([]);
  });

  it.each([
    ['a SendGrid key that is not a key', { sendgrid: { publicKey: 'nope' } }],
    ['an empty Resend secret', { resend: { secret: 'whsec_' } }],
    ['Postmark without a password', { postmark: { username: 'u', password: '' } }],
    ['an impossible SES region', { ses: { region: 'mars' } }],
    ['no provider at all', {}],
  ])('%s fails at start-up', async (_name, providerOptions) => {
    const moduleRef = Test.createTestingModule({ imports: [MailerWebhooksModule.forRoot({ providers: providerOptions as MailerWebhooksModuleOptions['providers'] })] });
    await expect(moduleRef.compile()).rejects.toThrow(MailerConfigurationError);
  });
});
