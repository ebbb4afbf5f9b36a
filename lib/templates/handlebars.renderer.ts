import { watch, type FSWatcher } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  InvalidMailError, MailerConfigurationError, TemplateNotFoundError, TemplateRenderError, TemplateSyntaxError,
} from '../errors/mailer.error.js';
import { checkOptions } from '../errors/option.checker.js';
import { inlineAtCompileTime, textAtCompileTime, type Derived } from './compile-time.js';
import {
  createCssInliner,
  cssInlineOptions,
  embedStylesheets,
  fetchStylesheets,
  linkedStylesheets,
  type CssInliner,
  type CssInlineOptions,
} from './css-inliner.js';
import {
  compileNow,
  createHandlebars,
  type CompileOptions,
  renderErrorDetail,
  syntaxErrorDetail,
  type CompiledTemplate,
  type HandlebarsInstance,
} from './handlebars-engine.js';
import type { HandlebarsTemplateOptions } from './handlebars-renderer.options.js';

export type { HandlebarsTemplateOptions };
import { createTextConverter, tidyText, type TextConverter } from './html-to-text.js';
import { localeChain, normalizeLocale, textDirection } from './locale.js';
import { compileMjml, loadMjml, MJML_OPTION_SHAPE, type Mjml2Html } from './mjml.compile.js';
import { localeHelpers, type BoundTranslate, type LocaleHelperHost } from './locale.helpers.js';
import { combineSource, type Combined } from './template-combine.js';
import type { RenderedMail, RenderOptions, TemplateRenderer } from './template-renderer.types.js';
import { scanTemplates, watchedFolders, type ScanFolders, type SourceFile, type TemplateSources } from './template-scan.js';

/**
 * How a template's CSS is inlined: `'compiled'` once at start-up, `'per-render'` on every render
 * (the fallback when compile-time inlining could differ from inlining the rendered HTML), `'off'`.
 */
export type CssInlineMode = 'compiled' | 'per-render' | 'off';
/**
 * Where a template's text part comes from: `'template'` its `.text.hbs`, `'compiled'` a text
 * template derived from the HTML at start-up, `'per-render'` converting each rendered HTML, `'off'`.
 */
export type TextMode = 'template' | 'compiled' | 'per-render' | 'off';

export interface TemplateInlineMode {
  css: CssInlineMode;
  text: TextMode;
  /** Why CSS is inlined per render, when it is. */
  cssFallbackReason?: string;
  /** Why text is converted per render, when it is. */
  textFallbackReason?: string;
}

interface Part {
  fn: CompiledTemplate;
  source: string;
}

/** Options a compiled template runs with: the `@locale` and `@dir` data variables. */
interface RunOptions {
  data: { locale: string; dir: 'ltr' | 'rtl' };
}

interface Variant {
  mode: TemplateInlineMode;
  html?: (context: object, run: RunOptions) => string;
  text?: (context: object, html: string, run: RunOptions) => string;
  subject?: Part;
  /** Sources the variant runs, to point a strict-mode miss at the path as written. */
  sources: string[];
}

/** A template's compiled files in one locale (`''`: without one). */
interface LocalizedParts {
  html?: Part;
  subject?: Part;
  text?: Part;
  /** The HTML was compiled from MJML: a whole document, so no layout and no CSS inlining. */
  mjml?: boolean;
}

interface Entry {
  /** By locale; `''` holds the files without one. */
  parts: Map<string, LocalizedParts>;
  /** The locales with files, sorted. */
  locales: string[];
  /** By the locales of the parts chosen and the layout. */
  variants: Map<string, Variant>;
}

/** The file chosen for each part of a mail in one locale. */
interface Chosen {
  html?: { locale: string; part: Part; mjml: boolean };
  subject?: { locale: string; part: Part };
  text?: { locale: string; part: Part };
}

/** A requested locale, prepared once: normalized, its lookup chain, its direction. */
interface PreparedLocale {
  locale: string;
  chain: string[];
  run: RunOptions;
}

