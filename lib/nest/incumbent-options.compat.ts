import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import Handlebars, { type HelperDelegate } from 'handlebars';
import { MailerConfigurationError } from '../errors/mailer.error.js';
import { checkOptionKeys, checkOptionType, expectOptionsObject, type OptionHints } from '../errors/option.checker.js';
import type { CssInlineOptions } from '../templates/css-inliner.js';
import type { HandlebarsTemplateOptions } from '../templates/handlebars-renderer.options.js';
import type { MailerModuleOptions, MailerRateLimitOptions } from './mailer.options.js';

/**
 * `@nestjs-modules/mailer`'s `template` option. Read at start-up and turned into `templates`:
 * `dir` → `templates.dir`, `options.strict` → `templates.strict`, a `HandlebarsAdapter` → its
 * helpers and CSS settings. What has no equivalent is refused with the replacement.
 */
export interface IncumbentTemplateOptions {
  dir?: string;
  /** Refused: templates come from one folder here. */
  dirs?: string[];
  /** `new HandlebarsAdapter(helpers?, config?)`; adapters of other engines are refused. */
  adapter?: object;
  /** Handlebars compile options; `strict` is understood, the others are refused. */
  options?: { strict?: boolean; [option: string]: unknown };
  /** Refused: give `templates: { renderer }` a TemplateRenderer of your own. */
  resolver?: unknown;
}

/**
 * `@nestjs-modules/mailer`'s `options`: `partials.dir` → `templates.partialsDir`, `layout` →
 * `templates.layoutsDir` + `templates.defaultLayout`, `helpers` → `templates.helpers`.
 */
export interface IncumbentRuntimeOptions {
  partials?: false | { dir: string };
  layout?: string;
  helpers?: Record<string, HelperDelegate>;
  [option: string]: unknown;
}

const WHERE = 'MailerModule';
const NOT_HERE = 'has no equivalent here; remove it.';

const COMPILE_HINTS: OptionHints = {
  noEscape: 'is not supported: HTML templates escape values; write {{{value}}} where a value is trusted HTML.',
  data: NOT_HERE,
  compat: NOT_HERE,
  knownHelpers: NOT_HERE,
  knownHelpersOnly: NOT_HERE,
  assumeObjects: 'is part of templates.strict here (strict: true fails a render on a missing printed value).',
  preventIndent: NOT_HERE,
  ignoreStandalone: NOT_HERE,
  explicitPartialContext: NOT_HERE,
};

const TEMPLATE_HINTS: OptionHints = {
  dirs: 'is not supported: templates come from one folder (templates.dir); move the other folders below it and name templates by their path (\'emails/welcome\').',
  resolver: 'is not supported: templates are read from templates.dir and compiled at start-up; to load them from elsewhere, give templates: { renderer } a TemplateRenderer of your own.',
};

const RUNTIME_HINTS: OptionHints = {
  data: 'is not supported: Handlebars @data variables are not passed; put the values in the context.',
  allowProtoPropertiesByDefault: NOT_HERE,
  allowProtoMethodsByDefault: NOT_HERE,
  allowedProtoProperties: NOT_HERE,
  allowedProtoMethods: NOT_HERE,
};

/** Engines of the incumbent's other adapters, by class name. */
const OTHER_ENGINES: Record<string, string> = {
  EjsAdapter: 'EJS',
  PugAdapter: 'Pug',
  MjmlAdapter: 'MJML',
  LiquidAdapter: 'Liquid',
  NunjucksAdapter: 'Nunjucks',
};

/** What a `HandlebarsAdapter` keeps of the config it was given. */
interface HandlebarsAdapterConfig {
  inlineCssEnabled?: boolean;
  inlineCssOptions?: CssInlineOptions;
  cssBaseUrl?: string;
}

/**
 * The helpers given to `new HandlebarsAdapter(helpers)`. The adapter registers them, and its own
 * `concat`, on the shared Handlebars instance, which its templates were compiled against; those
 * are the helpers the incumbent's templates could call. Without `concat` there, the adapter used
 * another copy of handlebars and its helpers cannot be found.
 */
function handlebarsAdapterHelpers(): Record<string, HelperDelegate> | undefined {
  const shared = Handlebars.helpers;
  if (typeof shared.concat !== 'function') return undefined;
  const builtIn = new Set(Object.keys(Handlebars.create().helpers));
  return Object.fromEntries(Object.entries(shared).filter(([name]) => !builtIn.has(name)));
}

