import { describe, expect, it } from 'vitest';
import { MailerConfigurationError, WebhookPayloadError } from '../../../lib/errors/mailer.error.js';
import { createWebhookReceiver, type WebhookReceiver, type WebhookReceiverRequest } from '../../../lib/transports/providers/webhook-receiver.js';
import {
  basicAuth, flipByte, mailgunSign, readExpected, readFixture, resendSecret, resendSign, sendGridSigner, snsNotification, snsSigner, SNS_TOPIC,
} from './webhook-signers.js';

// The receiver of `nestjs-mailroom/webhooks`, one per provider: a signed fixture verifies and
// parses to the expected events; the same request with one byte changed does not verify.

interface Case {
  provider: string;
  options: () => Record<string, unknown>;
  receiver: () => WebhookReceiver;
  request: () => WebhookReceiverRequest;
  fixture: [string, string];
}

const sendgrid = sendGridSigner();
const mailgunKey = 'key-0123456789abcdef';
const resendKey = resendSecret();
const sns = snsSigner();

function jsonRequest(body: string, headers: Record<string, string>): WebhookReceiverRequest {
  return { headers, rawBody: body };
}

const cases: Case[] = [
  {
    provider: 'sendgrid',
    options: () => ({ publicKey: sendgrid.publicKey }),
    receiver: () => createWebhookReceiver('sendgrid', { publicKey: sendgrid.publicKey }),
    request: () => {
      const body = JSON.stringify(readFixture('sendgrid', 'bounce'));
      return jsonRequest(body, sendgrid.sign(body));
    },
    fixture: ['sendgrid', 'bounce'],
  },
  {
    provider: 'mailgun',
    options: () => ({ signingKey: mailgunKey }),
    receiver: () => createWebhookReceiver('mailgun', { signingKey: mailgunKey }),
    request: () => ({ headers: { 'content-type': 'application/json' }, rawBody: Buffer.from(mailgunSign(readFixture('mailgun', 'failed-permanent') as Record<string, unknown>, mailgunKey)) }),
    fixture: ['mailgun', 'failed-permanent'],
  },
  {
    provider: 'resend',
    options: () => ({ secret: resendKey }),
    receiver: () => createWebhookReceiver('resend', { secret: resendKey }),
    request: () => {
      const body = JSON.stringify(readFixture('resend', 'bounced'));
      return jsonRequest(body, resendSign(body, resendKey));
    },
    fixture: ['resend', 'bounced'],
  },
  {
    provider: 'postmark',
    options: () => ({ username: 'postmark', password: 'hook-password' }),
    receiver: () => createWebhookReceiver('postmark', { username: 'postmark', password: 'hook-password' }),
    request: () => jsonRequest(JSON.stringify(readFixture('postmark', 'bounce')), basicAuth('postmark', 'hook-password')),
    fixture: ['postmark', 'bounce'],
  },
  {
    provider: 'ses',
    options: () => ({ region: 'eu-west-1', topicArn: SNS_TOPIC, fetchCertificate: sns.fetchCertificate }),
    receiver: () => createWebhookReceiver('ses', { region: 'eu-west-1', topicArn: SNS_TOPIC, fetchCertificate: sns.fetchCertificate }),
    request: () => {
      const fixture = readFixture('ses', 'bounce') as { Message: string };
      const message = sns.sign(snsNotification(JSON.parse(fixture.Message)));
      return jsonRequest(JSON.stringify(message), { 'content-type': 'text/plain' });
    },
    fixture: ['ses', 'bounce'],
  },
];

/** Another hex digit at `index` (a case change would read as the same digit). */
function changeHexDigit(text: string, index: number): string {
  return text.slice(0, index) + (text[index] === '0' ? '1' : '0') + text.slice(index + 1);
}

/** The parsed events as the expected fixtures hold them: what a provider said, without ids that differ per delivery. */
function comparable(events: unknown): unknown {
  return JSON.parse(JSON.stringify(events, (key, value: unknown) => (key === 'raw' ? undefined : value)));
}