interface CompiledSet {
  hb: HandlebarsInstance;
  templates: Map<string, Entry>;
  layouts: Map<string, Part>;
  partialSources: Map<string, string>;
  defaultLayout: string | false;
  /** Linked stylesheets fetched at start-up, by `href` as written (only with loadRemoteStylesheets). */
  stylesheets: Map<string, string>;
}

const NO_LOCALE: PreparedLocale = { locale: '', chain: [], run: { data: { locale: '', dir: 'ltr' } } };
const NO_LAYOUT = '\u0000none';

/**
 * Renders mails from a folder of Handlebars templates. Everything is read and compiled by
 * `init()`: layouts and partials, subjects and text parts, the stylesheet inlined into the HTML,
 * and a text template derived from it; `render()` only runs compiled functions and touches no files.
 * A template rendered with a layout other than the default one is derived, from memory, on its
 * first render with that layout and kept.
 */
export class HandlebarsRenderer implements TemplateRenderer {
  private current?: CompiledSet;
  private readonly folders: ScanFolders;
  private readonly inliner?: CssInliner;
  private readonly cssOptions?: CssInlineOptions;
  private readonly converter?: TextConverter;
  private readonly watchers: FSWatcher[] = [];
  private reloadTimer?: NodeJS.Timeout;
  private reloading?: Promise<void>;
  private reloadAgain = false;
  private closed = false;
  private readonly reloadListeners = new Set<(error?: Error) => void>();
  /** Requested locales as given (`fr_ca`), prepared; bounded, since they may come from user input. */
  private readonly preparedLocales = new Map<string, PreparedLocale>();
  private readonly helperHost: LocaleHelperHost & { translate: BoundTranslate | undefined } = { translate: undefined };
  private readonly timeZone: string;
  private mjml?: Promise<Mjml2Html>;

  constructor(private readonly options: HandlebarsTemplateOptions) {
    if (!options || typeof options.dir !== 'string' || options.dir.trim() === '') {
      throw new MailerConfigurationError('HandlebarsRenderer needs the "dir" option: the folder that holds your .hbs templates.');
    }
    const text = options.text ?? 'auto';
    if (text !== 'auto' && text !== 'template' && text !== false) {
      throw new MailerConfigurationError(`The "text" option must be 'auto', 'template' or false, not ${JSON.stringify(text)}.`);
    }
    this.folders = {
      dir: options.dir,
      layoutsDir: options.layoutsDir ?? join(options.dir, 'layouts'),
      partialsDir: options.partialsDir ?? join(options.dir, 'partials'),
      layoutsDirSet: options.layoutsDir !== undefined,
      partialsDirSet: options.partialsDir !== undefined,
    };
    const inline = options.inlineCss ?? true;
    if (inline !== false) {
      this.cssOptions = cssInlineOptions(inline === true ? {} : inline);
      this.inliner = createCssInliner(this.cssOptions);
    }
    if (text === 'auto') this.converter = createTextConverter();
    if (options.mjml !== undefined) {
      checkOptions(options.mjml, MJML_OPTION_SHAPE, 'templates: mjml');
      const level = options.mjml.validationLevel;
      if (level !== undefined && !['strict', 'soft', 'skip'].includes(level)) {
        throw new MailerConfigurationError(`templates: mjml.validationLevel must be 'strict', 'soft' or 'skip', not ${JSON.stringify(level)}.`);
      }
    }
    this.timeZone = options.timeZone ?? 'UTC';
    try {
      new Intl.DateTimeFormat('en', { timeZone: this.timeZone });
    } catch {
      throw new MailerConfigurationError(`The "timeZone" option must be an IANA time zone such as "Europe/Paris" or "UTC", not ${JSON.stringify(options.timeZone)}.`);
    }
  }

  async init(): Promise<void> {
    this.current = await this.build();
    if (this.options.watch && this.watchers.length === 0 && !this.closed) this.startWatching();
  }

  has(template: string): boolean {
    return this.current?.templates.has(template) ?? false;
  }

  /** Names of all templates, sorted. */
  templateNames(): string[] {
    return [...(this.current?.templates.keys() ?? [])].sort();
  }

