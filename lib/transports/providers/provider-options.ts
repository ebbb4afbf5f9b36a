import { MailerConfigurationError } from '../../errors/mailer.error.js';
import type { ProviderUrlParts } from './provider.definition.js';

const AWS_REGION = /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/;

/** A value that must be a non-empty string; the message shows how to write it, never the value. */
export function requireString(value: unknown, what: string, example: string, where: string): string {
  if (typeof value !== 'string' || value === '') {
    throw new MailerConfigurationError(`${where}: the ${what} is missing; write ${example}.`);
  }
  return value;
}

/** One of the provider's named regions, or undefined. */
export function checkRegion<R extends string>(provider: string, value: unknown, known: Record<R, string>, where: string): R | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !Object.hasOwn(known, value)) {
    throw new MailerConfigurationError(`${where}: unknown ${provider} region ${JSON.stringify(value)}; use ${Object.keys(known).join(' or ')}.`);
  }
  return value as R;
}

export function checkAwsRegion(value: unknown, where: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !AWS_REGION.test(value)) {
    throw new MailerConfigurationError(`${where}: ${JSON.stringify(value)} is not an AWS region; write one like eu-west-1 or us-east-1.`);
  }
  return value;
}

/** The credential of a `<scheme>://<credential>@default` URL, which has no `:secret` part. */
export function singleCredential(parts: ProviderUrlParts, scheme: string, what: string): string {
  if (parts.pass) {
    throw new MailerConfigurationError(`${parts.where}: ${scheme}:// takes the ${what} alone before "@" (no ":secret"); write ${scheme}://<${what}>@default.`);
  }
  return requireString(parts.user, what, `${scheme}://<${what}>@default`, parts.where);
}
