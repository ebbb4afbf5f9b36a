import type { Transport } from '../core/transport.types.js';
import { MailerConfigurationError, MailerError } from '../errors/mailer.error.js';
import { FailoverTransport } from './failover.transport.js';
import type { HttpTransportOptions } from './http/http.types.js';
import { MemoryTransport } from './memory.transport.js';
import { MAILGUN_API_URLS, MailgunTransport, type MailgunTransportOptions } from './providers/mailgun/mailgun.transport.js';
import { PostmarkTransport, type PostmarkTransportOptions } from './providers/postmark/postmark.transport.js';
import { ResendTransport, type ResendTransportOptions } from './providers/resend/resend.transport.js';
import { SENDGRID_API_URLS, SendGridTransport, type SendGridTransportOptions } from './providers/sendgrid/sendgrid.transport.js';
import { SesTransport, type SesTransportOptions } from './providers/ses/ses.transport.js';
import { RoundRobinTransport } from './roundrobin.transport.js';
import { parseSmtpUrl, type SmtpTransportOptions } from './smtp/smtp.options.js';
import { SmtpTransport } from './smtp/smtp.transport.js';

export interface MemoryTransportOptions {
  type: 'memory';
}

export type SendGridTransportConfig = { type: 'sendgrid' } & SendGridTransportOptions;
export type PostmarkTransportConfig = { type: 'postmark' } & PostmarkTransportOptions;
export type SesTransportConfig = { type: 'ses' } & SesTransportOptions;
export type MailgunTransportConfig = { type: 'mailgun' } & MailgunTransportOptions;
export type ResendTransportConfig = { type: 'resend' } & ResendTransportOptions;

/** Several transports behind one name: `failover` (in order) or `roundrobin` (in turn). */
export interface CompositeTransportConfig {
  type: 'failover' | 'roundrobin';
  /** URLs, option objects or Transport instances; nested ones are named `<name>[0]`, `<name>[1]`, … */
  transports: TransportConfig[];
  /** Milliseconds a transport that failed as a whole is skipped. Default 60 000. */
  retryPeriod?: number;
  /** Mails in flight at once when a batch goes through a child without `sendBatch`. Default 8. */
  batchConcurrency?: number;
}

/**
 * A transport as configuration: a URL, an options object with a `type`, or a ready Transport
 * instance. URLs: `smtp://…`, `smtps://…`, `memory://`, `sendgrid+api://KEY@default`,
 * `postmark+api://TOKEN@default`, `ses+api://default?region=eu-west-1`,
 * `mailgun+api://KEY:DOMAIN@default?region=eu`, `resend+api://KEY@default`,
 * `failover(URL URL …)` and `roundrobin(URL URL …)`. See docs/transports.md.
 */
export type TransportConfig =
  | string
  | SmtpTransportOptions
  | MemoryTransportOptions
  | SendGridTransportConfig
  | PostmarkTransportConfig
  | SesTransportConfig
  | MailgunTransportConfig
  | ResendTransportConfig
  | CompositeTransportConfig
  | Transport;

function isTransport(value: unknown): value is Transport {
  return typeof value === 'object' && value !== null
    && typeof (value as Transport).send === 'function'
    && typeof (value as Transport).verify === 'function'
    && typeof (value as Transport).close === 'function';
}

const PROVIDERS = ['sendgrid', 'postmark', 'ses', 'mailgun', 'resend'] as const;
type Provider = (typeof PROVIDERS)[number];

const SCHEMES = ['smtp://', 'smtps://', 'memory://', ...PROVIDERS.map((p) => `${p}+api://`), 'failover(…)', 'roundrobin(…)'];

const COMPOSITE_KINDS = ['failover', 'roundrobin'] as const;
type CompositeKind = (typeof COMPOSITE_KINDS)[number];

const AWS_REGION = /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/;

/** Scheme, host and port only: the rest of a transport URL may hold credentials. */
function describe(url: URL): string {
  return url.host ? `${url.protocol}//${url.host}` : url.protocol;
}

function parseUrl(text: string, where: string): URL {
  try {
    return new URL(text.trim());
  } catch {
    const hint = /,\s*$/.test(text.trim()) ? ' Separate the transports of failover(…) and roundrobin(…) with spaces, not commas.' : '';
    throw new MailerConfigurationError(`${where}: the value is not a transport URL (not shown, it may hold a secret). Expected one of ${SCHEMES.join(', ')}; percent-encode "/", ":", "@", "#", "?" and "%" inside keys.${hint}`);
  }
}

