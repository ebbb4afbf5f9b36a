import { MailerConfigurationError } from '../errors/mailer.error.js';

/**
 * What a scope may be called: the characters of a transport name, so that a scope can be a tenant's
 * id or its transport's name, and never holds the separators a store builds its keys with.
 */
const SCOPE = /^[A-Za-z0-9_.-]{1,100}$/;

/** Throws MailerConfigurationError when `scope` cannot name a list (shown: it is an id, not a secret). */
export function checkSuppressionScope(scope: unknown, where: string): asserts scope is string {
  if (typeof scope !== 'string' || !SCOPE.test(scope)) {
    const shown = typeof scope === 'string' ? JSON.stringify(scope.length > 100 ? `${scope.slice(0, 100)}…` : scope) : `a ${typeof scope}`;
    throw new MailerConfigurationError(`${where}: a suppression scope is 1 to 100 letters, digits, dots, dashes and underscores, got ${shown}.`);
  }
}
