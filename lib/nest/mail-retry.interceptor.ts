import {
  HttpException, HttpStatus, Injectable, type CallHandler, type ExecutionContext, type NestInterceptor,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { catchError, defer, from, mergeMap, retry, throwError, type Observable } from 'rxjs';
import {
  InvalidMailError, MailCancelledError, TemplateRenderError, TransportError, UnsupportedFeatureError, type MailerError,
} from '../errors/mailer.error.js';
import { RetryPolicy } from '../retry/retry.policy.js';
import type { RetryOptions } from '../retry/retry.options.js';

/** Metadata key under which `@MailRetry()` stores its options. */
export const MAIL_RETRY_OPTIONS = 'nestjs-mailroom:mail-retry';

export interface MailRetryOptions extends RetryOptions {
  /**
   * HTTP handlers only: turn the final mail error into an HTTP answer — 503 with Retry-After for
   * a transient failure, 422 for a permanent one. Default true. RPC and WebSocket handlers always
   * get the error as it is.
   */
  httpErrors?: boolean;
}

/** Errors about the mail or its recipients: the request asked for something that cannot be sent. */
function isMailRefusal(error: unknown): error is MailerError {
  return error instanceof TransportError
    || error instanceof InvalidMailError
    || error instanceof UnsupportedFeatureError
    || error instanceof MailCancelledError
    || error instanceof TemplateRenderError;
}

interface HeaderWriter {
  headersSent?: boolean;
  setHeader?(name: string, value: string): unknown;
  header?(name: string, value: string): unknown;
}

/**
 * Retries a handler that sends mail when it fails with a transient mailer error (a TransportError
 * the policy would retry), re-running the whole handler after the policy's backoff; any other
 * error passes straight through. On HTTP the final failure becomes 503 with Retry-After (transient)
 * or 422 (the mail was refused); on RPC and WebSocket it is rethrown as it is.
 *
 * Re-running a handler repeats everything it does: use it on handlers that send one mail, or
 * whose other effects are idempotent. The MailerService retries each send itself (module option
 * `retry`); the interceptor's retries come on top, once the service has given up.
 */
@Injectable()
export class MailRetryInterceptor implements NestInterceptor {
  private readonly policies = new WeakMap<object, RetryPolicy>();

  constructor(private readonly reflector: Reflector) {}

  private policyFor(options: MailRetryOptions): RetryPolicy {
    let policy = this.policies.get(options);
    if (!policy) {
      const { httpErrors: _httpErrors, ...retryOptions } = options;
      policy = new RetryPolicy(retryOptions, '@MailRetry()');
      this.policies.set(options, policy);
    }
    return policy;
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const options = this.reflector.getAllAndOverride<MailRetryOptions | undefined>(MAIL_RETRY_OPTIONS, [context.getHandler(), context.getClass()]) ?? {};
    const policy = this.policyFor(options);
    let startedAt: number | undefined;
    return defer(() => {
      startedAt ??= policy.clock.now();
      return next.handle();
    }).pipe(
      retry({
        count: policy.options.limit,
        delay: (error: unknown, retryCount: number) => from(policy.decide(error, retryCount, startedAt as number)).pipe(
          mergeMap((decision) => {
            if (!decision.retry) return throwError(() => error);
            return from((async () => {
              await policy.options.onRetry?.({ error: error as TransportError, attempt: retryCount, delay: decision.delay, retryAfter: (error as TransportError).retryAfter });
              await policy.clock.sleep(decision.delay);
            })());
          }),
        ),
      }),
      catchError((error: unknown) => from(this.toAnswer(error, context, policy, options))),
    );
  }

  /** The error to throw: an HttpException for a mail error on HTTP, else the error itself. */
  private async toAnswer(error: unknown, context: ExecutionContext, policy: RetryPolicy, options: MailRetryOptions): Promise<never> {
    if (context.getType() !== 'http' || options.httpErrors === false || !isMailRefusal(error)) throw error;
    const code = error.code;
    const reason = error instanceof TransportError ? error.classification?.reason : undefined;
    if (await policy.isRetryable(error, policy.options.limit + 1)) {
      const seconds = Math.max(1, Math.ceil(this.retryAfter(error as TransportError, policy) / 1000));
      const response = context.switchToHttp().getResponse<HeaderWriter>();
      if (response && !response.headersSent) {
        if (typeof response.setHeader === 'function') response.setHeader('Retry-After', String(seconds));
        else response.header?.('Retry-After', String(seconds));
      }
      throw new HttpException(
        { statusCode: HttpStatus.SERVICE_UNAVAILABLE, error: 'Service Unavailable', message: 'The mail could not be sent right now; try again later.', code, ...(reason ? { reason } : {}), retryAfter: seconds },
        HttpStatus.SERVICE_UNAVAILABLE,
        { cause: error },
      );
    }
    throw new HttpException(
      { statusCode: HttpStatus.UNPROCESSABLE_ENTITY, error: 'Unprocessable Entity', message: 'The mail was refused and will not be sent.', code, ...(reason ? { reason } : {}) },
      HttpStatus.UNPROCESSABLE_ENTITY,
      { cause: error },
    );
  }

  /** What to tell the client: the server's Retry-After, else the wait the next retry would have had. */
  private retryAfter(error: TransportError, policy: RetryPolicy): number {
    const { initial, factor, max } = policy.options.backoff;
    const next = Math.min(max, initial * factor ** policy.options.limit);
    return Math.max(error.retryAfter ?? 0, next);
  }
}
