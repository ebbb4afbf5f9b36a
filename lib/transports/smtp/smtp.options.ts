import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import type { DkimConfig } from '../../core/dkim.types.js';
import wellKnown from 'nodemailer/lib/well-known';
import { MailerConfigurationError } from '../../errors/mailer.error.js';
import { checkOptions, nearestKey, type OptionHints, type OptionShape } from '../../errors/option.checker.js';
import { isLoopbackHost } from '../loopback-host.js';

/**
 * How TLS is used on the connection:
 * - `implicit`: TLS from the first byte (RFC 8314; port 465, `smtps://`; nodemailer's `secure: true`).
 * - `starttls`: STARTTLS is required; a server that does not offer it gets nothing (port 587, 2525;
 *   nodemailer's `requireTLS: true`).
 * - `opportunistic`: STARTTLS when the server offers it, clear text otherwise (port 25, other
 *   ports). Credentials are never sent in clear this way: with `auth` set and a host other than
 *   this machine, STARTTLS becomes required.
 * - `none`: never upgrade (local development servers; nodemailer's `ignoreTLS: true`). Chosen
 *   explicitly, it also lets credentials travel in clear.
 */
export type SmtpTlsMode = 'implicit' | 'starttls' | 'opportunistic' | 'none';

/** An OAuth2 service-account key as nodemailer takes it. */
export type SmtpOAuth2PrivateKey = string | { key: string; passphrase: string };

export interface SmtpAuthOptions {
  user: string;
  pass?: string;
  /** `PLAIN`, `LOGIN` or `XOAUTH2` (any case); default: what the server offers, PLAIN first. */
  method?: 'PLAIN' | 'LOGIN' | 'XOAUTH2' | 'plain' | 'login' | 'xoauth2';
  /** OAuth2 access token (XOAUTH2). Refresh settings go in `oauth2` or, nodemailer's way, next to it. */
  accessToken?: string;
  /** Full nodemailer OAuth2 settings (clientId, clientSecret, refreshToken, …) for XOAUTH2. */
  oauth2?: Record<string, unknown>;
  /**
   * nodemailer's name for the kind of login: `'OAuth2'` is XOAUTH2 with the OAuth2 fields below,
   * `'login'` (nodemailer's default) a user and password.
   */
  type?: 'OAuth2' | 'login';
  /** nodemailer's OAuth2 fields, read when `type` is `'OAuth2'` (or `method` is XOAUTH2). */
  clientId?: string;
  clientSecret?: string;
  refreshToken?: string;
  /** Token endpoint. Default Google's. */
  accessUrl?: string;
  /** Expiry of `accessToken`, epoch milliseconds. */
  expires?: number;
  /** Service account (two-legged OAuth2): its client id and private key. */
  serviceClient?: string;
  privateKey?: SmtpOAuth2PrivateKey;
  scope?: string;
}

export interface SmtpPoolOptions {
  /** Connections kept open at once. Default 5. */
  maxConnections?: number;
  /** Messages sent over one connection before it is replaced. Default 100. */
  maxMessages?: number;
}

/** A bunyan-compatible logger (bunyan, pino, …): nodemailer calls `level(entry, message, ...args)`. */
export interface SmtpLogger {
  trace?(...args: unknown[]): void;
  debug?(...args: unknown[]): void;
  info?(...args: unknown[]): void;
  warn?(...args: unknown[]): void;
  error?(...args: unknown[]): void;
  fatal?(...args: unknown[]): void;
}

/**
 * SMTP through nodemailer. The names nodemailer users bring are understood: `secure`,
 * `requireTLS`, `ignoreTLS`, `opportunisticTLS`, `service`, top-level `maxConnections` /
 * `maxMessages`, `authMethod`, `servername`, `auth.type: 'OAuth2'`; combinations that contradict
 * each other are refused at start-up with the fix, and nodemailer options that have no meaning
 * here are refused with what to use instead. See docs/transports.md.
 */
