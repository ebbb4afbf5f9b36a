import { describe, expect, it } from 'vitest';
import type { DeliveryEvent } from '../../../lib/core/delivery-event.types.js';
import { WebhookPayloadError } from '../../../lib/errors/mailer.error.js';
import {
  parseMailgunWebhook,
  parsePostmarkWebhook,
  parseResendWebhook,
  parseSendGridWebhook,
  parseSesNotification,
  parseSesWebhook,
} from '../../../lib/transports/providers/index.js';
import { fixtureNames, readExpected, readFixture } from './webhook-signers.js';

const PARSERS: Record<string, (body: unknown) => DeliveryEvent[]> = {
  sendgrid: parseSendGridWebhook,
  mailgun: parseMailgunWebhook,
  postmark: parsePostmarkWebhook,
  resend: parseResendWebhook,
  ses: parseSesWebhook,
};

/** The event as the expected files spell it: no `raw`, dates as ISO strings. */
function comparable(events: DeliveryEvent[]): unknown {
  return JSON.parse(JSON.stringify(events.map(({ raw: _raw, ...rest }) => rest)));
}

describe.each(Object.keys(PARSERS))('%s webhook fixtures', (provider) => {
  const parse = PARSERS[provider]!;
  it.each(fixtureNames(provider))('%s', (name) => {
    const payload = readFixture(provider, name);
    const events = parse(payload);
    expect(comparable(events)).toEqual(readExpected(provider, name));
    for (const e of events) {
      expect(e.raw).toBeDefined();
      expect(e.timestamp).toBeInstanceOf(Date);
      expect(Number.isNaN(e.timestamp.getTime())).toBe(false);
    }
    // The raw bytes give the same events as the parsed JSON.
    expect(comparable(parse(Buffer.from(JSON.stringify(payload))))).toEqual(comparable(events));
  });
});

