/**
 * The reason names of the Sisimai project (5.x), so results can be compared with it case by case.
 * One-line definitions live next to the reply tables in `lib/bounces/`.
 */
export const BOUNCE_REASONS = [
  'authfailure', 'badreputation', 'blocked', 'contenterror', 'delivered', 'emailtoolarge',
  'expired', 'failedstarttls', 'feedback', 'filtered', 'hasmoved', 'hostunknown', 'mailboxfull',
  'mailererror', 'networkerror', 'norelaying', 'notaccept', 'notcompliantrfc', 'onhold',
  'policyviolation', 'ratelimited', 'rejected', 'requireptr', 'securityerror', 'spamdetected',
  'suppressed', 'suspend', 'syntaxerror', 'systemerror', 'systemfull', 'undefined', 'userunknown',
  'vacation', 'virusdetected',
] as const;

export type BounceReason = (typeof BOUNCE_REASONS)[number];

export type DeliveryKind = 'delivered' | 'deferred' | 'bounced' | 'rejected' | 'complained' | 'failed';

export type ClassificationAction = 'none' | 'retry' | 'suppress' | 'fix-config' | 'slow-down';

/** The one shape every SMTP reply, API error, webhook event and bounce e-mail ends as. */
export interface Classification {
  kind: DeliveryKind;
  /** hard = permanent for this recipient; follows the reason, not the first digit. */
  bounce: 'hard' | 'soft' | 'none';
  reason: BounceReason;
  /** May the same message be tried again later? */
  retryable: boolean;
  action: ClassificationAction;
  /** RFC 3463 enhanced status code, e.g. '5.1.1'. */
  status?: string;
  /** RFC 5321 reply code, e.g. 550. */
  replyCode?: number;
  /** The remote text, trimmed. */
  diagnostic?: string;
  recipient?: string;
}