export interface SmtpTransportOptions {
  type?: 'smtp';
  /** Required unless `service` names it. */
  host?: string;
  /** Default: 465 for implicit TLS, 587 otherwise. A numeric string (from an environment variable) is read as a number. */
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
  /** Milliseconds to wait for DNS. Default nodemailer's (30 000). */
  dnsTimeout?: number;
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
  /** Local IP address to connect from. */
  localAddress?: string;
  /** An HTTP(S) proxy URL; the connection is tunnelled with CONNECT. */
  proxy?: string;
  /**
   * `true`: log the connection's life (connect, TLS, auth, sent) at debug level — through Nest's
   * Logger in a MailerModule. A bunyan-compatible logger receives nodemailer's entries instead.
   * Credentials are masked either way.
   */
  logger?: boolean | SmtpLogger;
  /** `true`: log every SMTP command and reply too (credentials masked). Implies `logger: true`. */
  debug?: boolean;
  /** nodemailer's name of a well-known service (`'gmail'`, `'SendGrid'`, …): host, port and TLS from nodemailer's own list. */
  service?: string;
  /** nodemailer's name: `true` is `tlsMode: 'implicit'`; `false` means no implicit TLS (refused on port 465). */
  secure?: boolean;
  /** nodemailer's name: `true` is `tlsMode: 'starttls'`; `false` turns a required STARTTLS into opportunistic (not on 587). */
  requireTLS?: boolean;
  /** nodemailer's name: `true` is `tlsMode: 'none'`. */
  ignoreTLS?: boolean;
  /** nodemailer's name: `true` is `tlsMode: 'opportunistic'`. */
  opportunisticTLS?: boolean;
  /** nodemailer's name for `tls.servername`. */
  servername?: string;
  /** nodemailer's name for `auth.method`. */
  authMethod?: string;
  /** nodemailer's name for `pool.maxConnections` (with `pool: true`). */
  maxConnections?: number;
  /** nodemailer's name for `pool.maxMessages` (with `pool: true`). */
  maxMessages?: number;
  /** Always on here; `false` is refused (see `attachments.allowFilePaths` of the module). */
  disableFileAccess?: boolean;
  /** Always on here; `false` is refused (see `attachments.allowUrls` of the module). */
  disableUrlAccess?: boolean;
}

/** Resolved options: every default applied and checked, every nodemailer name turned into ours. */
export interface ResolvedSmtpOptions {
  host: string;
  port: number;
  tlsMode: SmtpTlsMode;
  connectionTimeout: number;
  greetingTimeout: number;
  socketTimeout: number;
  dnsTimeout?: number;
  textEncoding?: 'quoted-printable' | 'base64';
  auth?: { user: string; pass?: string; method?: 'PLAIN' | 'LOGIN' | 'XOAUTH2'; accessToken?: string; oauth2?: Record<string, unknown> };
  tls?: ConnectionOptions;
  name?: string;
  pool: false | Required<SmtpPoolOptions>;
  localAddress?: string;
  proxy?: string;
  /** `true`: to the transport's logger; an object: a logger of the application's own. */
  logger: boolean | SmtpLogger;
  debug: boolean;
  /**
   * Credentials are set and the connection would be opportunistic to a host that is not this
   * machine: STARTTLS is required, so the credentials never cross an unencrypted connection.
   */
  tlsRequiredForAuth: boolean;
}

const SMTP_OPTION_SHAPE = {
  type: 'string',
  host: 'string',
  port: ['number', 'string'],
  tlsMode: 'string',
  auth: 'object',
  tls: 'object',
  name: 'string',
  pool: ['boolean', 'object'],
  connectionTimeout: 'number',
  greetingTimeout: 'number',
  socketTimeout: 'number',
  dnsTimeout: 'number',
  textEncoding: 'string',
  localAddress: 'string',
  proxy: 'string',
  logger: ['boolean', 'object'],
  debug: 'boolean',
  dkim: 'unknown',
  service: 'string',
  secure: 'boolean',
  requireTLS: 'boolean',
  ignoreTLS: 'boolean',
  opportunisticTLS: 'boolean',
  servername: 'string',
  authMethod: 'string',
  maxConnections: 'number',
  maxMessages: 'number',
  disableFileAccess: 'boolean',
  disableUrlAccess: 'boolean',
} as const satisfies OptionShape<SmtpTransportOptions>;

