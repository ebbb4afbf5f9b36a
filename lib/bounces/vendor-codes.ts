import type { BounceReason } from '../core/classification.types.js';

/**
 * Providers that answer with a code of their own and few or no telling words; each code's meaning is
 * the one the provider publishes for it. Texts are matched lower case.
 */

/** Orange and La Poste (France): `OFR006_102`, `OFR_999`, `LPN006_107`, `OUK_513`: the last three digits. */
const ORANGE_CODE = /\b(?:ofr|lpn|lpnaaa|ouk)\d*_(\d{3})\b/;
const ORANGE: ReadonlyMap<string, BounceReason> = new Map<string, BounceReason>([
  ['101', 'blocked'], ['102', 'blocked'], ['103', 'blocked'], // sending IP on a block list or of poor standing
  ['104', 'ratelimited'], // too many connections
  ['107', 'requireptr'], // sending IP without reverse DNS
  ['305', 'securityerror'],
  ['401', 'authfailure'], // SPF of the sender's domain
  ['402', 'securityerror'],
  ['403', 'rejected'], ['405', 'rejected'], ['415', 'rejected'], ['421', 'rejected'], // the sender's address or domain
  ['416', 'userunknown'],
  ['417', 'mailboxfull'],
  ['420', 'suspend'], ['426', 'suspend'],
  ['505', 'systemerror'],
  ['506', 'spamdetected'],
  ['510', 'blocked'],
  ['514', 'emailtoolarge'],
  ['517', 'authfailure'],
  ['630', 'policyviolation'],
  ['999', 'ratelimited'], // "service refused, please try later": the servers shed load
]);

/** Cox (`AUP#CXBL`) and Charter/Spectrum (`AUP#In-1310`) acceptable-use codes. */
const AUP_CODE = /aup#([a-z]+)?-?(\d{4})?/;
const COX: ReadonlyMap<string, BounceReason> = new Map<string, BounceReason>([
  ['cxbl', 'blocked'], ['cdrbl', 'blocked'], ['ipbl', 'blocked'],
  ['cxdns', 'requireptr'],
  ['cxsndr', 'authfailure'],
  ['cxsmtp', 'rejected'],
  ['cxcnct', 'ratelimited'], ['cxmxrt', 'ratelimited'],
  ['cxthrt', 'securityerror'], ['cxmj', 'securityerror'],
  ['urlbl', 'spamdetected'],
]);
/** Spectrum's four-digit codes by range: [first, last, reason]. */
const SPECTRUM: ReadonlyArray<readonly [number, number, BounceReason]> = [
  [1000, 1000, 'blocked'], [1010, 1080, 'rejected'], [1090, 1090, 'systemerror'], [1100, 1150, 'requireptr'],
  [1160, 1190, 'policyviolation'], [1200, 1250, 'blocked'], [1260, 1260, 'networkerror'], [1300, 1490, 'ratelimited'],
  [1500, 1520, 'rejected'], [1530, 1530, 'emailtoolarge'], [1540, 1550, 'ratelimited'], [1560, 1560, 'policyviolation'],
  [1580, 1580, 'ratelimited'],
];

/** The reason a provider's own code in the (lower-cased) text stands for, if the text carries one. */
export function vendorReason(text: string): BounceReason | undefined {
  // Every code below has a `#` or a `_` (`aup#…`, `ofr006_102`): most texts have neither.
  const hash = text.indexOf('#');
  const underscore = text.indexOf('_');
  if (hash < 0 && underscore < 0) return undefined;
  if (hash >= 0 && text.indexOf('aup#') >= 0) {
    const m = AUP_CODE.exec(text);
    if (m) {
      if (m[2] !== undefined && (m[1] === undefined || m[1] === 'in' || m[1] === 'out')) {
        const n = Number(m[2]);
        for (const [lo, hi, reason] of SPECTRUM) if (n >= lo && n <= hi) return reason;
      }
      if (m[1] !== undefined) {
        for (const [prefix, reason] of COX) if (m[1].startsWith(prefix)) return reason;
      }
    }
  }
  if (underscore >= 0 && (text.indexOf('ofr') >= 0 || text.indexOf('lpn') >= 0 || text.indexOf('ouk') >= 0)) {
    const m = ORANGE_CODE.exec(text);
    if (m) return ORANGE.get(m[1]!);
  }
  return undefined;
}

/** au/KDDI's mail hosts (`lsean.ezweb.ne.jp`, `msmx.au.com`) and its recipients' domains. */
function isKddi(host: string | undefined): boolean {
  if (host === undefined) return false;
  return host === 'ezweb.ne.jp' || host.endsWith('.ezweb.ne.jp') || host === 'au.com' || host.endsWith('.au.com');
}

/**
 * au/KDDI answers "User unknown" in two forms: with the refused address in angle brackets
 * (`550 <a@ezweb.ne.jp>: User unknown`) when the mailbox does not exist, and with the address left
 * empty (`550 : User unknown`) when the recipient's own reception filter refuses the sender.
 */
function kddiReason(text: string, at: number): BounceReason | undefined {
  // `at` is where "user unknown" starts; the form is told by the characters just before it.
  if (at >= 3 && text.charCodeAt(at - 1) === 32 && text.charCodeAt(at - 2) === 58 /* : */) {
    const before = text.charCodeAt(at - 3);
    if (before === 62 /* > */) return 'userunknown';
    if (before === 32 || before === 58) return 'filtered';
  }
  return undefined;
}

/**
 * Providers whose ordinary words mean something else at a given SMTP stage. NTT docomo's MX answers
 * "Unknown user" after DATA when the recipient's own filter refuses the sender (an unknown mailbox is
 * refused at RCPT); au/KDDI's two forms of "User unknown" are told apart by the address they name.
 * `domain` is the recipient's domain, lower case.
 */
export function stageReason(text: string, command: string | undefined, remoteMta?: string, domain?: string): BounceReason | undefined {
  if (command === 'DATA' && text.indexOf('unknown user') >= 0) {
    if (remoteMta?.endsWith('.docomo.ne.jp') || text.indexOf('.docomo.ne.jp[') >= 0) return 'rejected';
  }
  if (!isKddi(remoteMta) && !isKddi(domain)) return undefined;
  const at = text.indexOf('user unknown');
  return at >= 0 ? kddiReason(text, at) : undefined;
}

/**
 * Amazon SES bounce sub-types that decide the reason on their own (Resend passes SES's on too).
 * The suppression sub-types mean SES did not even try: its global list, the account's or a tenant's.
 */
export const SES_BOUNCE_SUBTYPE_REASONS: Readonly<Record<string, BounceReason>> = {
  NoEmail: 'userunknown',
  MailboxFull: 'mailboxfull',
  MessageTooLarge: 'emailtoolarge',
  ContentRejected: 'contenterror',
  AttachmentRejected: 'contenterror',
};
export const SES_SUPPRESSION_SUBTYPES: ReadonlySet<string> = new Set(['Suppressed', 'OnAccountSuppressionList', 'OnTenantSuppressionList']);
