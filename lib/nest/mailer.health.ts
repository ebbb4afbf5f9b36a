import { Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { MailerConfigurationError, TransportError } from '../errors/mailer.error.js';
import { RoundRobinTransport } from '../transports/roundrobin.transport.js';
import { MailerService } from './mailer.service.js';

export const TERMINUS_PACKAGE = '@nestjs/terminus';

/** Milliseconds `isHealthy` waits for a transport's verify() by default. */
export const DEFAULT_HEALTH_TIMEOUT = 10_000;

export interface MailerHealthOptions {
  /** Name of a configured transport; default: the module's default transport. */
  transport?: string;
  /** Milliseconds to wait for verify(); the transport is reported down after that. Default 10 000. */
  timeout?: number;
}

/** The structure of a terminus `HealthIndicatorResult`, without importing the optional peer. */
export type MailerHealthResult<Key extends string = string> = Record<Key, { status: 'up' | 'down' } & Record<string, unknown>>;

interface IndicatorSession {
  up(data?: Record<string, unknown>): Record<string, { status: 'up' } & Record<string, unknown>>;
  down(data?: Record<string, unknown>): Record<string, { status: 'down' } & Record<string, unknown>>;
}

interface HealthIndicatorServiceLike {
  check(key: string): IndicatorSession;
}

interface TerminusModuleShape {
  HealthIndicatorService: new () => HealthIndicatorServiceLike;
}

let loading: Promise<TerminusModuleShape> | undefined;

/** Imports @nestjs/terminus from `specifier`; a missing package is a configuration error naming the install command. */
export async function importTerminus(specifier: string = TERMINUS_PACKAGE): Promise<TerminusModuleShape> {
  try {
    // A non-literal specifier keeps TypeScript and bundlers from requiring the optional peer.
    return (await import(specifier)) as TerminusModuleShape;
  } catch (cause) {
    const code = (cause as { code?: unknown }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' || /Cannot find (module|package)|Failed to load url/.test(String(cause))) {
      throw new MailerConfigurationError(`MailerHealthIndicator needs ${TERMINUS_PACKAGE}: run \`npm install ${TERMINUS_PACKAGE}\`.`, { cause });
    }
    throw cause;
  }
}

function loadTerminus(): Promise<TerminusModuleShape> {
  loading ??= importTerminus().catch((error: unknown) => {
    loading = undefined;
    throw error;
  });
  return loading;
}

class HealthTimeoutError extends Error {}

/**
 * A health indicator for @nestjs/terminus (an optional peer, loaded on first use):
 *
 * ```ts
 * @Get('health') @HealthCheck()
 * check() { return this.health.check([() => this.mail.isHealthy('mail')]); }
 * ```
 *
 * It calls the transport's `verify()` — SMTP connects and authenticates, an API makes an
 * authenticated call that sends nothing — and reports `up` only when that succeeded within the
 * timeout; an unreachable server, a refused key or a timeout is `down`, with the failure
 * (`connection`, `auth`, `timeout`, …) and the status code in the details. For a failover or
 * round-robin transport it is up when at least one of its transports verifies, and the details
 * list each one (`transports: { "default[0]": "down", "default[1]": "up" }`).
 */
@Injectable()
export class MailerHealthIndicator {
  private indicators?: HealthIndicatorServiceLike;

  constructor(
    private readonly mailer: MailerService,
    private readonly moduleRef: ModuleRef,
  ) {}

  async isHealthy<const Key extends string>(key: Key, options: MailerHealthOptions = {}): Promise<MailerHealthResult<Key>> {
    const session = (await this.service()).check(key);
    const transport = this.mailer.getTransport(options.transport);
    const timeout = options.timeout ?? DEFAULT_HEALTH_TIMEOUT;
    const details: Record<string, unknown> = { transport: transport.name, kind: transport.kind };
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      const expired = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new HealthTimeoutError(`verify() did not finish within ${timeout} ms`)), timeout);
      });
      if (transport instanceof RoundRobinTransport) {
        const each = await Promise.race([transport.verifyEach(), expired]);
        details.transports = Object.fromEntries(each.map((r) => [r.transport, r.ok ? 'up' : 'down']));
        if (!each.some((r) => r.ok)) {
          const last = each.at(-1);
          details.message = each.map((r) => `${r.transport}: ${r.error?.message ?? 'down'}`).join('; ');
          if (last?.error?.failure) details.failure = last.error.failure;
          details.responseTime = Math.round(performance.now() - started);
          return session.down(details) as MailerHealthResult<Key>;
        }
      } else {
        await Promise.race([transport.verify(), expired]);
      }
      details.responseTime = Math.round(performance.now() - started);
      return session.up(details) as MailerHealthResult<Key>;
    } catch (error) {
      details.responseTime = Math.round(performance.now() - started);
      details.message = error instanceof Error ? error.message : String(error);
      if (error instanceof HealthTimeoutError) details.failure = 'timeout';
      if (error instanceof TransportError) {
        details.failure = error.failure;
        if (error.statusCode !== undefined) details.statusCode = error.statusCode;
        if (error.responseCode !== undefined) details.responseCode = error.responseCode;
      }
      return session.down(details) as MailerHealthResult<Key>;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Terminus's own HealthIndicatorService when TerminusModule is imported, else one of ours. */
  private async service(): Promise<HealthIndicatorServiceLike> {
    if (this.indicators) return this.indicators;
    const terminus = await loadTerminus();
    let found: HealthIndicatorServiceLike | undefined;
    try {
      found = this.moduleRef.get(terminus.HealthIndicatorService as never, { strict: false }) as HealthIndicatorServiceLike;
    } catch {
      found = undefined;
    }
    this.indicators = found ?? new terminus.HealthIndicatorService();
    return this.indicators;
  }
}
