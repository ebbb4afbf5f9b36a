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