const SMTP_AUTH_SHAPE = {
  user: 'string',
  pass: 'string',
  method: 'string',
  accessToken: 'string',
  oauth2: 'object',
  type: 'string',
  clientId: 'string',
  clientSecret: 'string',
  refreshToken: 'string',
  accessUrl: 'string',
  expires: 'number',
  serviceClient: 'string',
  privateKey: ['string', 'object'],
  scope: 'string',
} as const satisfies OptionShape<SmtpAuthOptions>;

const SMTP_POOL_SHAPE = { maxConnections: 'number', maxMessages: 'number' } as const satisfies OptionShape<SmtpPoolOptions>;

const OAUTH2_FIELDS = ['clientId', 'clientSecret', 'refreshToken', 'accessUrl', 'expires', 'serviceClient', 'privateKey', 'scope'] as const;

const SOCKET_HINT = 'is not supported: handing a socket to the transport is not; give host and port (and proxy for an HTTP proxy).';
const MESSAGE_DEFAULT_HINT = "is a message field, not a transport option: put it in the module's defaults (defaults: { from, replyTo, headers }).";
const POOL_RATE_HINT = "is nodemailer's pool rate limit; here the send rate is one module option for every transport: rateLimit: { perSecond } or rateLimit.transports.<name>.";

/** nodemailer options that have no meaning here, each with what to write instead. */
export const SMTP_HINTS: OptionHints = {
  url: 'is not read inside an options object: give the URL itself as the transport (transport: \'smtps://user:pass@host\'), or write host, port and auth.',
  sendmail: 'is not supported: the sendmail binary is not used; send through the local MTA over SMTP (smtp://localhost:25).',
  streamTransport: "is not supported: for tests use memory:// ({ type: 'memory' }), which keeps every mail for inspection.",
  jsonTransport: "is not supported: for tests use memory:// ({ type: 'memory' }), which keeps every mail for inspection.",
  SES: "is nodemailer's SES transport; use the SES API transport: ses+api://default?region=eu-west-1 or { type: 'ses', region }.",
  lmtp: 'is not supported: this transport speaks SMTP only.',
  secured: SOCKET_HINT,
  socket: SOCKET_HINT,
  connection: SOCKET_HINT,
  getSocket: SOCKET_HINT,
  customAuth: 'is not supported: the SASL methods are PLAIN, LOGIN and XOAUTH2 (auth.method).',
  forceAuth: 'is not supported: credentials are sent only to a server that offers AUTH.',
  transactionLog: 'is written debug here: debug: true logs every SMTP command and reply, credentials masked.',
  rateLimit: POOL_RATE_HINT,
  rateDelta: POOL_RATE_HINT,
  maxRequeues: 'has no equivalent: a mail whose connection dropped is sent again by the retry policy (the module\'s retry option).',
  idleTimeout: 'has no equivalent: pooled connections stay open until socketTimeout passes without traffic, and all close on shutdown.',
  socketCloseTimeout: "has no equivalent: nodemailer's default applies; remove it.",
  maxResponseSize: "has no equivalent: nodemailer's default applies; remove it.",
  allowInternalNetworkInterfaces: 'has no equivalent: the host is configuration and is always allowed; remove it.',
  component: 'is nodemailer\'s log label; remove it (log lines name the transport).',
  secureConnection: "is the old nodemailer name of secure: write secure: true or tlsMode: 'implicit'.",
  user: 'goes inside auth: { user, pass }.',
  pass: 'goes inside auth: { user, pass }.',
  username: 'goes inside auth: { user, pass }.',
  password: 'goes inside auth: { user, pass }.',
  rejectUnauthorized: 'goes inside tls: { rejectUnauthorized: false }.',
  ca: 'goes inside tls: { ca }.',
  from: MESSAGE_DEFAULT_HINT,
  replyTo: MESSAGE_DEFAULT_HINT,
  headers: MESSAGE_DEFAULT_HINT,
  attachDataUrls: 'is not supported: attach images with a cid (attachments: [{ cid, content }]) and refer to them as cid:….',
  normalizeHeaderKey: 'is not supported: headers are sent as they are written.',
};

