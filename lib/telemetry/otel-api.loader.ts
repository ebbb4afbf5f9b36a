import { MailerConfigurationError } from '../errors/mailer.error.js';
import type { OtelApiModule } from './otel.types.js';

export const OTEL_API_INSTALL = 'npm install @opentelemetry/api';

function isMissingModule(cause: unknown): boolean {
  const code = (cause as { code?: unknown } | undefined)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' || /Cannot find (module|package)/.test(String(cause));
}

/**
 * Loads `@opentelemetry/api` when it is installed; undefined when it is not, unless `required`
 * (telemetry options were given), when that is a configuration error naming the install command.
 */
export async function loadOtelApi(required: boolean, loader?: () => Promise<unknown>): Promise<OtelApiModule | undefined> {
  let mod: unknown;
  try {
    // A non-literal specifier keeps TypeScript and bundlers from requiring the optional peer.
    const specifier = '@opentelemetry/api';
    mod = loader ? await loader() : await import(specifier);
  } catch (cause) {
    if (!isMissingModule(cause)) throw cause;
    if (!required) return undefined;
    throw new MailerConfigurationError(`MailerModule: telemetry needs @opentelemetry/api: run \`${OTEL_API_INSTALL}\` (and register an OpenTelemetry SDK).`, { cause });
  }
  const api = ((mod as { trace?: unknown }).trace ? mod : (mod as { default?: unknown }).default) as OtelApiModule | undefined;
  if (!api || typeof api.trace?.getTracerProvider !== 'function' || typeof api.metrics?.getMeterProvider !== 'function' || typeof api.propagation?.inject !== 'function') {
    throw new MailerConfigurationError('MailerModule: @opentelemetry/api did not load as expected (no trace or metrics API); install version 1.4 or later.');
  }
  return api;
}
