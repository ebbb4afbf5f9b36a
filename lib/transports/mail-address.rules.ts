import { domainToASCII } from 'node:url';
import { InvalidMailError } from '../errors/mailer.error.js';
import { describeCharacter } from './mail-header.rules.js';

/** RFC 5321 §4.5.3.1.1: a local part of at most 64 octets (UTF-8 octets for an SMTPUTF8 address). */
export const LOCAL_PART_MAX_OCTETS = 64;
/** RFC 5321 §4.5.3.1.2: a domain of at most 255 octets. */
export const DOMAIN_MAX_OCTETS = 255;
/** RFC 1035 §2.3.4: a DNS label of at most 63 octets; an IDN label is measured in its punycode form. */
export const LABEL_MAX_OCTETS = 63;
/** RFC 5321 §4.5.3.1.3: a reverse- or forward-path, angle brackets included, of at most 256 octets. */
export const PATH_MAX_OCTETS = 256;

// RFC 5322 atext, plus any non-ASCII character but the C1 controls (RFC 6532 lets UTF-8 stand where atext does).
const ATEXT = /[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~\u00a0-\u{10ffff}]/u;
const DOT_ATOM = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~\u00a0-\u{10ffff}]+(?:\.[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~\u00a0-\u{10ffff}]+)*$/u;
// RFC 5322 quoted-string without folding, not empty: printable ASCII but " and \, UTF-8, or a quoted pair.
const QUOTED = /^"(?:[\x20\x21\x23-\x5b\x5d-\x7e\u00a0-\u{10ffff}]|\\[\x20-\x7e])+"$/u;
// RFC 5321 sub-domain (letters, digits, hyphens inside), with the underscore that DNS names use.
const LABEL = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?$/;
const NON_ASCII = /[^\x00-\x7f]/;
const PUNYCODE = /(?:^|\.)xn--/i;
// LDH labels of at most 63 characters, none of them claiming to be punycode.
const PLAIN_DOMAIN = /^(?!xn--)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.(?!xn--)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*$/i;
const SHOWN_MAX = 60;

function octets(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** The address as an error message shows it: control characters escaped, long ones cut. */
export function showAddress(address: string): string {
  const safe = JSON.stringify(address).slice(1, -1);
  return safe.length > SHOWN_MAX ? `${safe.slice(0, SHOWN_MAX)}…` : safe;
}

function localPartProblem(local: string): string | undefined {
  if (local.startsWith('"')) {
    if (!QUOTED.test(local)) return 'has a quoted local part that is not a valid quoted string';
  } else {
    if (local.startsWith('.')) return 'has a local part that starts with a dot';
    if (local.endsWith('.')) return 'has a local part that ends with a dot';
    if (local.includes('..')) return 'has two dots in a row in its local part (allowed only when the local part is quoted)';
    if (!DOT_ATOM.test(local)) {
      const stray = [...local].find((c) => c !== '.' && !ATEXT.test(c)) ?? '.';
      return `has ${describeCharacter(stray)} in its local part, which only a quoted local part may hold`;
    }
  }
  const size = octets(local);
  if (size > LOCAL_PART_MAX_OCTETS) return `has a local part of ${size} octets; RFC 5321 §4.5.3.1.1 allows at most ${LOCAL_PART_MAX_OCTETS}`;
  return undefined;
}

/** The domain as DNS sees it (punycode for an IDN), or a problem. */
function domainProblem(domain: string): { ascii: string } | { problem: string } {
  // The usual case, a plain ASCII domain within every limit, in one test.
  if (domain.length <= DOMAIN_MAX_OCTETS && PLAIN_DOMAIN.test(domain)) return { ascii: domain };
  if (domain.startsWith('[')) return { problem: 'has an address literal for a domain ([…]), which is not accepted' };
  if (domain.startsWith('.') || domain.endsWith('.') || domain.includes('..')) return { problem: 'has a malformed domain (an empty label)' };
  const idn = NON_ASCII.test(domain);
  // An IDN, or an ASCII label that claims to be punycode (`xn--…`) and must decode; a plain ASCII
  // domain, the usual case, skips the conversion.
  const ascii = idn || PUNYCODE.test(domain) ? domainToASCII(domain) : domain;
  if (!ascii) return { problem: 'has a domain that is not a valid internationalized domain name' };
  for (const label of ascii.split('.')) {
    if (label.length > LABEL_MAX_OCTETS) {
      return { problem: `has a domain label of ${label.length} octets${idn ? ' (in punycode)' : ''}; RFC 1035 allows at most ${LABEL_MAX_OCTETS}` };
    }
    if (!LABEL.test(label)) return { problem: `has a malformed domain label "${showAddress(label)}"` };
  }
  if (ascii.length > DOMAIN_MAX_OCTETS) return { problem: `has a domain of ${ascii.length} octets; RFC 5321 §4.5.3.1.2 allows at most ${DOMAIN_MAX_OCTETS}` };
  return { ascii };
}

/**
 * What is wrong with a bare address (`local@domain`), or undefined when it can be sent: the dot-atom
 * or quoted-string syntax of the local part, LDH labels, and RFC 5321's size limits (local part,
 * label, domain, path). UTF-8 local parts (SMTPUTF8) and IDN domains are accepted; the phrase
 * completes "<address> …".
 */
export function addressProblem(address: string): string | undefined {
  if (typeof address !== 'string' || address === '') return 'is empty';
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1) return 'is not local-part@domain';
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  const localProblem = localPartProblem(local);
  if (localProblem) return localProblem;
  const checked = domainProblem(domain);
  if ('problem' in checked) return checked.problem;
  // The form that goes on the wire: an SMTPUTF8 address keeps its domain in UTF-8, others use punycode.
  const path = 2 + octets(local) + 1 + (NON_ASCII.test(local) ? octets(domain) : checked.ascii.length);
  if (path > PATH_MAX_OCTETS) return `makes an SMTP path of ${path} octets; RFC 5321 §4.5.3.1.3 allows at most ${PATH_MAX_OCTETS}`;
  return undefined;
}

/** Throws InvalidMailError naming `field` and the rule when `address` cannot be sent. */
export function checkAddress(address: string, field: string): void {
  const problem = addressProblem(address);
  if (problem) throw new InvalidMailError(`${field}: "${showAddress(address)}" ${problem}; nothing was sent.`, field);
}
