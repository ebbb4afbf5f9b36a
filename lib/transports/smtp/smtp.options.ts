import type { ConnectionOptions } from 'node:tls';
import type { DkimConfig } from '../../core/dkim.types.js';
import { MailerConfigurationError } from '../../errors/mailer.error.js';

/**
 * How TLS is used on the connection:
 * - `implicit`: TLS from the first byte (RFC 8314; port 465, `smtps://`).
 * - `starttls`: STARTTLS is required; a server that does not offer it gets nothing (port 587, 2525).
 * - `opportunistic`: STARTTLS when the server offers it, clear text otherwise (port 25, other ports).
 * - `none`: never upgrade (local development servers only).
 */
export type SmtpTlsMode = 'implicit' | 'starttls' | 'opportunistic' | 'none';

export interface SmtpAuthOptions {
  user: string;
  pass?: string;
  /** `PLAIN`, `LOGIN` or `XOAUTH2`; default: what the server offers, PLAIN first. */
  method?: 'PLAIN' | 'LOGIN' | 'XOAUTH2';
  /** OAuth2 access token (XOAUTH2). Refresh settings go in `oauth2`. */
  accessToken?: string;
  /** Full nodemailer OAuth2 settings (clientId, clientSecret, refreshToken, …) for XOAUTH2. */
  oauth2?: Record<string, unknown>;
}

export interface SmtpPoolOptions {
  /** Connections kept open at once. Default 5. */
  maxConnections?: number;
  /** Messages sent over one connection before it is replaced. Default 100. */
  maxMessages?: number;
}

export interface SmtpTransportOptions {
  type?: 'smtp';
  host: string;
  /** Default: 465 for implicit TLS, 587 otherwise. */
  port?: number;
  /** TLS mode; default follows the port (465 implicit, 587 and 2525 starttls, others opportunistic). */
  tlsMode?: SmtpTlsMode;
  auth?: SmtpAuthOptions;
  /** Node TLS options: `ca` for a private CA, `servername`, … Certificates are verified unless `rejectUnauthorized: false`. */
  tls?: ConnectionOptions;
  /** Hostname sent in EHLO. Default: the machine's hostname. */
  name?: string;
  /** Pooled connections (default on, bounded) or `false` for one connection per mail. */
  pool?: boolean | SmtpPoolOptions;
  /** Milliseconds to establish the TCP/TLS connection. Default 10 000. */
  connectionTimeout?: number;
  /** Milliseconds to wait for the server greeting. Default 10 000. */
  greetingTimeout?: number;
  /** Milliseconds of inactivity before the socket is closed. Default 30 000. */
  socketTimeout?: number;
  /**
   * Transfer encoding of text and HTML parts that are not plain ASCII. Default: quoted-printable
   * for mostly-ASCII text (readable on the wire). `base64` costs far less CPU per mail, which
   * counts when a process sends thousands a minute.
   */
  textEncoding?: 'quoted-printable' | 'base64';
  /**
   * DKIM signatures for every mail sent through this transport (one, or a list for several), in
   * nodemailer's option names. Keys are read and checked at start-up. Object form only: transport
   * URLs carry no DKIM settings. See docs/transports.md.
   */
  dkim?: DkimConfig;
}

/** Resolved options: every default applied and checked. */
export interface ResolvedSmtpOptions extends Required<Pick<SmtpTransportOptions, 'host' | 'port' | 'tlsMode' | 'connectionTimeout' | 'greetingTimeout' | 'socketTimeout'>> {
  textEncoding?: 'quoted-printable' | 'base64';
  auth?: SmtpAuthOptions;
  tls?: ConnectionOptions;
  name?: string;
  pool: false | Required<SmtpPoolOptions>;
}

const TLS_MODES: readonly SmtpTlsMode[] = ['implicit', 'starttls', 'opportunistic', 'none'];

function defaultTlsMode(port: number): SmtpTlsMode {
  if (port === 465) return 'implicit';
  if (port === 587 || port === 2525) return 'starttls';
  return 'opportunistic';
}

function positiveInt(value: unknown, what: string, where: string): number {
  const n = typeof value === 'string' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n <= 0) {
    throw new MailerConfigurationError(`${where}: ${what} must be a positive whole number, got ${JSON.stringify(value)}.`);
  }
  return n;
}