function fromAdapter(adapter: object, out: HandlebarsTemplateOptions): void {
  const name = (adapter as { constructor?: { name?: string } }).constructor?.name ?? 'the adapter';
  const engine = OTHER_ENGINES[name];
  if (name === 'MjmlAdapter') {
    throw new MailerConfigurationError(`${WHERE}: template.adapter: MjmlAdapter is not needed here: MJML templates are compiled by this module, once at start-up. Rename each template from <name>.hbs to <name>.mjml.hbs (npm install mjml) and remove adapter.`);
  }
  if (engine) {
    throw new MailerConfigurationError(`${WHERE}: template.adapter: ${name} renders ${engine}, and this module compiles Handlebars. Convert the templates to Handlebars (templates: { dir }), or give templates: { renderer } a TemplateRenderer of your own that renders ${engine}.`);
  }
  if (name !== 'HandlebarsAdapter' || typeof (adapter as { compile?: unknown }).compile !== 'function') {
    throw new MailerConfigurationError(`${WHERE}: template.adapter: ${name} is not @nestjs-modules/mailer's HandlebarsAdapter; give templates: { renderer } a TemplateRenderer of your own instead.`);
  }
  const helpers = handlebarsAdapterHelpers();
  if (!helpers) {
    throw new MailerConfigurationError(`${WHERE}: template.adapter: the HandlebarsAdapter registered its helpers on another copy of handlebars, where they cannot be read. Remove adapter and give the helpers as templates.helpers.`);
  }
  out.helpers = { ...helpers, ...out.helpers };
  const config = (adapter as { config?: HandlebarsAdapterConfig }).config ?? {};
  if (config.cssBaseUrl) {
    throw new MailerConfigurationError(`${WHERE}: template.adapter: the HandlebarsAdapter's cssBaseUrl has no equivalent: stylesheets are not read from a folder. Put the rules in a <style> element of the layout (inlined once, at start-up), and create the adapter without cssBaseUrl.`);
  }
  if (config.inlineCssEnabled === false) out.inlineCss = false;
  else if (config.inlineCssOptions && Object.keys(config.inlineCssOptions).length > 0) out.inlineCss = config.inlineCssOptions;
}

/**
 * The incumbent hands its layout the mail as a SafeString, so `{{body}}` printed it as HTML; here
 * `{{body}}` escapes it, and every mail would show its own markup. Such a layout is refused.
 */
function checkLayoutBody(path: string, name: string): void {
  let source: string;
  try {
    source = readFileSync(path, 'utf8');
  } catch {
    return; // a missing layout is reported by the renderer, with the folder it looked in
  }
  if (/(?<!\{)\{\{~?\s*body\s*~?\}\}(?!\})/.test(source)) {
    throw new MailerConfigurationError(`${WHERE}: options.layout: ${name}.hbs places the mail with {{body}}, which escapes its HTML here; write {{{body}}}.`);
  }
}

