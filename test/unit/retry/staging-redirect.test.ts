import { describe, expect, it } from 'vitest';
import { MailerConfigurationError } from '../../../lib/errors/mailer.error.js';
import { StagingRedirectInterceptor } from '../../../lib/nest/mail-interceptor.js';
import { outgoingMail } from '../../support/provider-fakes/mail.fixture.js';

describe('StagingRedirectInterceptor', () => {
  it('replaces every recipient with the safe address and records the originals', () => {
    const redirect = new StagingRedirectInterceptor({ to: 'staging@acme.test' });
    const mail = outgoingMail({ cc: [{ address: 'carol@example.com' }], bcc: [{ address: 'dave@example.com' }] });
    mail.envelope.to = ['alice@example.com', 'bob@example.com', 'carol@example.com', 'dave@example.com'];
    const out = redirect.intercept(mail);
    expect(out.to).toEqual([{ address: 'staging@acme.test' }]);
    expect(out.cc).toEqual([]);
    expect(out.bcc).toEqual([]);
    expect(out.envelope.to).toEqual(['staging@acme.test']);
    expect(out.headers['X-Original-To']).toBe('alice@example.com, bob@example.com, carol@example.com, dave@example.com');
    expect(out.messageId).toBe(mail.messageId);
  });

  it('keeps allowed recipients (addresses, @domains, or a RegExp)', () => {
    const byList = new StagingRedirectInterceptor({ to: 'qa@acme.test', allow: ['@ACME.test', 'bob@example.com'], header: 'X-Staging-Original' });
    const mail = outgoingMail({ to: [{ address: 'alice@example.com' }, { address: 'bob@example.com' }, { address: 'dev@acme.test' }] });
    mail.envelope.to = ['alice@example.com', 'bob@example.com', 'dev@acme.test'];
    const out = byList.intercept(mail);
    expect(out.to.map((a) => a.address)).toEqual(['bob@example.com', 'dev@acme.test', 'qa@acme.test']);
    expect(out.envelope.to).toEqual(['bob@example.com', 'dev@acme.test', 'qa@acme.test']);
    expect(out.headers['X-Staging-Original']).toBe('alice@example.com');

    const byRegExp = new StagingRedirectInterceptor({ to: 'qa@acme.test', allow: /@example\.com$/g });
    const all = outgoingMail();
    expect(byRegExp.intercept(all)).toBe(all);
    expect(byRegExp.intercept(all)).toBe(all);
  });

  it('refuses a configuration without a safe address', () => {
    expect(() => new StagingRedirectInterceptor({ to: [] })).toThrow(MailerConfigurationError);
    expect(() => new StagingRedirectInterceptor({ to: 'nobody' })).toThrow(MailerConfigurationError);
    expect(() => new StagingRedirectInterceptor({ to: 'a@b.test', header: 'Bad Header' })).toThrow(MailerConfigurationError);
  });
});