/** Applies the port rules of RFC 8314, 6409 and 5321 and refuses combinations that cannot work. */
export function resolveSmtpOptions(options: SmtpTransportOptions, where: string): ResolvedSmtpOptions {
  if (!options.host || typeof options.host !== 'string') {
    throw new MailerConfigurationError(`${where}: the SMTP host is missing. Write it as smtp://host:587 or { host: 'smtp.example.com' }.`);
  }
  if (options.tlsMode !== undefined && !TLS_MODES.includes(options.tlsMode)) {
    throw new MailerConfigurationError(`${where}: tlsMode must be one of ${TLS_MODES.join(', ')}, got ${JSON.stringify(options.tlsMode)}.`);
  }
  const port = options.port === undefined
    ? options.tlsMode === 'implicit' ? 465 : 587
    : positiveInt(options.port, 'port', where);
  if (port > 65535) throw new MailerConfigurationError(`${where}: port ${port} is out of range.`);
  const tlsMode = options.tlsMode ?? defaultTlsMode(port);
  if (tlsMode === 'implicit' && port === 587) {
    throw new MailerConfigurationError(`${where}: port 587 is the submission port and speaks STARTTLS, not implicit TLS. Use smtps:// with port 465, or smtp:// with port 587.`);
  }
  if (port === 587 && (tlsMode === 'opportunistic' || tlsMode === 'none')) {
    throw new MailerConfigurationError(`${where}: port 587 requires STARTTLS (RFC 8314); mail would otherwise travel in clear text. Remove tlsMode=${tlsMode}, or use another port for a local server without TLS.`);
  }
  if (options.auth) {
    if (!options.auth.user) throw new MailerConfigurationError(`${where}: auth.user is missing.`);
    const method = options.auth.method;
    if (method && !['PLAIN', 'LOGIN', 'XOAUTH2'].includes(method)) {
      throw new MailerConfigurationError(`${where}: auth method must be PLAIN, LOGIN or XOAUTH2, got ${JSON.stringify(method)}.`);
    }
    if (method !== 'XOAUTH2' && options.auth.pass === undefined && !options.auth.accessToken && !options.auth.oauth2) {
      throw new MailerConfigurationError(`${where}: auth.pass is missing for user ${options.auth.user}.`);
    }
  }
  if (options.textEncoding !== undefined && options.textEncoding !== 'quoted-printable' && options.textEncoding !== 'base64') {
    throw new MailerConfigurationError(`${where}: textEncoding must be quoted-printable or base64, got ${JSON.stringify(options.textEncoding)}.`);
  }
  const poolSetting = options.pool ?? true;
  const pool = poolSetting === false ? false as const : {
    maxConnections: positiveInt((poolSetting === true ? undefined : poolSetting.maxConnections) ?? 5, 'pool.maxConnections', where),
    maxMessages: positiveInt((poolSetting === true ? undefined : poolSetting.maxMessages) ?? 100, 'pool.maxMessages', where),
  };
  return {
    host: options.host,
    port,
    tlsMode,
    auth: options.auth,
    tls: options.tls,
    name: options.name,
    pool,
    connectionTimeout: positiveInt(options.connectionTimeout ?? 10_000, 'connectionTimeout', where),
    greetingTimeout: positiveInt(options.greetingTimeout ?? 10_000, 'greetingTimeout', where),
    socketTimeout: positiveInt(options.socketTimeout ?? 30_000, 'socketTimeout', where),
    textEncoding: options.textEncoding,
  };
}

const BOOLEAN = new Map([['true', true], ['1', true], ['yes', true], ['false', false], ['0', false], ['no', false]]);

function bool(value: string, key: string, where: string): boolean {
  const b = BOOLEAN.get(value.toLowerCase());
  if (b === undefined) throw new MailerConfigurationError(`${where}: ${key} must be true or false, got ${JSON.stringify(value)}.`);
  return b;
}

/**
 * `smtp://user:pass@host:587?tlsMode=starttls&pool=false&maxConnections=3&name=mx.example.com`
 * `smtps://user:pass@host` (implicit TLS, port 465). User and password are URL-decoded.
 * Query keys: tlsMode, requireTLS (false turns a required STARTTLS into opportunistic, not on 587),
 * pool, maxConnections, maxMessages, connectionTimeout, greetingTimeout, socketTimeout,
 * rejectUnauthorized, servername, name, authMethod, textEncoding.
 */
export function parseSmtpUrl(url: URL, where: string): SmtpTransportOptions {
  const implicit = url.protocol === 'smtps:';
  const options: SmtpTransportOptions = { type: 'smtp', host: url.hostname.replace(/^\[(.*)\]$/, '$1') };
  if (url.port) options.port = Number(url.port);
  if (implicit) {
    if (options.port === 587) {
      throw new MailerConfigurationError(`${where}: smtps:// means implicit TLS, but port 587 speaks STARTTLS. Use smtps://host:465 or smtp://host:587.`);
    }
    options.tlsMode = 'implicit';
  }
  if (url.username) {
    options.auth = { user: decodeURIComponent(url.username), pass: url.password ? decodeURIComponent(url.password) : undefined };
  }
  const pool: SmtpPoolOptions = {};
  let poolOn = true;
  const tls: ConnectionOptions = {};
  for (const [key, value] of url.searchParams) {
    switch (key) {
      case 'tlsMode':
        if (implicit && value !== 'implicit') throw new MailerConfigurationError(`${where}: smtps:// is implicit TLS; tlsMode=${value} contradicts it.`);
        options.tlsMode = value as SmtpTlsMode;
        break;
      case 'requireTLS': {
        const required = bool(value, key, where);
        if (!implicit) options.tlsMode = required ? 'starttls' : 'opportunistic';
        break;
      }
      case 'pool': poolOn = bool(value, key, where); break;
      case 'maxConnections': pool.maxConnections = positiveInt(value, key, where); break;
      case 'maxMessages': pool.maxMessages = positiveInt(value, key, where); break;
      case 'connectionTimeout':
      case 'greetingTimeout':
      case 'socketTimeout':
        options[key] = positiveInt(value, key, where);
        break;
      case 'rejectUnauthorized': tls.rejectUnauthorized = bool(value, key, where); break;
      case 'servername': tls.servername = value; break;
      case 'name': options.name = value; break;
      case 'textEncoding': options.textEncoding = value as SmtpTransportOptions['textEncoding']; break;
      case 'authMethod':
        if (!options.auth) throw new MailerConfigurationError(`${where}: authMethod is set but the URL has no user.`);
        options.auth.method = value.toUpperCase() as SmtpAuthOptions['method'];
        break;
      default:
        throw new MailerConfigurationError(`${where}: unknown SMTP URL option "${key}". Known: tlsMode, requireTLS, pool, maxConnections, maxMessages, connectionTimeout, greetingTimeout, socketTimeout, rejectUnauthorized, servername, name, authMethod, textEncoding.`);
    }
  }
  options.pool = poolOn ? pool : false;
  if (Object.keys(tls).length) options.tls = tls;
  return options;
}