describe('classification highlights', () => {
  const one = (provider: string, name: string) => PARSERS[provider]!(readFixture(provider, name));

  it('hard bounces are suppressed, soft ones are not', () => {
    for (const [provider, name] of [['sendgrid', 'bounce'], ['mailgun', 'failed-permanent'], ['postmark', 'bounce'], ['ses', 'bounce']] as const) {
      const [e] = one(provider, name);
      expect(e!.type, `${provider}/${name}`).toBe('bounced');
      expect(e!.classification).toMatchObject({ kind: 'bounced', bounce: 'hard', reason: 'userunknown', action: 'suppress', retryable: false });
    }
    const [soft] = one('postmark', 'soft-bounce');
    expect(soft!.classification).toMatchObject({ bounce: 'soft', reason: 'mailboxfull', action: 'none' });
  });

  it('provider suppression lists read as rejected with reason suppressed', () => {
    for (const [provider, name] of [['sendgrid', 'dropped'], ['mailgun', 'failed-suppressed'], ['resend', 'suppressed'], ['ses', 'bounce-suppressed']] as const) {
      const [e] = one(provider, name);
      expect(e!.type, `${provider}/${name}`).toBe('rejected');
      expect(e!.classification).toMatchObject({ kind: 'rejected', reason: 'suppressed', action: 'suppress' });
    }
  });

  it('complaints are feedback and suppress', () => {
    for (const [provider, name] of [['sendgrid', 'spamreport'], ['mailgun', 'complained'], ['postmark', 'spam-complaint'], ['resend', 'complained'], ['ses', 'complaint']] as const) {
      const [e] = one(provider, name);
      expect(e!.type, `${provider}/${name}`).toBe('complained');
      expect(e!.classification).toMatchObject({ kind: 'complained', bounce: 'none', reason: 'feedback', action: 'suppress' });
    }
  });

  it('temporary failures are deferred and retryable', () => {
    for (const [provider, name] of [['sendgrid', 'deferred'], ['mailgun', 'failed-temporary'], ['postmark', 'transient'], ['resend', 'delivery-delayed'], ['ses', 'event-delivery-delay']] as const) {
      const [e] = one(provider, name);
      expect(e!.type, `${provider}/${name}`).toBe('deferred');
      expect(e!.classification).toMatchObject({ kind: 'deferred', retryable: true });
    }
  });

  it('SES bounce sub-types decide the reason', () => {
    const mail = { messageId: 'm-1', destination: ['a@example.org'], timestamp: '2025-01-01T00:00:00.000Z' };
    const bounce = (bounceType: string, bounceSubType: string, diagnosticCode?: string) =>
      parseSesNotification({ notificationType: 'Bounce', mail, bounce: { bounceType, bounceSubType, timestamp: '2025-01-01T00:00:01.000Z', bouncedRecipients: [{ emailAddress: 'a@example.org', diagnosticCode }] } })[0]!;
    expect(bounce('Permanent', 'NoEmail').classification).toMatchObject({ reason: 'userunknown', bounce: 'hard' });
    expect(bounce('Permanent', 'Suppressed')).toMatchObject({ type: 'rejected', classification: { reason: 'suppressed', action: 'suppress' } });
    expect(bounce('Permanent', 'OnAccountSuppressionList').classification!.reason).toBe('suppressed');
    expect(bounce('Transient', 'MessageTooLarge').classification!.reason).toBe('emailtoolarge');
    expect(bounce('Transient', 'ContentRejected').classification!.reason).toBe('contenterror');
    expect(bounce('Transient', 'General', 'smtp; 452 4.2.2 mailbox full').classification).toMatchObject({ kind: 'bounced', reason: 'mailboxfull', bounce: 'soft' });
    expect(bounce('Undetermined', 'Undetermined').classification!.reason).toBe('undefined');
  });

  it('Postmark bounce types map without a reply', () => {
    const base = { RecordType: 'Bounce', Email: 'a@example.org', BouncedAt: '2025-01-01T00:00:00Z', MessageID: 'x' };
    const type = (Type: string) => parsePostmarkWebhook({ ...base, Type })[0]!;
    expect(type('HardBounce').classification).toMatchObject({ reason: 'userunknown', bounce: 'hard', action: 'suppress' });
    expect(type('AddressChange').classification!.reason).toBe('hasmoved');
    expect(type('SpamNotification').classification!.reason).toBe('spamdetected');
    expect(type('ManuallyDeactivated')).toMatchObject({ type: 'rejected', classification: { reason: 'suppressed', action: 'suppress' } });
    expect(type('Unsubscribe')).toMatchObject({ type: 'unsubscribed' });
    expect(type('Unsubscribe').classification).toBeUndefined();
    expect(parsePostmarkWebhook({ ...base, TypeCode: 100001 })[0]!.type).toBe('complained');
  });

  it('SendGrid bounce_classification fills in when the reply says nothing', () => {
    const [e] = parseSendGridWebhook([{ email: 'a@example.org', timestamp: 1735750000, event: 'bounce', type: 'blocked', reason: 'Rejected', bounce_classification: 'Reputation' }]);
    expect(e!.classification!.reason).toBe('badreputation');
  });

  it('Mailgun codes above 599 are not SMTP reply codes', () => {
    const [e] = parseMailgunWebhook(readFixture('mailgun', 'failed-suppressed'));
    expect(e!.classification!.replyCode).toBeUndefined();
  });
});

describe('malformed bodies', () => {
  it.each(Object.keys(PARSERS))('%s: not JSON → WebhookPayloadError', (provider) => {
    expect(() => PARSERS[provider]!(Buffer.from('{not json'))).toThrow(WebhookPayloadError);
  });

  it('shapes that are not the provider’s', () => {
    expect(() => parseSendGridWebhook('42')).toThrow(WebhookPayloadError);
    expect(() => parseSendGridWebhook([{ event: 'delivered' }])).toThrow(/email/);
    expect(() => parseMailgunWebhook({ signature: {} })).toThrow(/event-data/);
    expect(() => parsePostmarkWebhook([])).toThrow(WebhookPayloadError);
    expect(() => parseResendWebhook({ data: {} })).toThrow(/type/);
    expect(() => parseResendWebhook({ type: 'email.sent', data: {} })).toThrow(/recipients/);
    expect(() => parseSesWebhook({ Type: 'Notification' })).toThrow(/SNS/);
    const envelope = readFixture('ses', 'bounce') as Record<string, unknown>;
    expect(() => parseSesWebhook({ ...envelope, Message: 'not json' })).toThrow(/SES notification/);
    expect(() => parseSesWebhook({ ...envelope, Message: '{"mail":{}}' })).toThrow(/notificationType/);
  });
});
