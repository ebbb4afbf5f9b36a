import type { Transport } from '../core/transport.types.js';
import { MailerConfigurationError, MailerError } from '../errors/mailer.error.js';
import { checkOptions, expectOptionsObject, nearestKey, type OptionShape } from '../errors/option.checker.js';
import { FailoverTransport } from './failover.transport.js';
import type { HttpTransportOptions } from './http/http.types.js';
import { isLoopbackHost } from './loopback-host.js';
import { MemoryTransport } from './memory.transport.js';
import type { MailgunTransportOptions } from './providers/mailgun/mailgun.transport.js';
import type { PostmarkTransportOptions } from './providers/postmark/postmark.transport.js';
import type { ProviderDefinition, ProviderUrlParts } from './providers/provider.definition.js';
import { PROVIDER_DEFINITIONS, providerDefinition } from './providers/providers.registry.js';
import type { ResendTransportOptions } from './providers/resend/resend.transport.js';
import type { SendGridTransportOptions } from './providers/sendgrid/sendgrid.transport.js';
import type { SesTransportOptions } from './providers/ses/ses.transport.js';
import { RoundRobinTransport } from './roundrobin.transport.js';
import { parseSmtpUrl, SMTP_HINTS, type SmtpTransportOptions } from './smtp/smtp.options.js';
import { SmtpTransport } from './smtp/smtp.transport.js';
import type { TransportContext } from './transport-logger.js';

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
 * `failover(URL URL …)` and `roundrobin(URL URL …)`. An object without `type` that has `host` or
 * `service` is SMTP options, as nodemailer writes them. Every options object is checked against
 * its declared shape: an unknown key is a start-up error naming the nearest known one. See
 * docs/transports.md.
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

const SCHEMES = ['smtp://', 'smtps://', 'memory://', ...PROVIDER_DEFINITIONS.map((p) => `${p.scheme}://`), 'failover(…)', 'roundrobin(…)'];
const TYPES = ['smtp', 'memory', ...PROVIDER_DEFINITIONS.map((p) => p.name), 'failover', 'roundrobin'];

const COMPOSITE_KINDS = ['failover', 'roundrobin'] as const;
type CompositeKind = (typeof COMPOSITE_KINDS)[number];

const HTTP_URL_OPTIONS = ['timeout', 'batchConcurrency', 'tls'] as const;
const COMPOSITE_URL_OPTIONS = ['retryPeriod', 'batchConcurrency'] as const;

const COMPOSITE_SHAPE = {
  type: 'string',
  transports: 'array',
  retryPeriod: 'number',
  batchConcurrency: 'number',
} as const satisfies OptionShape<CompositeTransportConfig>;

const MEMORY_SHAPE = { type: 'string' } as const satisfies OptionShape<MemoryTransportOptions>;

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

/**
 * `<provider>+api://[KEY[:SECRET]@]HOST[:PORT][/PATH][?options]`. HOST `default` is the provider's
 * own endpoint; any other host replaces it (https, or http for loopback hosts; `tls=false|true`
 * overrides that), and the path becomes a prefix. Credentials are URL-decoded; the provider's
 * definition reads them and its own options.
 */
