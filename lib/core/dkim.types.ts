import type { KeyObject } from 'node:crypto';

/**
 * One DKIM signature (RFC 6376) to put on outgoing mail, in nodemailer's option names. Configured
 * on an SMTP or SES transport (`dkim`), or per send (`mail.dkim`). Signatures are `rsa-sha256` with
 * relaxed/relaxed canonicalization, the only kind nodemailer's signer writes.
 */
export interface DkimOptions {
  /** The signing domain, the `d=` tag. For DMARC it must be (a parent of) the From address's domain. */
  domainName: string;
  /** The selector, the `s=` tag: verifiers fetch the public key from `<keySelector>._domainkey.<domainName>`. */
  keySelector: string;
  /**
   * The RSA private key (at least 1024 bits; 2048 recommended, RFC 8301): PEM text, PKCS#1
   * (`BEGIN RSA PRIVATE KEY`) or PKCS#8 (`BEGIN PRIVATE KEY`, `BEGIN ENCRYPTED PRIVATE KEY` with
   * `passphrase`), as a string or Buffer, or a `KeyObject` from `crypto.createPrivateKey()`.
   * Give this or `privateKeyPath`.
   */
  privateKey?: string | Buffer | KeyObject;
  /**
   * A file holding the PEM private key. On a transport it is read once at start-up; on a mail,
   * when the mail is composed. Keeps the key out of queued jobs.
   */
  privateKeyPath?: string;
  /** Passphrase of an encrypted PEM key. */
  passphrase?: string;
  /**
   * Header fields to sign, colon-separated (`From:To:Subject:Date`). Must include From (RFC 6376
   * §5.4). Default: nodemailer's list — From, Sender, Reply-To, Subject, Date, Message-ID, To, Cc,
   * MIME-Version, the Content-* fields, In-Reply-To, References and the List-* fields.
   */
  headerFieldNames?: string;
  /** Header fields to leave out of the signed list, colon-separated (`Message-ID:Date`). Never From. */
  skipFields?: string;
  /** Only `sha256`: RFC 8301 forbids signing with SHA-1, and DKIM defines no other hash for RSA. */
  hashAlgo?: 'sha256';
}

/** One signature or several (each becomes its own DKIM-Signature header). */
export type DkimConfig = DkimOptions | DkimOptions[];

/** A signature whose key has been read, parsed and checked: what transports sign with. */
export interface DkimSignature {
  domainName: string;
  keySelector: string;
  /** The parsed RSA private key. */
  privateKey: KeyObject;
  headerFieldNames?: string;
  skipFields?: string;
}