  /** The locales `template` has files for, sorted (the files without a locale are not listed). */
  locales(template: string): string[] {
    return [...(this.current?.templates.get(template)?.locales ?? [])];
  }

  render(template: string, context: Record<string, unknown>, options?: RenderOptions): RenderedMail {
    const set = this.loaded();
    const entry = set.templates.get(template);
    if (!entry) throw new TemplateNotFoundError(template, [...set.templates.keys()].sort());
    const locale = this.prepareLocale(options?.locale);
    const variant = this.variantFor(set, template, entry, locale, options);
    const mail: RenderedMail = {};
    const data = context ?? {};
    const run = locale.run;
    const previous = this.helperHost.translate;
    this.helperHost.translate = options?.translate;
    try {
      if (variant.subject) mail.subject = variant.subject.fn(data, run).replace(/\s+/g, ' ').trim();
      if (variant.html) mail.html = variant.html(data, run);
      if (variant.text) mail.text = variant.text(data, mail.html ?? '', run);
    } catch (error) {
      throw new TemplateRenderError(template, renderErrorDetail(error, variant.sources), { cause: error });
    } finally {
      this.helperHost.translate = previous;
    }
    return mail;
  }

  /**
   * How CSS and text are produced for a template with a layout (default: the default layout) and
   * a locale (default: none). Meant for tests and debugging: a `'per-render'` mode costs time on
   * every mail, and the reason says which construct caused it.
   */
  inlineMode(template: string, options?: RenderOptions): TemplateInlineMode {
    const set = this.loaded();
    const entry = set.templates.get(template);
    if (!entry) throw new TemplateNotFoundError(template, [...set.templates.keys()].sort());
    return { ...this.variantFor(set, template, entry, this.prepareLocale(options?.locale), options).mode };
  }

