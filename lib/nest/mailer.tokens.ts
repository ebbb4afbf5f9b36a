import { Inject } from '@nestjs/common';

/** The resolved runtime (transports, renderer); internal. */
export const MAILER_RUNTIME = Symbol.for('nestjs-mailroom:runtime');

/** Injection token of the mailer bound to a transport name. */
export function getMailerToken(transport: string): string {
  return `nestjs-mailroom:mailer:${transport}`;
}

/**
 * Injects a mailer whose sends go to the named transport unless a send says otherwise.
 * The name must be a key of `transports` (forRoot) or listed in `mailers` (forRootAsync).
 */
export function InjectMailer(transport: string): PropertyDecorator & ParameterDecorator {
  return Inject(getMailerToken(transport));
}
