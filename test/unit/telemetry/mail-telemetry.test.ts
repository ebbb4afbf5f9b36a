import * as otelApi from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { MailerConfigurationError } from '../../../lib/index.js';
import { MailTelemetry } from '../../../lib/telemetry/mail.telemetry.js';
import { checkTelemetryOptions } from '../../../lib/telemetry/telemetry.options.js';
import { TelemetryPrivacy } from '../../../lib/telemetry/telemetry.privacy.js';
import type { OtelApiModule } from '../../../lib/telemetry/otel.types.js';

// The shape the package calls is what the real API module has (checked by the type-check).
const realApi: OtelApiModule = otelApi;

const missing = () => Promise.reject(Object.assign(new Error("Cannot find package '@opentelemetry/api'"), { code: 'ERR_MODULE_NOT_FOUND' }));

describe('MailTelemetry without @opentelemetry/api', () => {
  it('is off without a word when nothing asked for it, and every entry point runs the work as it is', async () => {
    const telemetry = await MailTelemetry.create(undefined, missing);
    expect(telemetry.enabled).toBe(false);
    expect(telemetry.startSend({ name: 'default', kind: 'smtp' })).toBeUndefined();
    await expect(telemetry.enqueue('mail', 1, async (carrier) => carrier)).resolves.toBeUndefined();
    await expect(telemetry.processJob('mail', { id: '1', attempt: 1 }, { traceparent: 'x' }, async () => 'sent')).resolves.toBe('sent');
    await expect(telemetry.bounce(async () => [])).resolves.toEqual([]);
    expect(() => telemetry.signatureFailure('postmark', 'mismatch')).not.toThrow();
  });

  it('options given while the package is missing stop start-up with the install command', async () => {
    const error = await MailTelemetry.create({ recipients: 'domain' }, missing).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MailerConfigurationError);
    expect((error as Error).message).toContain('npm install @opentelemetry/api');
  });

  it('an error other than a missing package is not hidden', async () => {
    await expect(MailTelemetry.create(undefined, () => Promise.reject(new SyntaxError('broken build')))).rejects.toThrow('broken build');
  });
});

describe('MailTelemetry with the API and no SDK registered', () => {
  it('records nothing and starts no send telemetry', async () => {
    const telemetry = await MailTelemetry.create(undefined, async () => realApi);
    expect(telemetry.instruments).toBeUndefined();
    expect(telemetry.startSend({ name: 'default', kind: 'smtp' })).toBeUndefined();
    await expect(telemetry.enqueue('mail', 1, async (carrier) => carrier)).resolves.toBeUndefined();
  });
});

describe('telemetry options', () => {
  it('refuses unknown keys and values, naming what to write', () => {
    expect(() => checkTelemetryOptions({ recipient: 'domain' })).toThrow(/recipients/);
    expect(() => checkTelemetryOptions({ recipients: 'clear' })).toThrow(/'none', 'domain' or 'hash'/);
    expect(() => checkTelemetryOptions({ subject: 'domain' })).toThrow(/'none' or 'hash'/);
    expect(() => checkTelemetryOptions({ logs: false })).toThrow(/logFailures/);
    expect(() => checkTelemetryOptions({ recipients: 'hash', hashKey: 's', logFailures: false })).not.toThrow();
  });

  it('hides recipients unless asked; domains are deduplicated, hashes are keyed and case-blind', () => {
    expect(new TelemetryPrivacy().showRecipients(['a@x.org'])).toBeUndefined();
    expect(new TelemetryPrivacy({ recipients: 'domain' }).showRecipients(['a@X.org', 'b@x.org', 'c@y.com'])).toEqual(['x.org', 'y.com']);
    const keyed = new TelemetryPrivacy({ recipients: 'hash', hashKey: 'one' });
    const other = new TelemetryPrivacy({ recipients: 'hash', hashKey: 'two' });
    expect(keyed.showRecipients(['A@x.org'])).toEqual(keyed.showRecipients(['a@x.org']));
    expect(keyed.showRecipients(['a@x.org'])).not.toEqual(other.showRecipients(['a@x.org']));
    expect(new TelemetryPrivacy().showSubject('Hello')).toBeUndefined();
  });
});