function positiveInt(value: string, key: string, where: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n <= 0) {
    throw new MailerConfigurationError(`${where}: ${key} must be a positive whole number, got ${JSON.stringify(value)}.`);
  }
  return n;
}

function nonNegativeInt(value: string, key: string, where: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) {
    throw new MailerConfigurationError(`${where}: ${key} must be a whole number of milliseconds, got ${JSON.stringify(value)}.`);
  }
  return n;
}

const BOOLEAN = new Map([['true', true], ['1', true], ['yes', true], ['false', false], ['0', false], ['no', false]]);

function bool(value: string, key: string, where: string): boolean {
  const b = BOOLEAN.get(value.toLowerCase());
  if (b === undefined) throw new MailerConfigurationError(`${where}: ${key} must be true or false, got ${JSON.stringify(value)}.`);
  return b;
}

function decodeCredential(raw: string, what: string, where: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new MailerConfigurationError(`${where}: the ${what} has a malformed percent-escape (not shown); encode "%" as %25.`);
  }
}

/** Loopback hosts get plain http by default; everything else https. */
function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127(?:\.\d{1,3}){3}$/.test(host);
}

/** Runs a transport constructor; its configuration errors get the transport's name in front. */
function build<T>(where: string, make: () => T): T {
  try {
    return make();
  } catch (error) {
    if (error instanceof MailerConfigurationError && !error.message.startsWith(where)) {
      throw new MailerConfigurationError(`${where}: ${error.message}`, { cause: error });
    }
    throw error;
  }
}

function checkRegion<R extends string>(provider: string, value: unknown, known: Record<R, string>, where: string): R | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !(value in known)) {
    throw new MailerConfigurationError(`${where}: unknown ${provider} region ${JSON.stringify(value)}; use ${Object.keys(known).join(' or ')}.`);
  }
  return value as R;
}

function checkAwsRegion(value: unknown, where: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !AWS_REGION.test(value)) {
    throw new MailerConfigurationError(`${where}: ${JSON.stringify(value)} is not an AWS region; write one like eu-west-1 or us-east-1.`);
  }
  return value;
}

function requireString(value: unknown, what: string, example: string, where: string): string {
  if (typeof value !== 'string' || value === '') {
    throw new MailerConfigurationError(`${where}: the ${what} is missing; write ${example}.`);
  }
  return value;
}

/**
 * `<provider>+api://[KEY[:SECRET]@]HOST[:PORT][/PATH][?options]`. HOST `default` is the provider's
 * own endpoint; any other host replaces it (https, or http for loopback hosts; `tls=false|true`
 * overrides that), and the path becomes a prefix. Credentials are URL-decoded.
 */