  /**
   * Hears the outcome of every recompile in watch mode: called with no argument once the new
   * templates are in use, with the error when they did not compile (the last good ones stay).
   * Returns the function that stops listening. The preview module uses it for live reload.
   */
  onReload(listener: (error?: Error) => void): () => void {
    this.reloadListeners.add(listener);
    return () => this.reloadListeners.delete(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.reloadListeners.clear();
    clearTimeout(this.reloadTimer);
    for (const watcher of this.watchers.splice(0)) watcher.close();
    await this.reloading;
  }

  private loaded(): CompiledSet {
    if (!this.current) throw new MailerConfigurationError('HandlebarsRenderer.init() has not completed; call it before render().');
    return this.current;
  }

  private prepareLocale(given: string | undefined): PreparedLocale {
    if (given === undefined || given === '') return NO_LOCALE;
    let prepared = this.preparedLocales.get(given);
    if (!prepared) {
      const locale = normalizeLocale(given);
      if (!locale) {
        throw new InvalidMailError(`locale: ${JSON.stringify(String(given)).slice(0, 80)} is not a BCP 47 language tag (like "fr", "fr-CA" or "zh-Hant-TW").`, 'locale');
      }
      prepared = { locale, chain: localeChain(locale), run: { data: { locale, dir: textDirection(locale) } } };
      if (this.preparedLocales.size >= 1000) this.preparedLocales.clear();
      this.preparedLocales.set(given, prepared);
    }
    return prepared;
  }

  /**
   * The file of each part for a locale: the most specific of the chain that exists, else the one
   * without a locale. A text template less specific than the HTML chosen (`receipt.text.hbs` next
   * to `receipt.fr.hbs`, for `fr`) would be in another language, so with `text: 'auto'` the text
   * part is derived from that HTML instead.
   */
  private choose(entry: Entry, locale: PreparedLocale): Chosen {
    const pick = <K extends 'html' | 'subject' | 'text'>(kind: K): { locale: string; parts: LocalizedParts } | undefined => {
      for (const tag of locale.chain) {
        const parts = entry.parts.get(tag);
        if (parts?.[kind]) return { locale: tag, parts };
      }
      const parts = entry.parts.get('');
      return parts?.[kind] ? { locale: '', parts } : undefined;
    };
    const rank = (tag: string): number => (tag === '' ? locale.chain.length : locale.chain.indexOf(tag));
    const chosen: Chosen = {};
    const html = pick('html');
    if (html) chosen.html = { locale: html.locale, part: html.parts.html!, mjml: html.parts.mjml === true };
    const subject = pick('subject');
    if (subject) chosen.subject = { locale: subject.locale, part: subject.parts.subject! };
    const text = pick('text');
    if (text && !(html && (this.options.text ?? 'auto') === 'auto' && rank(text.locale) > rank(html.locale))) {
      chosen.text = { locale: text.locale, part: text.parts.text! };
    }
    return chosen;
  }

  private variantFor(set: CompiledSet, template: string, entry: Entry, locale: PreparedLocale, options?: RenderOptions): Variant {
    const chosen = this.choose(entry, locale);
    if (!chosen.html && !chosen.subject && !chosen.text) {
      const name = locale.locale ? `${template}.${locale.locale}` : template;
      throw new TemplateNotFoundError(name, entry.locales.map((tag) => (tag ? `${template}.${tag}` : template)));
    }
    const layout = this.layoutFor(set, template, chosen, options);
    const key = `${chosen.html?.locale ?? '-'}\u0000${chosen.subject?.locale ?? '-'}\u0000${chosen.text?.locale ?? '-'}\u0000${layout === false ? NO_LAYOUT : layout}`;
    let variant = entry.variants.get(key);
    if (!variant) {
      variant = this.buildVariant(set, chosen, layout);
      entry.variants.set(key, variant);
    }
    return variant;
  }

  private layoutFor(set: CompiledSet, template: string, chosen: Chosen, options?: RenderOptions): string | false {
    if (chosen.html?.mjml) {
      if (typeof options?.layout === 'string') {
        throw new TemplateRenderError(template, `it is an MJML template, a whole document that takes no layout ("${options.layout}" was asked for); share parts with <mj-include>`);
      }
      return false;
    }
    const layout = options?.layout !== undefined ? options.layout : set.defaultLayout;
    if (layout !== false && chosen.html && !set.layouts.has(layout)) {
      throw new TemplateNotFoundError(`layouts/${layout}`, [...set.layouts.keys()].sort().map((name) => `layouts/${name}`));
    }
    return layout;
  }

  private async build(): Promise<CompiledSet> {
    const scanned = await scanTemplates(this.folders);
    const strict = this.options.strict ?? false;
    const hb = createHandlebars(this.options.helpers ?? {}, localeHelpers(this.helperHost, { strict, timeZone: this.timeZone }));

    const partialFiles = new Map<string, SourceFile>(scanned.partials);
    for (const [name, source] of Object.entries(this.options.partials ?? {})) {
      partialFiles.set(name, { file: `inline partial "${name}" (partials option)`, source });
    }
    const partialSources = new Map<string, string>();
    for (const [name, file] of partialFiles) {
      hb.registerPartial(name, compileFile(hb, file, { strict }));
      partialSources.set(name, file.source);
    }
    const layouts = new Map<string, Part>();
    for (const [name, file] of scanned.layouts) layouts.set(name, { fn: compileFile(hb, file, { strict }), source: file.source });

    const mjmlFiles = [...scanned.templates.values()].flatMap((locales) => [...locales.values()])
      .filter((sources) => sources.mjml && sources.html).map((sources) => sources.html!.file);
    if (mjmlFiles.length > 0) {
      this.mjml ??= loadMjml(mjmlFiles).catch((error: unknown) => {
        this.mjml = undefined;
        throw error;
      });
      await this.mjml;
    }
    const templates = new Map<string, Entry>();
    for (const [name, locales] of scanned.templates) {
      const entry: Entry = { parts: new Map(), locales: [...locales.keys()].filter(Boolean).sort(), variants: new Map() };
      for (const [locale, sources] of locales) entry.parts.set(locale, await this.compileParts(hb, sources, strict));
      templates.set(name, entry);
    }

    let defaultLayout: string | false;
    if (this.options.defaultLayout === undefined) {
      defaultLayout = layouts.has('main') ? 'main' : false;
    } else {
      defaultLayout = this.options.defaultLayout;
      if (defaultLayout !== false && !layouts.has(defaultLayout)) {
        throw new MailerConfigurationError(
          `The default layout "${defaultLayout}" does not exist in ${this.folders.layoutsDir}` +
            ` (found: ${[...layouts.keys()].sort().join(', ') || 'none'}). Add ${defaultLayout}.hbs there or set "defaultLayout" to false.`,
        );
      }
    }

    let stylesheets = new Map<string, string>();
    if (this.cssOptions?.loadRemoteStylesheets) {
      const sources = [...scanned.layouts.values(), ...partialFiles.values()].map((file) => file.source);
      for (const locales of scanned.templates.values()) {
        for (const entry of locales.values()) if (entry.html && !entry.mjml) sources.push(entry.html.source);
      }
      stylesheets = await fetchStylesheets(linkedStylesheets(sources), this.cssOptions.baseUrl);
    }

    const set: CompiledSet = { hb, templates, layouts, partialSources, defaultLayout, stylesheets };
    // every file as it is chosen for its own locale, with the default layout, is prepared now
    for (const [name, entry] of templates) {
      for (const locale of entry.parts.keys()) this.variantFor(set, name, entry, this.prepareLocale(locale || undefined));
    }
    return set;
  }

  private async compileParts(hb: HandlebarsInstance, sources: TemplateSources, strict: boolean): Promise<LocalizedParts> {
    const parts: LocalizedParts = {};
    if (sources.html && sources.mjml) {
      const mjml2html = await this.mjml!;
      const html = { file: sources.html.file, source: await compileMjml(sources.html, mjml2html, this.options.mjml ?? {}, resolve(this.folders.dir)) };
      parts.html = { fn: compileFile(hb, html, { strict }), source: html.source };
      parts.mjml = true;
    } else if (sources.html) {
      parts.html = { fn: compileFile(hb, sources.html, { strict }), source: sources.html.source };
    }
    if (sources.subject) {
      parts.subject = { fn: compileFile(hb, sources.subject, { strict, noEscape: true }), source: sources.subject.source };
    }
    if (sources.text) parts.text = { fn: compileFile(hb, sources.text, { strict, noEscape: true }), source: sources.text.source };
    return parts;
  }

  private buildVariant(set: CompiledSet, chosen: Chosen, layoutName: string | false): Variant {
    const strict = this.options.strict ?? false;
    const textOption = this.options.text ?? 'auto';
    const mode: TemplateInlineMode = { css: 'off', text: 'off' };
    const variant: Variant = { mode, sources: [] };
    const html = chosen.html?.part;
    const layout = html && layoutName !== false ? set.layouts.get(layoutName) : undefined;

    if (chosen.subject) {
      variant.subject = chosen.subject.part;
      variant.sources.push(chosen.subject.part.source);
    }
    if (chosen.text && textOption !== false) {
      const textTemplate = chosen.text.part.fn;
      variant.text = (context, _html, run) => textTemplate(context, run);
      variant.sources.push(chosen.text.part.source);
      mode.text = 'template';
    }
    if (!html) return variant;

    const plain = html.fn;
    const layoutFn = layout?.fn;
    const naive = layoutFn
      ? (context: object, run: RunOptions) => layoutFn({ ...context, body: plain(context, run) }, run)
      : plain;
    variant.sources.push(html.source, ...(layout ? [layout.source] : []), ...set.partialSources.values());
    // MJML has placed its styles itself, inline where they belong and in <head> for the rest
    const inlinerForThis = chosen.html?.mjml ? undefined : this.inliner;

    const wantsText = mode.text === 'off' && textOption === 'auto' && this.converter !== undefined;
    let combined: Combined | undefined;
    if (inlinerForThis || wantsText) {
      try {
        combined = combineSource(html.source, layout?.source, set.partialSources);
      } catch (error) {
        combined = { ok: false, reason: `the template and layout could not be combined (${(error as Error).message})` };
      }
    }

    variant.html = naive;
    const inliner = inlinerForThis;
    if (inliner && combined) {
      const outcome = combined.ok
        ? compileDerived(set.hb, inlineAtCompileTime(embedSafely(combined.source, set.stylesheets), inliner, {
            extraCss: this.cssOptions?.extraCss,
            loadRemoteStylesheets: this.cssOptions?.loadRemoteStylesheets,
          }), { strict })
        : combined.reason;
      if (typeof outcome === 'string') {
        const sheets = set.stylesheets;
        variant.html = sheets.size > 0
          ? (context, run) => inliner(embedStylesheets(naive(context, run), sheets))
          : (context, run) => inliner(naive(context, run));
        mode.css = 'per-render';
        mode.cssFallbackReason = outcome;
      } else {
        variant.html = outcome.fn;
        variant.sources.unshift(outcome.source);
        mode.css = 'compiled';
      }
    }

    const converter = this.converter;
    if (wantsText && converter && combined) {
      const outcome = combined.ok
        ? compileDerived(set.hb, textAtCompileTime(combined.source, converter), { strict, textValues: true })
        : combined.reason;
      if (typeof outcome === 'string') {
        variant.text = (_context, rendered) => tidyText(converter(rendered));
        mode.text = 'per-render';
        mode.textFallbackReason = outcome;
      } else {
        const textTemplate = outcome.fn;
        variant.text = (context, _html, run) => tidyText(textTemplate(context, run));
        variant.sources.push(outcome.source);
        mode.text = 'compiled';
      }
    }
    return variant;
  }

  private startWatching(): void {
    for (const folder of watchedFolders(this.folders)) {
      try {
        const watcher = watch(folder, { recursive: true }, () => this.scheduleReload());
        watcher.on('error', (error) => this.report(error));
        this.watchers.push(watcher);
      } catch (error) {
        // a layouts or partials folder that does not exist yet is simply not watched
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.report(error);
      }
    }
  }

  private scheduleReload(): void {
    if (this.closed) return;
    clearTimeout(this.reloadTimer);
    this.reloadTimer = setTimeout(() => {
      if (this.reloading) {
        this.reloadAgain = true;
        return;
      }
      this.reloading = this.reload().finally(() => {
        this.reloading = undefined;
        if (this.reloadAgain) {
          this.reloadAgain = false;
          this.scheduleReload();
        }
      });
    }, this.options.watchDebounceMs ?? 50);
    this.reloadTimer.unref();
  }

  private async reload(): Promise<void> {
    try {
      const next = await this.build();
      if (this.closed) return;
      this.current = next;
      this.notify();
    } catch (error) {
      this.report(error);
      if (!this.closed) this.notify(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private notify(error?: Error): void {
    for (const listener of this.reloadListeners) {
      try {
        listener(error);
      } catch (thrown) {
        this.report(thrown);
      }
    }
  }

  private report(error: unknown): void {
    const err = error instanceof Error ? error : new Error(String(error));
    if (this.options.onError) this.options.onError(err);
    else console.error(`[mailroom] templates not reloaded, keeping the previous version: ${err.message}`);
  }
}

/** Embeds fetched stylesheets into a Handlebars source, unless a sheet reads like Handlebars syntax. */
function embedSafely(source: string, sheets: ReadonlyMap<string, string>): string {
  for (const css of sheets.values()) if (css.includes('{{')) return source;
  return embedStylesheets(source, sheets);
}

/** The compiled derived template, or why there is none. */
function compileDerived(
  hb: HandlebarsInstance,
  derived: Derived,
  options: CompileOptions,
): Part | string {
  if (!derived.ok) return derived.reason;
  try {
    return { fn: compileNow(hb, derived.source, options), source: derived.source };
  } catch (error) {
    return `the derived template did not compile (${(error as Error).message})`;
  }
}

function compileFile(hb: HandlebarsInstance, file: SourceFile, options: { strict: boolean; noEscape?: boolean }): CompiledTemplate {
  try {
    return compileNow(hb, file.source, options);
  } catch (error) {
    throw new TemplateSyntaxError(file.file, syntaxErrorDetail(error), { cause: error });
  }
}