function providerFromUrl(definition: ProviderDefinition, url: URL, name: string, where: string): Transport {
  const { scheme } = definition;
  const hostname = url.hostname;
  if (!hostname) {
    throw new MailerConfigurationError(`${where}: the host is missing in ${describe(url)}…; write ${scheme}://<API key>@default for ${definition.title}'s own endpoint.`);
  }
  const isDefault = hostname.toLowerCase() === 'default';
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
      throw new MailerConfigurationError(`${where}: "default" means ${definition.title}'s own endpoint and takes no port or path; give a host to use another endpoint.`);
    }
    if (tls !== undefined) throw new MailerConfigurationError(`${where}: tls applies to a custom host only; ${definition.title}'s own endpoint is always https.`);
  } else {
    const secure = tls === undefined ? !isLoopbackHost(hostname) : bool(tls, 'tls', where);
    const path = url.pathname && url.pathname !== '/' ? url.pathname.replace(/\/+$/, '') : '';
    http.baseUrl = `${secure ? 'https' : 'http'}://${url.host}${path}`;
  }
  const parts: ProviderUrlParts = {
    user: url.username ? decodeCredential(url.username, 'key', where) : '',
    pass: url.password ? decodeCredential(url.password, 'secret', where) : '',
    take,
    http,
    where,
  };
  const options = definition.fromUrl(parts);
  if (query.size > 0) {
    const known = [...HTTP_URL_OPTIONS, ...definition.urlOptions];
    const key = [...query.keys()][0]!;
    const near = nearestKey(key, known);
    throw new MailerConfigurationError(`${where}: unknown ${scheme} option "${key}".${near ? ` Did you mean "${near}"?` : ''} Known: ${known.join(', ')}.`);
  }
  return build(where, () => definition.create(options));
}