function fromIncumbentTemplates(template: unknown, runtime: unknown): HandlebarsTemplateOptions {
  if (template === undefined) {
    throw new MailerConfigurationError(`${WHERE}: options (partials, layout, helpers) belong to templates, and there is no template.dir. Write templates: { dir, partialsDir, defaultLayout, helpers }.`);
  }
  expectOptionsObject(template, `${WHERE}: template`);
  checkOptionKeys(template, ['dir', 'adapter', 'options'], `${WHERE}: template`, TEMPLATE_HINTS);
  if (typeof template.dir !== 'string' || template.dir === '') {
    throw new MailerConfigurationError(`${WHERE}: template.dir is missing; write templates: { dir: join(__dirname, 'templates') }.`);
  }
  const out: HandlebarsTemplateOptions = { dir: template.dir };
  if (template.options !== undefined) {
    expectOptionsObject(template.options, `${WHERE}: template.options`);
    checkOptionKeys(template.options, ['strict'], `${WHERE}: template.options`, COMPILE_HINTS);
    checkOptionType(template.options.strict, 'boolean', 'template.options.strict', WHERE);
    if (template.options.strict !== undefined) out.strict = template.options.strict as boolean;
  }
  if (runtime !== undefined) {
    expectOptionsObject(runtime, `${WHERE}: options`);
    checkOptionKeys(runtime, ['partials', 'layout', 'helpers'], `${WHERE}: options`, RUNTIME_HINTS);
    const { partials, layout, helpers } = runtime;
    if (partials !== undefined && partials !== false) {
      expectOptionsObject(partials, `${WHERE}: options.partials`);
      checkOptionKeys(partials, ['dir'], `${WHERE}: options.partials`);
      if (typeof partials.dir !== 'string' || partials.dir === '') throw new MailerConfigurationError(`${WHERE}: options.partials.dir must be a folder.`);
      out.partialsDir = partials.dir;
    }
    if (layout !== undefined) {
      checkOptionType(layout, 'string', 'options.layout', WHERE);
      const file = (layout as string).replace(/\\/g, '/').replace(/\.hbs$/i, '');
      if (dirname(file) === '.') {
        throw new MailerConfigurationError(`${WHERE}: options.layout '${file}' is a file next to the templates, and a layout here lives in a folder of its own so that it is not a template too. Move ${file}.hbs to layouts/${file}.hbs below template.dir and write templates: { defaultLayout: '${file}' } (the layout places the mail with {{{body}}}).`);
      }
      out.layoutsDir = join(template.dir, dirname(file));
      out.defaultLayout = basename(file);
      checkLayoutBody(join(template.dir, `${file}.hbs`), file);
    }
    if (helpers !== undefined) {
      checkOptionType(helpers, 'object', 'options.helpers', WHERE);
      out.helpers = { ...(helpers as Record<string, HelperDelegate>) };
    }
  }
  if (template.adapter !== undefined) {
    checkOptionType(template.adapter, 'object', 'template.adapter', WHERE);
    fromAdapter(template.adapter as object, out);
  }
  return out;
}

/** `rateLimit: { maxMessages, period }`: at most maxMessages per period milliseconds. */
function fromIncumbentRateLimit(rateLimit: Record<string, unknown>): MailerRateLimitOptions {
  checkOptionKeys(rateLimit, ['maxMessages', 'period'], `${WHERE}: rateLimit`, {
    perSecond: 'cannot be mixed with @nestjs-modules/mailer\'s maxMessages and period; write rateLimit: { perSecond, burst } alone.',
    perMinute: 'cannot be mixed with @nestjs-modules/mailer\'s maxMessages and period; write rateLimit: { perMinute, burst } alone.',
  });
  const { maxMessages, period = 1000 } = rateLimit;
  if (typeof maxMessages !== 'number' || !(maxMessages > 0) || typeof period !== 'number' || !(period > 0)) {
    throw new MailerConfigurationError(`${WHERE}: rateLimit.maxMessages and rateLimit.period must be positive numbers.`);
  }
  return { perSecond: (maxMessages * 1000) / period, burst: Math.max(1, Math.floor(maxMessages)) };
}

/**
 * The options with `@nestjs-modules/mailer`'s names turned into this module's: `template` and
 * `options` become `templates`, `rateLimit: { maxMessages, period }` a rate per second,
 * `preview: false` nothing. Names without an equivalent are refused with the replacement, at
 * start-up, never accepted and then ignored.
 */
export function fromIncumbentOptions(options: MailerModuleOptions): MailerModuleOptions {
  const { template, options: runtime, preview, ...rest } = options;
  const out: MailerModuleOptions = rest;
  if (preview !== undefined && preview !== false) {
    throw new MailerConfigurationError(`${WHERE}: preview is not supported yet. To look at a mail, render it with mailer.render(template, context), or send to memory:// in development and read mailer.getTransport().sent; remove preview.`);
  }
  if (template !== undefined || runtime !== undefined) {
    if (rest.templates !== undefined) {
      throw new MailerConfigurationError(`${WHERE}: templates and @nestjs-modules/mailer's template/options are both set; keep templates and move what template and options say into it.`);
    }
    out.templates = fromIncumbentTemplates(template, runtime);
  }
  const rateLimit = rest.rateLimit as Record<string, unknown> | undefined;
  if (rateLimit && typeof rateLimit === 'object' && 'maxMessages' in rateLimit) out.rateLimit = fromIncumbentRateLimit(rateLimit);
  return out;
}