const AUTH_HINTS: OptionHints = {
  password: 'is written pass here: auth: { user, pass }.',
  username: 'is written user here: auth: { user, pass }.',
  options: 'is not supported: it configures custom SASL methods, and the methods here are PLAIN, LOGIN and XOAUTH2.',
  credentials: 'is not read: write auth: { user, pass }.',
  timeout: 'goes inside auth.oauth2 (it is an OAuth2 token request setting).',
  requestTimeout: 'goes inside auth.oauth2 (it is an OAuth2 token request setting).',
  serviceRequestTimeout: 'goes inside auth.oauth2 (it is an OAuth2 token request setting).',
  customHeaders: 'goes inside auth.oauth2 (it is an OAuth2 token request setting).',
  customParams: 'goes inside auth.oauth2 (it is an OAuth2 token request setting).',
  provisionCallback: 'goes inside auth.oauth2 (it is an OAuth2 token setting).',
};

const TLS_MODES: readonly SmtpTlsMode[] = ['implicit', 'starttls', 'opportunistic', 'none'];
const AUTH_METHODS = ['PLAIN', 'LOGIN', 'XOAUTH2'] as const;

function defaultTlsMode(port: number): SmtpTlsMode {
  if (port === 465) return 'implicit';
  if (port === 587 || port === 2525) return 'starttls';
  return 'opportunistic';
}

function positiveInt(value: unknown, what: string, where: string): number {
  const n = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n <= 0) {
    throw new MailerConfigurationError(`${where}: ${what} must be a positive whole number, got ${JSON.stringify(value)}.`);
  }
  return n;
}

/** Host, port and TLS of a nodemailer well-known service, laid under what the options say. */
function applyService(options: SmtpTransportOptions, where: string): SmtpTransportOptions {
  const name = options.service as string;
  const known = wellKnown(name);
  if (!known) {
    throw new MailerConfigurationError(`${where}: service ${JSON.stringify(name)} is not in nodemailer's list of well-known services; give host and port instead.`);
  }
  const label = `service ${JSON.stringify(name)}`;
  const port = known.port === undefined ? undefined : Number(known.port);
  const secure = known.secure ?? (port === 465);
  const fix = 'remove it, or drop service and give host and port';
  if (options.host !== undefined && options.host !== known.host) {
    throw new MailerConfigurationError(`${where}: ${label} means host ${known.host ?? 'localhost'}, which contradicts host; ${fix}.`);
  }
  if (options.port !== undefined && port !== undefined && Number(options.port) !== port) {
    throw new MailerConfigurationError(`${where}: ${label} means port ${port}, which contradicts port ${JSON.stringify(options.port)}; ${fix}.`);
  }
  if (options.secure !== undefined && options.secure !== secure) {
    throw new MailerConfigurationError(`${where}: ${label} means ${secure ? 'implicit TLS (secure: true)' : 'no implicit TLS (secure: false)'}, which contradicts secure: ${String(options.secure)}; ${fix}.`);
  }
  if (options.tlsMode !== undefined) {
    throw new MailerConfigurationError(`${where}: ${label} sets the TLS mode itself; remove tlsMode, or drop service and give host and port.`);
  }
  const out: SmtpTransportOptions = { ...options, host: known.host ?? 'localhost', secure };
  delete out.service;
  if (port !== undefined) out.port = port;
  if (known.requireTLS && options.requireTLS === undefined && options.ignoreTLS === undefined) out.requireTLS = true;
  if (known.ignoreTLS && options.ignoreTLS === undefined && options.requireTLS === undefined) out.ignoreTLS = true;
  if (known.authMethod && out.auth && out.auth.method === undefined && options.authMethod === undefined) {
    out.auth = { ...out.auth, method: known.authMethod as SmtpAuthOptions['method'] };
  }
  return out;
}

interface NamedMode {
  mode: SmtpTlsMode;
  /** How the options said it, for messages: `secure: true`, `tlsMode: 'none'`. */
  said: string;
}

