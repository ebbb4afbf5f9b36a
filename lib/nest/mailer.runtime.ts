import type { Transport } from '../core/transport.types.js';
import { MailerConfigurationError } from '../errors/mailer.error.js';
import { MemorySuppressionStore } from '../suppression/memory-suppression.store.js';
import { RedisSuppressionStore } from '../suppression/redis-suppression.store.js';
import { validateSuppressionPolicy, type SuppressionPolicyOptions } from '../suppression/suppression.policy.js';
import type { SuppressionStore } from '../suppression/suppression.types.js';
import { HandlebarsRenderer } from '../templates/handlebars.renderer.js';
import type { TemplateRenderer } from '../templates/template-renderer.types.js';
import { createTransport } from '../transports/transport.config.js';
import type { MailerModuleOptions } from './mailer.options.js';

/** Everything the options describe, built and checked once at start-up. */
export interface MailerRuntime {
  options: MailerModuleOptions;
  transports: Map<string, Transport>;
  defaultTransport: string;
  renderer?: TemplateRenderer;
  suppression?: { store: SuppressionStore; policy?: SuppressionPolicyOptions; owned: boolean };
}

async function createSuppression(options: MailerModuleOptions['suppression']): Promise<MailerRuntime['suppression']> {
  if (options === false) return undefined;
  const { store, redis, policy } = options ?? {};
  validateSuppressionPolicy(policy);
  if (store && redis) throw new MailerConfigurationError('suppression: give either store or redis, not both.');
  if (store) return { store, policy, owned: false };
  if (redis) return { store: await RedisSuppressionStore.create(redis), policy, owned: true };
  return { store: new MemorySuppressionStore(), policy, owned: true };
}

const NAME = /^[A-Za-z0-9_.-]+$/;

/** Builds transports and compiles templates; any mistake stops start-up with a MailerConfigurationError. */
export async function createMailerRuntime(options: MailerModuleOptions): Promise<MailerRuntime> {
  if (!options || typeof options !== 'object') {
    throw new MailerConfigurationError('MailerModule needs an options object with at least a transport.');
  }
  const configs = new Map<string, MailerModuleOptions['transport']>();
  if (options.transport !== undefined) configs.set('default', options.transport);
  for (const [name, config] of Object.entries(options.transports ?? {})) {
    if (!NAME.test(name)) throw new MailerConfigurationError(`Transport name "${name}" may use only letters, digits, dot, dash and underscore.`);
    if (configs.has(name)) throw new MailerConfigurationError(`Transport "${name}" is configured twice (transport and transports.${name}).`);
    configs.set(name, config);
  }
  if (!configs.size) {
    throw new MailerConfigurationError('MailerModule has no transport. Set `transport: "smtp://user:pass@host:587"` or `transports: { default: … }`.');
  }
  const defaultTransport = options.defaultTransport ?? (configs.has('default') ? 'default' : [...configs.keys()][0]!);
  if (!configs.has(defaultTransport)) {
    throw new MailerConfigurationError(`defaultTransport "${defaultTransport}" is not among the configured transports (${[...configs.keys()].join(', ')}).`);
  }
  const transports = new Map<string, Transport>();
  let renderer: TemplateRenderer | undefined;
  try {
    for (const [name, config] of configs) transports.set(name, createTransport(name, config!));
    if (options.templates) {
      const made: TemplateRenderer = 'renderer' in options.templates ? options.templates.renderer : new HandlebarsRenderer(options.templates);
      await made.init();
      renderer = made;
    }
    const suppression = await createSuppression(options.suppression);
    return { options, transports, defaultTransport, renderer, suppression };
  } catch (error) {
    await Promise.allSettled([...transports.values()].map((t) => t.close()));
    await renderer?.close();
    throw error;
  }
}
