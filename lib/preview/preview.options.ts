import type { OptionShape } from '../errors/option.checker.js';

/** The path the UI is served under when none is given. */
export const DEFAULT_PREVIEW_PATH = 'mail-preview';

/** Mails the outbox keeps when `outboxSize` is not given; the oldest go first. */
export const DEFAULT_OUTBOX_SIZE = 200;

export interface MailerPreviewModuleOptions {
  /**
   * Serve the UI and record sent mail. Default false: a module registered with `enabled` unset or
   * false mounts nothing (with `forRootAsync`, its routes answer 404) and records nothing.
   * Typically `process.env.NODE_ENV !== 'production'`.
   */
  enabled?: boolean;
  /**
   * Start even when `NODE_ENV=production`. Without it an enabled module refuses to start there
   * (MailerConfigurationError): the UI shows every mail the application sends, to anyone who can
   * reach it, and has no login of its own. Default false.
   */
  force?: boolean;
  /** Mails the outbox keeps in memory, newest first; older ones are dropped. Default 200. */
  outboxSize?: number;
}

/** Options that shape the module itself; known before any async options resolve. */
export interface MailerPreviewModuleExtras {
  /**
   * Route of the UI (`GET <path>`), its assets and its JSON API (`<path>/api/…`). Default
   * `mail-preview`. Letters, digits, `-`, `_`, `.` and `/` only.
   */
  path?: string;
}

export const PREVIEW_OPTION_SHAPE = {
  enabled: 'boolean',
  force: 'boolean',
  outboxSize: 'number',
} as const satisfies OptionShape<MailerPreviewModuleOptions>;
