import { applyDecorators, SetMetadata, UseInterceptors } from '@nestjs/common';
import { RetryPolicy } from '../retry/retry.policy.js';
import { MAIL_RETRY_OPTIONS, MailRetryInterceptor, type MailRetryOptions } from './mail-retry.interceptor.js';

/**
 * Retries a controller, microservice or gateway handler (or every handler of a class) that fails
 * with a transient mailer error; see MailRetryInterceptor. Options on a method win over the class's.
 *
 * ```ts
 * @Post('password-reset')
 * @MailRetry({ limit: 2, backoff: { initial: 500 } })
 * reset(@Body() body: ResetDto) { return this.mailer.send({ to: body.email, template: 'reset' }); }
 * ```
 */
export function MailRetry(options: MailRetryOptions = {}): MethodDecorator & ClassDecorator {
  // Options that cannot work fail when the class is defined, not at the first request.
  const { httpErrors: _httpErrors, ...retryOptions } = options;
  new RetryPolicy(retryOptions, '@MailRetry()');
  return applyDecorators(SetMetadata(MAIL_RETRY_OPTIONS, options), UseInterceptors(MailRetryInterceptor));
}
