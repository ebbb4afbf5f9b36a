import { describe, expect, it } from 'vitest';
import { classifyProviderError } from '../../../lib/bounces/index.js';

describe('classifyProviderError', () => {
  it.each([
    // provider, status, code, message → reason, action, retryable, kind
    ['sendgrid', 401, undefined, 'authorization required', 'securityerror', 'fix-config', false, 'failed'],
    ['sendgrid', 403, undefined, 'The from address does not match a verified Sender Identity.', 'rejected', 'fix-config', false, 'failed'],
    ['sendgrid', 429, undefined, 'too many requests', 'ratelimited', 'slow-down', true, 'deferred'],
    ['sendgrid', 500, undefined, 'internal server error', 'systemerror', 'retry', true, 'deferred'],
    ['sendgrid', 400, 'personalizations.0.to.0.email', 'Does not contain a valid address.', 'userunknown', 'suppress', false, 'rejected'],
    ['sendgrid', 413, undefined, 'content too large', 'emailtoolarge', 'fix-config', false, 'failed'],
    ['postmark', 422, 406, 'You tried to send to recipient(s) that have been marked as inactive. Found inactive addresses: a@b.test.', 'suppressed', 'suppress', false, 'rejected'],
    ['postmark', 422, 300, "Error parsing 'To': Illegal email address 'alice@'.", 'userunknown', 'suppress', false, 'rejected'],
    ['postmark', 422, 300, 'Invalid JSON in the Attachments field.', 'syntaxerror', 'fix-config', false, 'failed'],
    ['postmark', 401, 10, 'Request does not contain a valid Server token.', 'securityerror', 'fix-config', false, 'failed'],
    ['postmark', 422, 400, 'Sender signature not defined.', 'rejected', 'fix-config', false, 'failed'],
    ['postmark', 429, 429, 'Rate limit exceeded.', 'ratelimited', 'slow-down', true, 'deferred'],
    ['postmark', 503, undefined, 'Service unavailable', 'systemerror', 'retry', true, 'deferred'],
    ['ses', 400, 'MessageRejected', 'Email address is not verified. The following identities failed the check: a@b.test', 'rejected', 'fix-config', false, 'failed'],
    ['ses', 400, 'AccountSuspendedException', 'Sending is permanently restricted.', 'rejected', 'fix-config', false, 'failed'],
    ['ses', 429, 'TooManyRequestsException', 'Too many requests', 'ratelimited', 'slow-down', true, 'deferred'],
    ['ses', 400, 'ThrottlingException', 'Maximum sending rate exceeded.', 'ratelimited', 'slow-down', true, 'deferred'],
    ['ses', 400, 'MailFromDomainNotVerifiedException', 'MAIL FROM domain not verified', 'rejected', 'fix-config', false, 'failed'],
    ['ses', 500, 'InternalServiceErrorException', '', 'systemerror', 'retry', true, 'deferred'],
    ['mailgun', 400, undefined, 'to parameter is not a valid address. please check documentation', 'userunknown', 'suppress', false, 'rejected'],
    ['mailgun', 401, undefined, 'Forbidden', 'securityerror', 'fix-config', false, 'failed'],
    ['mailgun', 429, undefined, 'Too many requests', 'ratelimited', 'slow-down', true, 'deferred'],
    ['mailgun', 502, undefined, 'Bad gateway', 'systemerror', 'retry', true, 'deferred'],
    ['resend', 422, 'validation_error', 'Invalid `to` field. The email address needs to follow the `email@example.com` format.', 'userunknown', 'suppress', false, 'rejected'],
    ['resend', 403, 'validation_error', 'The sender.test domain is not verified.', 'rejected', 'fix-config', false, 'failed'],
    ['resend', 429, 'rate_limit_exceeded', 'Too many requests.', 'ratelimited', 'slow-down', true, 'deferred'],
    ['resend', 401, 'missing_api_key', 'Missing API key', 'securityerror', 'fix-config', false, 'failed'],
    ['resend', 500, 'application_error', 'Something went wrong', 'systemerror', 'retry', true, 'deferred'],
  ] as const)('%s %s %s', (provider, statusCode, providerCode, message, reason, action, retryable, kind) => {
    const c = classifyProviderError({ provider, statusCode, providerCode, message });
    expect(c.reason).toBe(reason);
    expect(c.action).toBe(action);
    expect(c.retryable).toBe(retryable);
    expect(c.kind).toBe(kind);
  });

  it('treats a missing response as a transient network failure', () => {
    const c = classifyProviderError({ provider: 'resend', providerCode: 'application_error', message: 'fetch failed' });
    expect(c.retryable).toBe(true);
    expect(c.kind).toBe('deferred');
  });

  it('marks recipient-level rejections with the reason\'s hardness and account errors with none', () => {
    expect(classifyProviderError({ provider: 'postmark', statusCode: 422, providerCode: 300, message: "Error parsing 'To': Illegal email address 'x'" }).bounce).toBe('hard');
    expect(classifyProviderError({ provider: 'sendgrid', statusCode: 401 }).bounce).toBe('none');
  });
});