function fromUrl(name: string, text: string, where: string, context: TransportContext): Transport {
  const url = parseUrl(text, where);
  const scheme = url.protocol.replace(/:$/, '').toLowerCase();
  const at = `${where} (${describe(url)})`;
  if (scheme === 'smtp' || scheme === 'smtps') {
    if (!url.hostname) throw new MailerConfigurationError(`${where}: the SMTP host is missing in ${describe(url)}…; write smtp://user:pass@host:587.`);
    return new SmtpTransport(name, parseSmtpUrl(url, where), context);
  }
  if (scheme === 'memory') return new MemoryTransport(name);
  const definition = PROVIDER_DEFINITIONS.find((p) => p.scheme === scheme);
  if (definition) return providerFromUrl(definition, url, name, at);
  const bare = PROVIDER_DEFINITIONS.find((p) => scheme === p.name || scheme.startsWith(`${p.name}+`));
  if (bare) {
    throw new MailerConfigurationError(`${where}: unknown scheme "${scheme}". The ${bare.title} API is ${bare.scheme}://…; for ${bare.title}'s SMTP relay use smtp://<user name>:<password>@<host>:587.`);
  }
  throw new MailerConfigurationError(`${where}: unknown scheme "${scheme}". Known: ${SCHEMES.join(', ')}.`);
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

function compositeFromNode(name: string, node: CompositeNode, where: string, context: TransportContext): Transport {
  const options: Omit<CompositeTransportConfig, 'type' | 'transports'> = {};
  for (const [key, value] of new URLSearchParams(node.query)) {
    switch (key) {
      case 'retryPeriod': options.retryPeriod = nonNegativeInt(value, key, where); break;
      case 'batchConcurrency': options.batchConcurrency = positiveInt(value, key, where); break;
      default: {
        const near = nearestKey(key, COMPOSITE_URL_OPTIONS);
        throw new MailerConfigurationError(`${where}: unknown ${node.kind}(…) option "${key}".${near ? ` Did you mean "${near}"?` : ''} Known: ${COMPOSITE_URL_OPTIONS.join(', ')}.`);
      }
    }
  }
  return composite(name, node.kind, node.items.map((item, index) => {
    const child = `${name}[${index}]`;
    return () => (typeof item === 'string'
      ? fromUrl(child, item, `transport "${child}"`, context)
      : compositeFromNode(child, item, `transport "${child}"`, context));
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

function fromString(name: string, text: string, where: string, context: TransportContext): Transport {
  const trimmed = text.trim();
  if (GROUP_START.test(trimmed)) return compositeFromNode(name, parseComposite(trimmed, where), where, context);
  if (/^(failover|roundrobin)\b/i.test(trimmed) && !/^[a-z+]+:/i.test(trimmed)) {
    throw new MailerConfigurationError(`${where}: write failover(URL URL …) or roundrobin(URL URL …), the transports between parentheses, separated by spaces.`);
  }
  return fromUrl(name, trimmed, where, context);
}

/** nodemailer transports with no counterpart here, recognised by the key that selects them. */
const NODEMAILER_ONLY = ['sendmail', 'streamTransport', 'jsonTransport', 'SES', 'url'] as const;

/** What an object without `type` is: SMTP options (nodemailer's shape), or a refusal that says what to write. */
function untypedKind(config: Record<string, unknown>, where: string): 'smtp' {
  if (typeof config.sendMail === 'function') {
    throw new MailerConfigurationError(`${where}: this is a nodemailer transporter (it has sendMail); give the options it was created with, or a URL, instead.`);
  }
  if (typeof config.send === 'function') {
    throw new MailerConfigurationError(`${where}: this object has send() but not verify() and close(), so it is not a Transport (a nodemailer transport plugin?). Implement the Transport interface — send, verify, close — or give SMTP options or a URL.`);
  }
  for (const key of NODEMAILER_ONLY) {
    if (config[key] !== undefined && config[key] !== false) throw new MailerConfigurationError(`${where}: "${key}" ${SMTP_HINTS[key]}`);
  }
  if ('host' in config || 'service' in config) return 'smtp';
  throw new MailerConfigurationError(`${where}: the options object has no type. Write type: ${TYPES.map((t) => `'${t}'`).join(' | ')}, give SMTP options with host (or service), or a URL.`);
}

function fromObject(name: string, config: Record<string, unknown>, where: string, context: TransportContext): Transport {
  const type = config.type === undefined ? untypedKind(config, where) : config.type;
  if (typeof type !== 'string' || !TYPES.includes(type)) {
    const near = typeof type === 'string' ? nearestKey(type, TYPES) : undefined;
    throw new MailerConfigurationError(`${where}: unknown transport type ${JSON.stringify(type)}.${near ? ` Did you mean "${near}"?` : ''} Known: ${TYPES.join(', ')}.`);
  }
  const at = `${where} (${type})`;
  if (type === 'smtp') return new SmtpTransport(name, config as SmtpTransportOptions, context);
  if (type === 'memory') {
    checkOptions(config, MEMORY_SHAPE, at);
    return new MemoryTransport(name);
  }
  if (type === 'failover' || type === 'roundrobin') {
    checkOptions(config, COMPOSITE_SHAPE, at);
    const c = config as unknown as CompositeTransportConfig;
    if (!Array.isArray(c.transports) || c.transports.length === 0) {
      throw new MailerConfigurationError(`${at}: transports must be a non-empty array of transport URLs, option objects or Transport instances.`);
    }
    return composite(name, type, c.transports.map((child, index) => () => createTransport(`${name}[${index}]`, child, context)), c, at);
  }
  const definition = providerDefinition(type)!;
  checkOptions(config, { type: 'string', ...definition.shape }, at, definition.hints);
  const { type: _type, ...options } = config as { type: string } & HttpTransportOptions;
  definition.check(options, at);
  return build(at, () => definition.create({ ...options, name: options.name ?? name }));
}

/**
 * Turns configuration into a Transport. Every mistake is a MailerConfigurationError that names the
 * transport (`transport "default[1]" (postmark+api://default): …`) and never shows a key or secret.
 */
export function createTransport(name: string, config: TransportConfig, context: TransportContext = {}): Transport {
  const where = `transport "${name}"`;
  if (config === undefined || config === null || config === '') {
    throw new MailerConfigurationError(`${where} has no configuration. Give a URL such as smtp://<user name>:<password>@smtp.example.com:587, postmark+api://<token>@default or memory://.`);
  }
  if (typeof config === 'string') return fromString(name, config, where, context);
  if (isTransport(config)) return config;
  if (typeof config !== 'object' || Array.isArray(config)) {
    throw new MailerConfigurationError(`${where}: expected a URL string, an options object or a Transport, got ${Array.isArray(config) ? 'an array' : typeof config}.`);
  }
  expectOptionsObject(config, where);
  try {
    return fromObject(name, config, where, context);
  } catch (error) {
    if (error instanceof MailerError) throw error;
    throw new MailerConfigurationError(`${where}: ${(error as Error).message}`, { cause: error });
  }
}
