import { Inject, Injectable, NotFoundException, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import type { Observable } from 'rxjs';
import { MailerPreviewService } from './preview.service.js';

/**
 * The page's own policy: its script and stylesheet from the same origin only, nothing inline, no
 * remote loads, frames only from the same origin (the mail views), and no framing of the page.
 */
export const PAGE_CSP = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
  "frame-src 'self'", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
].join('; ');

/**
 * A mail's HTML: no script at all, images only from `data:` URLs (inline images are turned into
 * them), inline styles, nothing fetched, and sandboxed even when opened outside the page's iframe.
 */
export const MAIL_CSP = [
  "default-src 'none'", 'img-src data:', "style-src 'unsafe-inline'", 'font-src data:', "base-uri 'none'",
  "form-action 'none'", "frame-ancestors 'self'", 'sandbox',
].join('; ');

/** Everything else: JSON, message sources, attachments. */
export const DEFAULT_CSP = "default-src 'none'; frame-ancestors 'none'; sandbox";

const COMMON_HEADERS: ReadonlyArray<[string, string]> = [
  ['X-Content-Type-Options', 'nosniff'],
  ['Cache-Control', 'no-store'],
  ['Referrer-Policy', 'no-referrer'],
  ['Cross-Origin-Resource-Policy', 'same-origin'],
];

/** Express's response, Fastify's reply, or Node's own response: each can set and check a header. */
interface HeaderTarget {
  hasHeader?(name: string): boolean;
  getHeader?(name: string): unknown;
  setHeader?(name: string, value: string): unknown;
  header?(name: string, value: string): unknown;
}

function setIfAbsent(res: HeaderTarget, name: string, value: string): void {
  const present = typeof res.hasHeader === 'function' ? res.hasHeader(name) : res.getHeader?.(name) !== undefined;
  if (present) return;
  if (typeof res.setHeader === 'function') res.setHeader(name, value);
  else res.header?.(name, value);
}

/**
 * Puts the common headers on every answer of the preview routes, errors included, and keeps the
 * policy a route set for itself (a route's headers are set before interceptors run). A module
 * that is not enabled answers 404 as if nothing were mounted.
 */
@Injectable()
export class PreviewResponseInterceptor implements NestInterceptor {
  constructor(@Inject(MailerPreviewService) private readonly preview: MailerPreviewService) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const res = http.getResponse<HeaderTarget>();
    for (const [name, value] of COMMON_HEADERS) setIfAbsent(res, name, value);
    setIfAbsent(res, 'Content-Security-Policy', DEFAULT_CSP);
    if (!this.preview.enabled) {
      const req = http.getRequest<{ method?: string; originalUrl?: string; url?: string }>();
      throw new NotFoundException(`Cannot ${req.method ?? 'GET'} ${req.originalUrl ?? req.url ?? ''}`);
    }
    return next.handle();
  }
}