/** The TLS mode nodemailer's names and `tlsMode` ask for; refuses names that contradict each other. */
function namedTlsMode(options: SmtpTransportOptions, where: string): NamedMode | undefined {
  if (options.tlsMode !== undefined && !TLS_MODES.includes(options.tlsMode)) {
    throw new MailerConfigurationError(`${where}: tlsMode must be one of ${TLS_MODES.join(', ')}, got ${JSON.stringify(options.tlsMode)}.`);
  }
  const named: NamedMode[] = [];
  if (options.tlsMode !== undefined) named.push({ mode: options.tlsMode, said: `tlsMode: '${options.tlsMode}'` });
  if (options.secure === true) named.push({ mode: 'implicit', said: 'secure: true' });
  if (options.requireTLS === true) named.push({ mode: 'starttls', said: 'requireTLS: true' });
  if (options.ignoreTLS === true) named.push({ mode: 'none', said: 'ignoreTLS: true' });
  if (options.opportunisticTLS === true) named.push({ mode: 'opportunistic', said: 'opportunisticTLS: true' });
  if (options.secure === false && options.tlsMode === 'implicit') {
    throw new MailerConfigurationError(`${where}: secure: false and tlsMode: 'implicit' contradict each other; keep tlsMode and drop secure.`);
  }
  // secure and requireTLS both ask for encryption; implicit TLS gives it from the first byte.
  const distinct = named.filter((n) => !(n.said === 'requireTLS: true' && named.some((m) => m.mode === 'implicit')));
  for (const a of distinct) {
    const b = distinct.find((n) => n.mode !== a.mode);
    if (!b) continue;
    const pair = new Set([a.mode, b.mode]);
    let fix: string;
    if (pair.has('starttls') && pair.has('none')) {
      fix = `${a.said} and ${b.said} contradict each other: one demands STARTTLS, the other forbids it. Keep one — STARTTLS for a server that offers it, none only for a local server without TLS.`;
    } else if (pair.has('implicit') && pair.has('none')) {
      fix = `${a.said} and ${b.said} contradict each other: implicit TLS encrypts from the first byte, so there is no STARTTLS to skip. Drop ${a.mode === 'none' ? a.said : b.said} (or drop secure for a local server without TLS).`;
    } else if (pair.has('implicit')) {
      fix = `${a.said} and ${b.said} contradict each other: STARTTLS settings do not apply to implicit TLS. Keep one.`;
    } else {
      fix = `${a.said} and ${b.said} contradict each other: one requires STARTTLS, the other goes on without it. Keep one.`;
    }
    throw new MailerConfigurationError(`${where}: ${fix} (tlsMode — implicit, starttls, opportunistic or none — is the one setting for this.)`);
  }
  return named.find((n) => n.mode === 'implicit') ?? named[0];
}

type ResolvedAuth = NonNullable<ResolvedSmtpOptions['auth']>;