function providerFromUrl(provider: Provider, url: URL, name: string, where: string): Transport {
  const hostname = url.hostname;
  if (!hostname) {
    throw new MailerConfigurationError(`${where}: the host is missing in ${describe(url)}…; write ${provider}+api://<API key>@default for ${provider}'s own endpoint.`);
  }
  const isDefault = hostname.toLowerCase() === 'default';
  const user = url.username ? decodeCredential(url.username, 'key', where) : '';
  const pass = url.password ? decodeCredential(url.password, 'secret', where) : '';
  const http: HttpTransportOptions = { name };
  const query = new Map<string, string>();
  for (const [key, value] of url.searchParams) {
    if (query.has(key)) throw new MailerConfigurationError(`${where}: the option "${key}" is given twice.`);
    query.set(key, value);
  }
  const take = (key: string): string | undefined => {
    const value = query.get(key);
    query.delete(key);
    return value;
  };
  const timeout = take('timeout');
  if (timeout !== undefined) http.timeout = positiveInt(timeout, 'timeout', where);
  const batchConcurrency = take('batchConcurrency');
  if (batchConcurrency !== undefined) http.batchConcurrency = positiveInt(batchConcurrency, 'batchConcurrency', where);
  const tls = take('tls');
  if (isDefault) {
    if (url.port || (url.pathname && url.pathname !== '/')) {
      throw new MailerConfigurationError(`${where}: "default" means ${provider}'s own endpoint and takes no port or path; give a host to use another endpoint.`);
    }
    if (tls !== undefined) throw new MailerConfigurationError(`${where}: tls applies to a custom host only; ${provider}'s own endpoint is always https.`);
  } else {
    const secure = tls === undefined ? !isLoopback(hostname) : bool(tls, 'tls', where);
    const path = url.pathname && url.pathname !== '/' ? url.pathname.replace(/\/+$/, '') : '';
    http.baseUrl = `${secure ? 'https' : 'http'}://${url.host}${path}`;
  }

  const single = (what: string): string => {
    if (pass) throw new MailerConfigurationError(`${where}: ${provider}+api:// takes the ${what} alone before "@" (no ":secret"); write ${provider}+api://<${what}>@default.`);
    return requireString(user, what, `${provider}+api://<${what}>@default`, where);
  };

  let transport: () => Transport;
  switch (provider) {
    case 'sendgrid': {
      const apiKey = single('SendGrid API key');
      const region = checkRegion('SendGrid', take('region'), SENDGRID_API_URLS, where);
      transport = () => new SendGridTransport({ ...http, apiKey, ...(region ? { region } : {}) });
      break;
    }
    case 'postmark': {
      const serverToken = single('Postmark server token');
      const messageStream = take('messageStream');
      if (messageStream === '') throw new MailerConfigurationError(`${where}: messageStream is empty.`);
      transport = () => new PostmarkTransport({ ...http, serverToken, ...(messageStream ? { messageStream } : {}) });
      break;
    }
    case 'resend': {
      const apiKey = single('Resend API key');
      transport = () => new ResendTransport({ ...http, apiKey });
      break;
    }
    case 'mailgun': {
      const apiKey = requireString(user, 'Mailgun API key', 'mailgun+api://<API key>:<domain>@default', where);
      const domain = requireString(pass, 'Mailgun sending domain', 'mailgun+api://<API key>:<domain>@default', where);
      const region = checkRegion('Mailgun', take('region'), MAILGUN_API_URLS, where);
      transport = () => new MailgunTransport({ ...http, apiKey, domain, ...(region ? { region } : {}) });
      break;
    }
    case 'ses': {
      if (Boolean(user) !== Boolean(pass)) {
        throw new MailerConfigurationError(`${where}: give both the access key id and the secret (ses+api://<access key id>:<secret>@default?region=eu-west-1), or neither for the AWS default credential chain.`);
      }
      const options: SesTransportOptions = { ...http };
      const region = checkAwsRegion(take('region'), where);
      if (region) options.region = region;
      if (user) {
        options.accessKeyId = user;
        options.secretAccessKey = pass;
      }
      const sessionToken = take('sessionToken');
      if (sessionToken !== undefined) {
        if (!user) throw new MailerConfigurationError(`${where}: sessionToken needs an access key id and secret in the URL.`);
        options.sessionToken = sessionToken;
      }
      const configurationSetName = take('configurationSetName');
      if (configurationSetName !== undefined) options.configurationSetName = configurationSetName;
      transport = () => new SesTransport(options);
      break;
    }
  }
  if (query.size > 0) {
    const known = ['timeout', 'batchConcurrency', 'tls', ...{
      sendgrid: ['region'], postmark: ['messageStream'], resend: [], mailgun: ['region'], ses: ['region', 'sessionToken', 'configurationSetName'],
    }[provider]];
    throw new MailerConfigurationError(`${where}: unknown ${provider}+api option "${[...query.keys()][0]}". Known: ${known.join(', ')}.`);
  }
  return build(where, transport);
}

function fromUrl(name: string, text: string, where: string): Transport {
  const url = parseUrl(text, where);
  const scheme = url.protocol.replace(/:$/, '').toLowerCase();
  const at = `${where} (${describe(url)})`;
  switch (scheme) {
    case 'smtp':
    case 'smtps':
      if (!url.hostname) throw new MailerConfigurationError(`${where}: the SMTP host is missing in ${describe(url)}…; write smtp://user:pass@host:587.`);
      return new SmtpTransport(name, parseSmtpUrl(url, where));
    case 'memory':
      return new MemoryTransport(name);
    default: {
      const provider = PROVIDERS.find((p) => scheme === `${p}+api`);
      if (provider) return providerFromUrl(provider, url, name, at);
      const bare = PROVIDERS.find((p) => scheme === p || scheme.startsWith(`${p}+`));
      if (bare) {
        throw new MailerConfigurationError(`${where}: unknown scheme "${scheme}". The ${bare} API is ${bare}+api://…; for ${bare}'s SMTP relay use smtp://<user name>:<password>@<host>:587.`);
      }
      throw new MailerConfigurationError(`${where}: unknown scheme "${scheme}". Known: ${SCHEMES.join(', ')}.`);
    }
  }
}