describe.each(cases)('createWebhookReceiver($provider)', ({ provider, options, receiver, request, fixture }) => {
  it('verifies a signed request and parses it into the normalized events', async () => {
    const r = receiver();
    expect(r.provider).toBe(provider);
    const req = request();
    expect(await r.verify(req)).toEqual({ ok: true });
    const events = r.parse(req.rawBody);
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((event) => event.provider === provider)).toBe(true);
    const expected = comparable(readExpected(...fixture)) as Array<Record<string, unknown>>;
    const actual = comparable(events) as Array<Record<string, unknown>>;
    // SES's SNS envelope is made afresh here, so its message id and time differ from the fixture's.
    const strip = (list: Array<Record<string, unknown>>) => list.map(({ id: _id, ...rest }) => rest);
    expect(strip(actual).map((e) => [e.type, e.recipient, (e.classification as { reason?: string } | undefined)?.reason]))
      .toEqual(strip(expected).map((e) => [e.type, e.recipient, (e.classification as { reason?: string } | undefined)?.reason]));
    expect(await r.handshake(req)).toBeUndefined();
  });

  it('refuses the same request with one byte of the body or the credentials changed', async () => {
    const r = receiver();
    const req = request();
    const body = Buffer.isBuffer(req.rawBody) ? req.rawBody.toString() : req.rawBody;
    // Mailgun signs its timestamp and token, not the body: the signature is what can be changed.
    const tampered = provider === 'postmark'
      ? { headers: basicAuth('postmark', 'hook-passworD'), rawBody: body }
      : provider === 'mailgun'
        ? { headers: req.headers, rawBody: changeHexDigit(body, body.indexOf('"signature":"') + 14) }
        : { headers: req.headers, rawBody: flipByte(body, body.lastIndexOf('@') - 1) };
    const verification = await r.verify(tampered);
    expect(verification.ok).toBe(false);
  });

  it('refuses an unknown option at creation, naming it and no value', () => {
    const make = () => createWebhookReceiver(provider as 'sendgrid', { ...options(), signingSecret: 'do-not-print' } as never);
    expect(make).toThrow(MailerConfigurationError);
    expect(make).toThrow(new RegExp(`^webhook receiver \\(${provider}\\): unknown option "signingSecret"`));
    expect(make).not.toThrow(/do-not-print/);
    expect(() => createWebhookReceiver(provider as 'sendgrid', options() as never)).not.toThrow();
  });
});

describe('createWebhookReceiver', () => {
  it('refuses a provider it does not know, listing the known ones', () => {
    expect(() => createWebhookReceiver('sparkpost' as 'sendgrid', { publicKey: 'x' })).toThrow(/No webhooks for provider "sparkpost"; known: sendgrid, postmark, ses, mailgun, resend/);
  });

  it('refuses a key it cannot read at creation, not at the first request', () => {
    expect(() => createWebhookReceiver('sendgrid', { publicKey: 'not a key' })).toThrow(MailerConfigurationError);
    expect(() => createWebhookReceiver('resend', { secret: '' })).toThrow(MailerConfigurationError);
  });

  it('throws WebhookPayloadError for a verified body that is not the provider\'s payload', async () => {
    const r = createWebhookReceiver('sendgrid', { publicKey: sendgrid.publicKey });
    const body = '{"not":"an array of events"}';
    expect(await r.verify({ headers: sendgrid.sign(body), rawBody: body })).toEqual({ ok: true });
    expect(() => r.parse(body)).toThrow(WebhookPayloadError);
  });

  it('gives the same delivery id for a provider\'s retry of one delivery', () => {
    const r = createWebhookReceiver('resend', { secret: resendKey });
    const body = JSON.stringify(readFixture('resend', 'delivered'));
    const headers = resendSign(body, resendKey, Date.now(), 'msg_retry_1');
    expect(r.deliveryId({ headers, rawBody: body })).toBe('msg_retry_1');
    expect(r.deliveryId({ headers: { ...headers }, rawBody: Buffer.from(body) })).toBe('msg_retry_1');
  });
});