function resolveAuth(options: SmtpTransportOptions, where: string): ResolvedAuth | undefined {
  const given = options.auth;
  if (given === undefined) {
    if (options.authMethod !== undefined) throw new MailerConfigurationError(`${where}: authMethod is set but auth is not; add auth: { user, pass }.`);
    return undefined;
  }
  const at = `${where}: auth`;
  checkOptions(given, SMTP_AUTH_SHAPE, at, AUTH_HINTS);
  if (!given.user) throw new MailerConfigurationError(`${where}: auth.user is missing.`);
  let method = given.method?.toUpperCase();
  const topMethod = options.authMethod?.toUpperCase();
  if (topMethod !== undefined) {
    if (method !== undefined && method !== topMethod) {
      throw new MailerConfigurationError(`${where}: authMethod ${topMethod} and auth.method ${method} contradict each other; keep one.`);
    }
    method = topMethod;
  }
  const type = given.type?.toLowerCase();
  if (type !== undefined && type !== 'login' && type !== 'oauth2') {
    throw new MailerConfigurationError(`${where}: auth.type ${JSON.stringify(given.type)} is not supported; use 'login' (user and pass) or 'OAuth2'.`);
  }
  const oauth2Fields = OAUTH2_FIELDS.filter((k) => given[k] !== undefined);
  if (type === 'oauth2') {
    if (method !== undefined && method !== 'XOAUTH2') {
      throw new MailerConfigurationError(`${where}: auth.type 'OAuth2' logs in with XOAUTH2, which contradicts method ${method}; drop the method.`);
    }
    method = 'XOAUTH2';
  } else if (type === 'login' && method === 'XOAUTH2') {
    throw new MailerConfigurationError(`${where}: auth.type 'login' is a password login, which contradicts method XOAUTH2; write type: 'OAuth2'.`);
  }
  if (oauth2Fields.length > 0 && method !== 'XOAUTH2') {
    throw new MailerConfigurationError(`${where}: auth.${oauth2Fields[0]} is an OAuth2 setting; add type: 'OAuth2' to log in with it.`);
  }
  if (method !== undefined && !(AUTH_METHODS as readonly string[]).includes(method)) {
    throw new MailerConfigurationError(`${where}: auth method must be PLAIN, LOGIN or XOAUTH2, got ${JSON.stringify(method)}.`);
  }
  const oauth2: Record<string, unknown> = { ...given.oauth2 };
  for (const key of oauth2Fields) oauth2[key] = given[key];
  const out: ResolvedAuth = { user: given.user };
  if (given.pass !== undefined) out.pass = given.pass;
  if (method !== undefined) out.method = method as ResolvedAuth['method'];
  if (given.accessToken !== undefined) out.accessToken = given.accessToken;
  if (Object.keys(oauth2).length > 0) out.oauth2 = oauth2;
  if (out.method !== 'XOAUTH2' && out.pass === undefined && !out.accessToken && !out.oauth2) {
    throw new MailerConfigurationError(`${where}: auth.pass is missing for user ${given.user}.`);
  }
  return out;
}

function resolvePool(options: SmtpTransportOptions, where: string): ResolvedSmtpOptions['pool'] {
  const setting = options.pool ?? true;
  if (typeof setting === 'object') checkOptions(setting, SMTP_POOL_SHAPE, `${where}: pool`, SMTP_HINTS);
  const top: SmtpPoolOptions = {};
  for (const key of ['maxConnections', 'maxMessages'] as const) {
    if (options[key] === undefined) continue;
    if (setting === false) {
      throw new MailerConfigurationError(`${where}: ${key} bounds the connection pool, and pool is false; drop one of them.`);
    }
    if (typeof setting === 'object' && setting[key] !== undefined) {
      throw new MailerConfigurationError(`${where}: ${key} is given twice (${key} and pool.${key}); keep one.`);
    }
    top[key] = options[key];
  }
  if (setting === false) return false;
  const pool = setting === true ? top : { ...setting, ...top };
  return {
    maxConnections: positiveInt(pool.maxConnections ?? 5, 'pool.maxConnections', where),
    maxMessages: positiveInt(pool.maxMessages ?? 100, 'pool.maxMessages', where),
  };
}

function resolveLogger(value: SmtpTransportOptions['logger'], where: string): boolean | SmtpLogger {
  if (value === undefined || typeof value === 'boolean') return value ?? false;
  const levels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
  if (!levels.some((level) => typeof value[level] === 'function')) {
    throw new MailerConfigurationError(`${where}: logger must be true, false or a bunyan-compatible logger (with debug, info, warn, error, …).`);
  }
  return value;
}

function resolveProxy(value: string | undefined, where: string): string | undefined {
  if (value === undefined) return undefined;
  let protocol: string;
  try {
    protocol = new URL(value).protocol;
  } catch {
    throw new MailerConfigurationError(`${where}: proxy is not a URL (not shown, it may hold a password); write http://proxy.example.com:3128.`);
  }
  if (protocol === 'http:' || protocol === 'https:') return value;
  if (protocol.startsWith('socks')) {
    throw new MailerConfigurationError(`${where}: SOCKS proxies are not supported (nodemailer needs a module for them that this package does not load); use an HTTP proxy that allows CONNECT.`);
  }
  throw new MailerConfigurationError(`${where}: proxy must be an http:// or https:// URL, got ${protocol}//….`);
}

