import type { BounceReason, Classification } from '../core/classification.types.js';
import type { RejectedRecipient } from '../core/send-result.types.js';
import { buildClassification, isHardBounce } from '../bounces/reason.classifier.js';
import { MailerConfigurationError } from '../errors/mailer.error.js';
import { checkOptions, type OptionShape } from '../errors/option.checker.js';
import { addressProblem } from '../transports/mail-address.rules.js';
import { normalizeAddress } from './suppression.address.js';
import { MAX_DETAIL_LENGTH, isSuppressionReason } from './suppression.entry.js';
import type {
  SuppressedRecipient,
  SuppressionEntry,
  SuppressionReason,
  SuppressionSource,
} from './suppression.types.js';

/** Which outcomes put an address on the list, and for how long. Every field is optional. */
export interface SuppressionPolicyOptions {
  /** Suppress hard bounces: userunknown, hostunknown, hasmoved, and notaccept unless 4xx. Default true. */
  hardBounces?: boolean;
  /** Suppress complaints (kind `complained`, reason `feedback`). Default true. */
  complaints?: boolean;
  /** Suppress recipients a provider reports as already on its own suppression list. Default true. */
  providerSuppressed?: boolean;
  /**
   * Soft reasons to suppress as well, e.g. `['suspend']` for disabled mailboxes. Off by default:
   * a soft bounce may clear by itself. Give them a `ttl` so they do.
   */
  alsoSuppress?: BounceReason[];
  /**
   * How long an entry lasts, in milliseconds, per reason; a reason not listed is permanent. Hard
   * bounces and complaints are permanent by default. For example
   * `{ hostunknown: 30 * 86_400_000 }` lets a domain that did not resolve be tried again a month
   * later.
   */
  ttl?: Partial<Record<SuppressionReason, number>>;
}

const SUPPRESSION_POLICY_SHAPE = {
  hardBounces: 'boolean',
  complaints: 'boolean',
  providerSuppressed: 'boolean',
  alsoSuppress: 'array',
  ttl: 'object',
} as const satisfies OptionShape<SuppressionPolicyOptions>;

/**
 * Checks policy options; throws MailerConfigurationError. Call it where the options are read, so
 * a bad TTL stops the application at start-up.
 */
export function validateSuppressionPolicy(options: SuppressionPolicyOptions = {}): void {
  checkOptions(options, SUPPRESSION_POLICY_SHAPE, 'Suppression policy');
  for (const reason of options.alsoSuppress ?? []) {
    if (!isSuppressionReason(reason) || (reason as string) === 'manual') {
      throw new MailerConfigurationError(`Suppression policy: alsoSuppress names an unknown reason "${String(reason)}".`);
    }
  }
  for (const [reason, ms] of Object.entries(options.ttl ?? {})) {
    if (!isSuppressionReason(reason)) {
      throw new MailerConfigurationError(`Suppression policy: ttl names an unknown reason "${reason}".`);
    }
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms <= 0) {
      throw new MailerConfigurationError(`Suppression policy: ttl.${reason} must be a positive number of milliseconds, got ${String(ms)}.`);
    }
  }
}

/** A 4xx reply or 4.x.x status: the remote side itself says the condition may pass. */
function isTransient(c: Classification): boolean {
  if (c.kind === 'deferred') return true;
  if (c.status !== undefined) return c.status.charCodeAt(0) === 52; /* 4 */
  return c.replyCode !== undefined && c.replyCode >= 400 && c.replyCode < 500;
}

/** The reason an entry made from `c` carries: complaints are `feedback` whatever a webhook called them. */
function reasonOf(c: Classification): SuppressionReason {
  return c.kind === 'complained' ? 'feedback' : c.reason;
}

/**
 * Whether an outcome should put the recipient on the suppression list.
 *
 * - complaints (kind `complained` or reason `feedback`): yes;
 * - hard bounces (userunknown, hostunknown, hasmoved; notaccept unless 4xx): yes, but only when
 *   the refusal is permanent. `450 4.1.1` is a hard reason on a transient reply, and servers that
 *   verify recipients by callout answer it while the check is in progress, so it is left to retry;
 * - `suppressed` from a provider (it refused because its own list has the address): yes. The
 *   rejection `suppressedRejection()` builds for an address this package held back has action
 *   `none` and is not counted, so feeding results back in never rewrites an entry;
 * - soft bounces, deferrals, deliveries: no, unless their reason is in `alsoSuppress`.
 */