/** `failover(a b …)` / `roundrobin(a b …)`, nested freely, with an optional `?retryPeriod=…` after `)`. */
interface CompositeNode {
  kind: CompositeKind;
  items: Array<CompositeNode | string>;
  query: string;
}

const GROUP_START = /^(failover|roundrobin)\s*\(/i;

/**
 * Reads the composite grammar. Error messages give character positions, never the text: it holds
 * credentials.
 */
function parseComposite(text: string, where: string): CompositeNode {
  let pos = 0;
  const skipSpace = (): void => {
    while (pos < text.length && /\s/.test(text[pos] as string)) pos++;
  };
  const group = (): CompositeNode => {
    const match = GROUP_START.exec(text.slice(pos)) as RegExpExecArray;
    const opened = pos + match[0].length;
    pos = opened;
    const node: CompositeNode = { kind: (match[1] as string).toLowerCase() as CompositeKind, items: [], query: '' };
    for (;;) {
      skipSpace();
      if (pos >= text.length) {
        throw new MailerConfigurationError(`${where}: unbalanced parentheses — the "(" of ${node.kind}( at character ${opened} is never closed.`);
      }
      if (text[pos] === ')') {
        pos++;
        break;
      }
      if (GROUP_START.test(text.slice(pos))) {
        node.items.push(group());
        continue;
      }
      const start = pos;
      while (pos < text.length && !/[\s()]/.test(text[pos] as string)) pos++;
      if (text[pos] === '(') {
        const word = text.slice(start, pos);
        const shown = /^[A-Za-z][A-Za-z0-9+.-]{0,20}$/.test(word) ? `"${word}("` : 'a "("';
        throw new MailerConfigurationError(`${where}: unexpected ${shown} at character ${pos + 1}; only failover(…) and roundrobin(…) group transports (percent-encode parentheses inside a URL as %28 and %29).`);
      }
      if (text[pos - 1] === ',') {
        throw new MailerConfigurationError(`${where}: a "," at character ${pos}; separate the transports of ${node.kind}(…) with spaces, not commas.`);
      }
      node.items.push(text.slice(start, pos));
    }
    if (text[pos] === '?') {
      const start = pos + 1;
      while (pos < text.length && !/[\s()]/.test(text[pos] as string)) pos++;
      node.query = text.slice(start, pos);
    }
    if (node.items.length === 0) throw new MailerConfigurationError(`${where}: ${node.kind}() needs at least one transport.`);
    return node;
  };
  skipSpace();
  const root = group();
  skipSpace();
  if (pos < text.length) {
    throw new MailerConfigurationError(text[pos] === ')'
      ? `${where}: unbalanced parentheses — the ")" at character ${pos + 1} closes nothing.`
      : `${where}: unexpected text at character ${pos + 1}, after the closing ")" of ${root.kind}(…).`);
  }
  return root;
}

function compositeFromNode(name: string, node: CompositeNode, where: string): Transport {
  const options: Omit<CompositeTransportConfig, 'type' | 'transports'> = {};
  for (const [key, value] of new URLSearchParams(node.query)) {
    switch (key) {
      case 'retryPeriod': options.retryPeriod = nonNegativeInt(value, key, where); break;
      case 'batchConcurrency': options.batchConcurrency = positiveInt(value, key, where); break;
      default:
        throw new MailerConfigurationError(`${where}: unknown ${node.kind}(…) option "${key}". Known: retryPeriod, batchConcurrency.`);
    }
  }
  return composite(name, node.kind, node.items.map((item, index) => {
    const child = `${name}[${index}]`;
    return () => (typeof item === 'string' ? fromUrl(child, item, `transport "${child}"`) : compositeFromNode(child, item, `transport "${child}"`));
  }), options, where);
}

/** Builds the children in order; if one cannot be built, those built so far are closed. */
function composite(
  name: string,
  kind: CompositeKind,
  children: Array<() => Transport>,
  options: Omit<CompositeTransportConfig, 'type' | 'transports'>,
  where: string,
): Transport {
  const built: Transport[] = [];
  try {
    for (const make of children) built.push(make());
    const settings = { name, transports: built, retryPeriod: options.retryPeriod, batchConcurrency: options.batchConcurrency };
    return build(where, () => (kind === 'failover' ? new FailoverTransport(settings) : new RoundRobinTransport(settings)));
  } catch (error) {
    for (const t of built) void t.close().catch(() => undefined);
    throw error;
  }
}

function fromString(name: string, text: string, where: string): Transport {
  const trimmed = text.trim();
  if (GROUP_START.test(trimmed)) return compositeFromNode(name, parseComposite(trimmed, where), where);
  if (/^(failover|roundrobin)\b/i.test(trimmed) && !/^[a-z+]+:/i.test(trimmed)) {
    throw new MailerConfigurationError(`${where}: write failover(URL URL …) or roundrobin(URL URL …), the transports between parentheses, separated by spaces.`);
  }
  return fromUrl(name, trimmed, where);
}

function fromObject(name: string, config: Exclude<TransportConfig, string | Transport>, where: string): Transport {
  const type = (config as { type?: string }).type ?? ('host' in config ? 'smtp' : undefined);
  const at = `${where} (${String(type)})`;
  switch (type) {
    case 'smtp':
      return new SmtpTransport(name, config as SmtpTransportOptions);
    case 'memory':
      return new MemoryTransport(name);
    case 'sendgrid': {
      const c = config as SendGridTransportConfig;
      requireString(c.apiKey, 'apiKey', "{ type: 'sendgrid', apiKey }", at);
      checkRegion('SendGrid', c.region, SENDGRID_API_URLS, at);
      return build(at, () => new SendGridTransport({ ...withoutType(c), name: c.name ?? name }));
    }
    case 'postmark': {
      const c = config as PostmarkTransportConfig;
      requireString(c.serverToken, 'serverToken', "{ type: 'postmark', serverToken }", at);
      return build(at, () => new PostmarkTransport({ ...withoutType(c), name: c.name ?? name }));
    }
    case 'resend': {
      const c = config as ResendTransportConfig;
      requireString(c.apiKey, 'apiKey', "{ type: 'resend', apiKey }", at);
      return build(at, () => new ResendTransport({ ...withoutType(c), name: c.name ?? name }));
    }
    case 'mailgun': {
      const c = config as MailgunTransportConfig;
      requireString(c.apiKey, 'apiKey', "{ type: 'mailgun', apiKey, domain }", at);
      requireString(c.domain, 'domain', "{ type: 'mailgun', apiKey, domain }", at);
      checkRegion('Mailgun', c.region, MAILGUN_API_URLS, at);
      return build(at, () => new MailgunTransport({ ...withoutType(c), name: c.name ?? name }));
    }
    case 'ses': {
      const c = config as SesTransportConfig;
      checkAwsRegion(c.region, at);
      return build(at, () => new SesTransport({ ...withoutType(c), name: c.name ?? name }));
    }
    case 'failover':
    case 'roundrobin': {
      const c = config as CompositeTransportConfig;
      if (!Array.isArray(c.transports) || c.transports.length === 0) {
        throw new MailerConfigurationError(`${at}: transports must be a non-empty array of transport URLs, option objects or Transport instances.`);
      }
      return composite(name, type, c.transports.map((child, index) => () => createTransport(`${name}[${index}]`, child)), c, at);
    }
    default:
      throw new MailerConfigurationError(`${where}: unknown transport type ${JSON.stringify(type)}. Known: smtp, memory, ${PROVIDERS.join(', ')}, failover, roundrobin.`);
  }
}

function withoutType<T extends { type: string }>(config: T): Omit<T, 'type'> {
  const { type: _type, ...rest } = config;
  return rest;
}

/**
 * Turns configuration into a Transport. Every mistake is a MailerConfigurationError that names the
 * transport (`transport "default[1]" (postmark+api://default): …`) and never shows a key or secret.
 */
export function createTransport(name: string, config: TransportConfig): Transport {
  const where = `transport "${name}"`;
  if (config === undefined || config === null || config === '') {
    throw new MailerConfigurationError(`${where} has no configuration. Give a URL such as smtp://<user name>:<password>@smtp.example.com:587, postmark+api://<token>@default or memory://.`);
  }
  if (typeof config === 'string') return fromString(name, config, where);
  if (isTransport(config)) return config;
  if (typeof config !== 'object') {
    throw new MailerConfigurationError(`${where}: expected a URL string, an options object or a Transport, got ${typeof config}.`);
  }
  try {
    return fromObject(name, config, where);
  } catch (error) {
    if (error instanceof MailerError) throw error;
    throw new MailerConfigurationError(`${where}: ${(error as Error).message}`, { cause: error });
  }
}
