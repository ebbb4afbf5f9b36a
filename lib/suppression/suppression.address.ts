import { domainToASCII } from 'node:url';

const NON_ASCII = /[^\x00-\x7f]/;

/**
 * The form addresses are matched in: trimmed, the address taken out of `Name <address>`, the whole
 * address lower-cased, Unicode in NFC, and an internationalized domain in its ASCII (punycode) form.
 *
 * RFC 5321 lets a server treat local parts as case-sensitive, but no mailbox provider in use does,
 * and providers' own suppression lists match case-insensitively; matching `Ada@` and `ada@` as two
 * recipients would let a suppressed address through on a change of case. A domain written in
 * Unicode and the same domain in punycode are one mailbox, so both forms find the same entry.
 */
export function normalizeAddress(input: string): string {
  let address = input.trim();
  const open = address.lastIndexOf('<');
  if (open >= 0) {
    const close = address.indexOf('>', open);
    if (close > open) address = address.slice(open + 1, close).trim();
  }
  address = address.normalize('NFC').toLowerCase();
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1) return address;
  let domain = address.slice(at + 1);
  if (domain.endsWith('.')) domain = domain.slice(0, -1);
  if (NON_ASCII.test(domain)) {
    const ascii = domainToASCII(domain);
    if (ascii) domain = ascii;
  }
  return `${address.slice(0, at)}@${domain}`;
}

/** Whether a normalized address has a local part and a domain (`a@b`). */
export function isUsableAddress(normalized: string): boolean {
  const at = normalized.lastIndexOf('@');
  return at > 0 && at < normalized.length - 1;
}