export function shouldSuppress(classification: Classification, options: SuppressionPolicyOptions = {}): boolean {
  const c = classification;
  if (c.kind === 'complained' || c.reason === 'feedback') return options.complaints ?? true;
  if (c.kind === 'delivered' || isTransient(c)) return false;
  if (c.reason === 'suppressed') return c.action !== 'none' && (options.providerSuppressed ?? true);
  if (c.bounce === 'hard' || isHardBounce(c.reason, c.replyCode ?? c.status)) return options.hardBounces ?? true;
  return options.alsoSuppress?.includes(c.reason) ?? false;
}

/** The TTL the policy gives a reason, in milliseconds, or undefined for permanent. */
export function suppressionTtl(reason: SuppressionReason, options: SuppressionPolicyOptions = {}): number | undefined {
  return options.ttl?.[reason];
}

export interface EntryFromClassificationOptions {
  policy?: SuppressionPolicyOptions;
  /** The time of the event; default now. `expiresAt` counts from it. */
  at?: Date;
  /** Default: the classification's diagnostic. */
  detail?: string;
}

/**
 * The entry an outcome makes for `address` (normalized). It does not ask `shouldSuppress()`;
 * callers that have not decided yet use `entriesToSuppress()`.
 */
export function entryFromClassification(
  address: string,
  classification: Classification,
  source: SuppressionSource,
  options: EntryFromClassificationOptions = {},
): SuppressionEntry {
  const createdAt = options.at ?? new Date();
  const reason = reasonOf(classification);
  const entry: SuppressionEntry = { address: normalizeAddress(address), reason, source, classification: { ...classification }, createdAt };
  const ttl = suppressionTtl(reason, options.policy);
  if (ttl !== undefined) entry.expiresAt = new Date(createdAt.getTime() + ttl);
  const detail = options.detail ?? classification.diagnostic;
  if (detail !== undefined && detail !== '') entry.detail = detail.slice(0, MAX_DETAIL_LENGTH);
  return entry;
}

/**
 * Anything that names a recipient and how it went: a `RejectedRecipient` of a send result
 * (`address`), a `BounceResult` of `parseBounce()` (`recipient`), a `DeliveryEvent` of a webhook
 * (`recipient`, `timestamp`), or a bare classification that carries `recipient`.
 */
export interface ClassifiedRecipient {
  address?: string;
  recipient?: string;
  classification?: Classification;
  /** When it happened (webhook events carry it); the entry's `createdAt`, and where a TTL counts from. */
  timestamp?: Date;
}

/**
 * The entries a batch of outcomes calls for, by the policy: one per item that names a recipient
 * (an address mail can be sent to), has a classification, and passes `shouldSuppress()`. Each
 * entry is dated by the item's `timestamp`, else by `options.at`, else now. Hand the result to
 * `store.addMany()`.
 */
export function entriesToSuppress(
  items: readonly ClassifiedRecipient[],
  source: SuppressionSource,
  options: EntryFromClassificationOptions = {},
): SuppressionEntry[] {
  const out: SuppressionEntry[] = [];
  const now = options.at ?? new Date();
  for (const item of items) {
    const c = item.classification;
    if (!c || !shouldSuppress(c, options.policy)) continue;
    const address = item.address ?? item.recipient ?? c.recipient;
    // A report may name an address no mail can be sent to (a mangled one in a bounce, say): it
    // needs no entry, and the store would refuse it along with the rest of the batch.
    if (!address || addressProblem(normalizeAddress(address)) !== undefined) continue;
    const at = item.timestamp instanceof Date && Number.isFinite(item.timestamp.getTime()) ? item.timestamp : now;
    out.push(entryFromClassification(address, c, source, { ...options, at }));
  }
  return out;
}

/**
 * How a recipient `filter()` held back is reported in `SendResult.rejected`: reason `suppressed`,
 * kind `rejected`, not retryable, action `none` (the address is already on the list), and the
 * recipient as the mail named it.
 */
export function suppressedRejection(suppressed: SuppressedRecipient): RejectedRecipient {
  const since = suppressed.createdAt.toISOString();
  const response = `Suppressed (${suppressed.reason}, ${suppressed.source}, since ${since}); not sent.`;
  const classification = buildClassification('suppressed', undefined, undefined, response, suppressed.recipient, 'rejected');
  classification.action = 'none';
  return { address: suppressed.recipient, response, classification };
}