function resolveTls(options: SmtpTransportOptions, where: string): ConnectionOptions | undefined {
  if (options.servername === undefined) return options.tls;
  if (options.tls?.servername !== undefined && options.tls.servername !== options.servername) {
    throw new MailerConfigurationError(`${where}: servername and tls.servername differ; keep one.`);
  }
  return { ...options.tls, servername: options.servername };
}

/**
 * Checks the options against their declared shape, turns nodemailer's names into this package's
 * and applies the port rules of RFC 8314, 6409 and 5321. Whatever cannot work — an unknown key, a
 * contradiction, clear text on the submission port — is a MailerConfigurationError naming the fix.
 */
export function resolveSmtpOptions(input: SmtpTransportOptions, where: string): ResolvedSmtpOptions {
  checkOptions(input, SMTP_OPTION_SHAPE, where, SMTP_HINTS);
  if (input.type !== undefined && input.type !== 'smtp') {
    throw new MailerConfigurationError(`${where}: type must be 'smtp' for SMTP options, got ${JSON.stringify(input.type)}.`);
  }
  const options = input.service !== undefined ? applyService(input, where) : input;
  if (!options.host || typeof options.host !== 'string') {
    throw new MailerConfigurationError(`${where}: the SMTP host is missing. Write it as smtp://host:587 or { host: 'smtp.example.com' }.`);
  }
  for (const key of ['disableFileAccess', 'disableUrlAccess'] as const) {
    if (options[key] === false) {
      const instead = key === 'disableFileAccess' ? 'allowFilePaths' : 'allowUrls';
      throw new MailerConfigurationError(`${where}: ${key}: false is refused — attachments are resolved before they reach the transport, which never reads files or URLs itself. Allow them with the module option attachments: { ${instead}: true }.`);
    }
  }
  const named = namedTlsMode(options, where);
  const port = options.port === undefined
    ? named?.mode === 'implicit' ? 465 : 587
    : positiveInt(options.port, 'port', where);
  if (port > 65535) throw new MailerConfigurationError(`${where}: port ${port} is out of range.`);
  if (port === 465 && options.secure === false && named === undefined) {
    throw new MailerConfigurationError(`${where}: port 465 speaks TLS from the first byte (RFC 8314), and secure: false would talk plain SMTP to it until the connection times out. Drop secure: false (TLS on 465), or use port 587 for STARTTLS.`);
  }
  let tlsMode = named?.mode ?? defaultTlsMode(port);
  let said = named?.said;
  if (options.requireTLS === false && named === undefined && tlsMode === 'starttls') {
    tlsMode = 'opportunistic';
    said = 'requireTLS: false';
  }
  if (tlsMode === 'implicit' && port === 587) {
    const how = said === 'secure: true'
      ? 'secure: true means TLS from the first byte, but port 587 speaks STARTTLS: use port 465, or drop secure (STARTTLS on 587).'
      : 'port 587 is the submission port and speaks STARTTLS, not implicit TLS. Use smtps:// with port 465, or smtp:// with port 587.';
    throw new MailerConfigurationError(`${where}: ${how}`);
  }
  if (port === 587 && (tlsMode === 'opportunistic' || tlsMode === 'none')) {
    throw new MailerConfigurationError(`${where}: port 587 requires STARTTLS (RFC 8314); mail would otherwise travel in clear text. Remove ${said ?? `tlsMode=${tlsMode}`}, or use another port for a local server without TLS.`);
  }
  const auth = resolveAuth(options, where);
  if (options.textEncoding !== undefined && options.textEncoding !== 'quoted-printable' && options.textEncoding !== 'base64') {
    throw new MailerConfigurationError(`${where}: textEncoding must be quoted-printable or base64, got ${JSON.stringify(options.textEncoding)}.`);
  }
  if (options.localAddress !== undefined && isIP(options.localAddress) === 0) {
    throw new MailerConfigurationError(`${where}: localAddress must be an IP address of this machine, got ${JSON.stringify(options.localAddress)}.`);
  }
  const resolved: ResolvedSmtpOptions = {
    host: options.host,
    port,
    tlsMode,
    auth,
    tls: resolveTls(options, where),
    name: options.name,
    pool: resolvePool(options, where),
    connectionTimeout: positiveInt(options.connectionTimeout ?? 10_000, 'connectionTimeout', where),
    greetingTimeout: positiveInt(options.greetingTimeout ?? 10_000, 'greetingTimeout', where),
    socketTimeout: positiveInt(options.socketTimeout ?? 30_000, 'socketTimeout', where),
    textEncoding: options.textEncoding,
    logger: resolveLogger(options.logger, where),
    debug: options.debug ?? false,
    tlsRequiredForAuth: auth !== undefined && tlsMode === 'opportunistic' && !isLoopbackHost(options.host),
  };
  if (options.dnsTimeout !== undefined) resolved.dnsTimeout = positiveInt(options.dnsTimeout, 'dnsTimeout', where);
  if (options.localAddress !== undefined) resolved.localAddress = options.localAddress;
  const proxy = resolveProxy(options.proxy, where);
  if (proxy !== undefined) resolved.proxy = proxy;
  return resolved;
}

