import { Inject } from '@nestjs/common';
import type { Transport } from '../core/transport.types.js';
import type { RetryClock } from '../retry/retry.clock.js';

/** The resolved runtime (transports, renderer); internal. */
export const MAILER_RUNTIME = Symbol.for('nestjs-mailroom:runtime');

/**
 * Optional provider that `MailerModule` consults at start-up. Production code never provides it:
 * `nestjs-mailroom/testing`'s `MailerTestingModule` does (globally), so that an application's own
 * `MailerModule.forRoot/forRootAsync` keeps its configuration — checked as in production — while
 * its mail goes to a capturing transport and no connection is opened.
 */
export const MAILER_TRANSPORT_OVERRIDE = Symbol.for('nestjs-mailroom:transport-override');

export interface MailerTransportOverride {
  /**
   * Gets each transport built from the options, by its configured name, before anything is sent
   * through it; the mailer sends through the transport returned and closes that one at shutdown.
   */
  replaceTransport(transport: Transport): Transport;
  /**
   * The clock retry waits and rate limits go through when the options give none (tests skip the
   * waits rather than sleep through them).
   */
  clock?: RetryClock;
  /**
   * Keeps the template context of each mail on its OutgoingMail (see `templateContextOf`), for
   * captured mail to show what it was rendered from.
   */
  keepTemplateContext?: boolean;
}

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
