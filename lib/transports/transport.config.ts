import type { Transport } from '../core/transport.types.js';
import { MailerConfigurationError } from '../errors/mailer.error.js';
import { MemoryTransport } from './memory.transport.js';
import { parseSmtpUrl, type SmtpTransportOptions } from './smtp/smtp.options.js';
import { SmtpTransport } from './smtp/smtp.transport.js';

export interface MemoryTransportOptions {
  type: 'memory';
}

/**
 * A transport as configuration: a URL (`smtp://…`, `smtps://…`, `memory://`), an options object
 * with a `type`, or a ready Transport instance.
 */
export type TransportConfig = string | SmtpTransportOptions | MemoryTransportOptions | Transport;

function isTransport(value: unknown): value is Transport {
  return typeof value === 'object' && value !== null
    && typeof (value as Transport).send === 'function'
    && typeof (value as Transport).verify === 'function'
    && typeof (value as Transport).close === 'function';
}

const SCHEMES = ['smtp://', 'smtps://', 'memory://'];

/** Scheme, host and port only: the rest of a transport URL may hold credentials. */
function describe(url: URL): string {
  return url.host ? `${url.protocol}//${url.host}` : url.protocol;
}

function parseUrl(text: string, where: string): URL {
  try {
    return new URL(text.trim());
  } catch {
    throw new MailerConfigurationError(`${where}: the value is not a transport URL (not shown, it may hold a secret). Expected one of ${SCHEMES.join(', ')}.`);
  }
}

/** Turns configuration into a Transport; every mistake is a MailerConfigurationError naming the transport. */
export function createTransport(name: string, config: TransportConfig): Transport {
  const where = `transport "${name}"`;
  if (config === undefined || config === null || config === '') {
    throw new MailerConfigurationError(`${where} has no configuration. Give a URL such as smtp://user:pass@smtp.example.com:587 or memory://.`);
  }
  if (typeof config === 'string') {
    const url = parseUrl(config, where);
    switch (url.protocol) {
      case 'smtp:':
      case 'smtps:':
        if (!url.hostname) throw new MailerConfigurationError(`${where}: the SMTP host is missing in ${describe(url)}…; write smtp://user:pass@host:587.`);
        return new SmtpTransport(name, parseSmtpUrl(url, where));
      case 'memory:':
        return new MemoryTransport(name);
      default:
        throw new MailerConfigurationError(`${where}: unknown scheme "${url.protocol.replace(/:$/, '')}". Known: ${SCHEMES.join(', ')}.`);
    }
  }
  if (isTransport(config)) return config;
  if (typeof config !== 'object') {
    throw new MailerConfigurationError(`${where}: expected a URL string, an options object or a Transport, got ${typeof config}.`);
  }
  const type = (config as { type?: string }).type ?? ('host' in config ? 'smtp' : undefined);
  switch (type) {
    case 'smtp':
      return new SmtpTransport(name, config as SmtpTransportOptions);
    case 'memory':
      return new MemoryTransport(name);
    default:
      throw new MailerConfigurationError(`${where}: unknown transport type ${JSON.stringify(type)}. Known: smtp, memory.`);
  }
}