const BOOLEAN = new Map([['true', true], ['1', true], ['yes', true], ['false', false], ['0', false], ['no', false]]);

function bool(value: string, key: string, where: string): boolean {
  const b = BOOLEAN.get(value.toLowerCase());
  if (b === undefined) throw new MailerConfigurationError(`${where}: ${key} must be true or false, got ${JSON.stringify(value)}.`);
  return b;
}

const URL_OPTIONS = [
  'tlsMode', 'secure', 'requireTLS', 'ignoreTLS', 'pool', 'maxConnections', 'maxMessages', 'connectionTimeout',
  'greetingTimeout', 'socketTimeout', 'dnsTimeout', 'rejectUnauthorized', 'servername', 'name', 'authMethod',
  'textEncoding', 'localAddress', 'debug', 'logger',
] as const;

/**
 * `smtp://user:pass@host:587?tlsMode=starttls&pool=false&maxConnections=3&name=mx.example.com`
 * `smtps://user:pass@host` (implicit TLS, port 465). User and password are URL-decoded.
 * Query keys: the object form's names for the same settings (see URL_OPTIONS); the object they
 * make goes through the same checks as one written by hand.
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
  const tls: ConnectionOptions = {};
  for (const [key, value] of url.searchParams) {
    switch (key) {
      case 'tlsMode':
        if (implicit && value !== 'implicit') throw new MailerConfigurationError(`${where}: smtps:// is implicit TLS; tlsMode=${value} contradicts it.`);
        options.tlsMode = value as SmtpTlsMode;
        break;
      case 'secure': {
        const secure = bool(value, key, where);
        if (implicit && !secure) throw new MailerConfigurationError(`${where}: smtps:// is implicit TLS; secure=false contradicts it.`);
        if (!implicit) options.secure = secure;
        break;
      }
      case 'requireTLS':
      case 'ignoreTLS':
      case 'debug':
      case 'logger':
        options[key] = bool(value, key, where);
        break;
      case 'pool': options.pool = bool(value, key, where); break;
      case 'maxConnections':
      case 'maxMessages':
      case 'connectionTimeout':
      case 'greetingTimeout':
      case 'socketTimeout':
      case 'dnsTimeout':
        options[key] = positiveInt(value, key, where);
        break;
      case 'rejectUnauthorized': tls.rejectUnauthorized = bool(value, key, where); break;
      case 'servername': tls.servername = value; break;
      case 'name': options.name = value; break;
      case 'localAddress': options.localAddress = value; break;
      case 'textEncoding': options.textEncoding = value as SmtpTransportOptions['textEncoding']; break;
      case 'authMethod':
        if (!options.auth) throw new MailerConfigurationError(`${where}: authMethod is set but the URL has no user.`);
        options.auth.method = value.toUpperCase() as SmtpAuthOptions['method'];
        break;
      default: {
        const near = nearestKey(key, URL_OPTIONS);
        throw new MailerConfigurationError(`${where}: unknown SMTP URL option "${key}".${near ? ` Did you mean "${near}"?` : ''} Known: ${URL_OPTIONS.join(', ')}.`);
      }
    }
  }
  if (Object.keys(tls).length) options.tls = tls;
  return options;
}