describe('what names a delivery (deliveryKeys)', () => {
  it('SendGrid: no request id, one key per event (its sg_event_id), the same under any signature', () => {
    const r = createWebhookReceiver('sendgrid', { publicKey: sendgrid.publicKey });
    const body = JSON.stringify(readFixture('sendgrid', 'batch'));
    const ids = (readFixture('sendgrid', 'batch') as Array<{ sg_event_id: string }>).map((e) => e.sg_event_id);
    const first = { headers: sendgrid.sign(body), rawBody: body };
    const later = { headers: sendgrid.sign(body, Date.now() + 60_000), rawBody: body };
    expect(r.deliveryKeys(first)).toEqual({ request: [], events: ids });
    expect(r.deliveryKeys(later)).toEqual(r.deliveryKeys(first));
    expect(r.deliveryId(first)).toBeUndefined();
    expect(r.parse(body)).toHaveLength(ids.length);
  });

  it('Mailgun: the event id, and the signature token that a replay with another event would reuse', () => {
    const r = createWebhookReceiver('mailgun', { signingKey: mailgunKey });
    const payload = readFixture('mailgun', 'failed-permanent') as { 'event-data': { id: string } };
    const first = mailgunSign(payload, mailgunKey);
    const retry = mailgunSign(payload, mailgunKey);
    const token = (body: string) => (JSON.parse(body) as { signature: { token: string } }).signature.token;
    expect(r.deliveryKeys({ headers: {}, rawBody: first })).toEqual({ request: [payload['event-data'].id, `token:${token(first)}`], events: [] });
    expect(r.deliveryKeys({ headers: {}, rawBody: retry }).request[0]).toBe(payload['event-data'].id);
    expect(r.deliveryId({ headers: {}, rawBody: retry })).toBe(payload['event-data'].id);
  });

  it('Resend and SES: the signed id of the message (svix-id, the SNS MessageId)', () => {
    const resend = createWebhookReceiver('resend', { secret: resendKey });
    const body = JSON.stringify(readFixture('resend', 'delivered'));
    expect(resend.deliveryKeys({ headers: resendSign(body, resendKey, Date.now(), 'msg_1'), rawBody: body })).toEqual({ request: ['msg_1'], events: [] });
    const ses = createWebhookReceiver('ses', { fetchCertificate: sns.fetchCertificate });
    const message = sns.sign({ ...snsNotification(JSON.parse((readFixture('ses', 'bounce') as { Message: string }).Message)), MessageId: 'sns-1' });
    expect(ses.deliveryKeys({ headers: {}, rawBody: JSON.stringify(message) })).toEqual({ request: ['sns-1'], events: [] });
  });

  it('Postmark: a bounce by its ID when JSON holds it exactly, any other record by message, recipient and time', () => {
    const r = createWebhookReceiver('postmark', { username: 'postmark', password: 'hook-password' });
    const keyOf = (payload: unknown) => r.deliveryKeys({ headers: {}, rawBody: JSON.stringify(payload) }).request;
    const bounce = readFixture('postmark', 'soft-bounce') as Record<string, unknown>;
    expect(keyOf(bounce)).toEqual([`Bounce:${String(bounce.ID)}`]);
    // The fixture's ID is past 2^53: JSON.parse rounds it, so it is not used.
    const [rounded] = keyOf(readFixture('postmark', 'bounce'));
    expect(rounded).toMatch(/^Bounce:sha256:[0-9a-f]{64}$/);
    expect(r.parse(JSON.stringify(readFixture('postmark', 'bounce')))[0]!.eventId).toBeUndefined();

    const delivery = readFixture('postmark', 'delivery') as Record<string, unknown>;
    const [key] = keyOf(delivery);
    expect(key).toMatch(/^Delivery:sha256:/);
    expect(keyOf({ ...delivery, Details: 'smtp;250 OK again' })).toEqual([key]);
    expect(keyOf({ ...delivery, DeliveredAt: '2025-01-01T17:00:03Z' })).not.toEqual([key]);
    expect(keyOf({ ...delivery, Recipient: 'bob@example.com' })).not.toEqual([key]);
    expect(keyOf({ ...delivery, DeliveredAt: undefined })).toEqual([]);
  });

  it('a body that is not the provider\'s payload: deliveryKeys throws as parse does, deliveryId is undefined', () => {
    const r = createWebhookReceiver('sendgrid', { publicKey: sendgrid.publicKey });
    expect(() => r.deliveryKeys({ headers: {}, rawBody: 'not json' })).toThrow(WebhookPayloadError);
    expect(r.deliveryId({ headers: {}, rawBody: 'not json' })).toBeUndefined();
  });

  it('rememberMs: as long as a copy still verifies (twice the tolerance, plus a minute); an hour for Postmark', () => {
    expect(createWebhookReceiver('sendgrid', { publicKey: sendgrid.publicKey }).rememberMs).toBe(660_000);
    expect(createWebhookReceiver('resend', { secret: resendKey, toleranceSeconds: 600 }).rememberMs).toBe(1_260_000);
    expect(createWebhookReceiver('postmark', { username: 'p', password: 'q' }).rememberMs).toBe(3_600_000);
  });
});
