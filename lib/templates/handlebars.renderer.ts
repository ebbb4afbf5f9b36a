import { watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { MailerConfigurationError, TemplateNotFoundError, TemplateRenderError, TemplateSyntaxError } from '../errors/mailer.error.js';
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
import { combineSource, type Combined } from './template-combine.js';
import type { RenderedMail, RenderOptions, TemplateRenderer } from './template-renderer.types.js';
import { scanTemplates, watchedFolders, type ScanFolders, type SourceFile } from './template-scan.js';

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

interface Variant {
  mode: TemplateInlineMode;
  html?: (context: object) => string;
  text?: (context: object, html: string) => string;
  /** Sources the variant runs, to point a strict-mode miss at the path as written. */
  sources: string[];
}

interface Entry {
  html?: Part;
  subject?: Part;
  text?: Part;
  variants: Map<string, Variant>;
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

  render(template: string, context: Record<string, unknown>, options?: RenderOptions): RenderedMail {
    const set = this.loaded();
    const entry = set.templates.get(template);
    if (!entry) throw new TemplateNotFoundError(template, [...set.templates.keys()].sort());
    const variant = this.variant(set, entry, this.layoutFor(set, entry, options));
    const mail: RenderedMail = {};
    const data = context ?? {};
    try {
      if (entry.subject) mail.subject = entry.subject.fn(data).replace(/\s+/g, ' ').trim();
      if (variant.html) mail.html = variant.html(data);
      if (variant.text) mail.text = variant.text(data, mail.html ?? '');
    } catch (error) {
      throw new TemplateRenderError(template, renderErrorDetail(error, variant.sources), { cause: error });
    }
    return mail;
  }

  /**
   * How CSS and text are produced for a template with a layout (default: the default layout).
   * Meant for tests and debugging: a `'per-render'` mode costs time on every mail, and the reason
   * says which construct caused it.
   */
  inlineMode(template: string, options?: RenderOptions): TemplateInlineMode {
    const set = this.loaded();
    const entry = set.templates.get(template);
    if (!entry) throw new TemplateNotFoundError(template, [...set.templates.keys()].sort());
    return { ...this.variant(set, entry, this.layoutFor(set, entry, options)).mode };
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

  private layoutFor(set: CompiledSet, entry: Entry, options?: RenderOptions): string | false {
    const layout = options?.layout !== undefined ? options.layout : set.defaultLayout;
    if (layout !== false && entry.html && !set.layouts.has(layout)) {
      throw new TemplateNotFoundError(`layouts/${layout}`, [...set.layouts.keys()].sort().map((name) => `layouts/${name}`));
    }
    return layout;
  }

  private variant(set: CompiledSet, entry: Entry, layout: string | false): Variant {
    const key = layout === false ? NO_LAYOUT : layout;
    let variant = entry.variants.get(key);
    if (!variant) {
      variant = this.buildVariant(set, entry, layout);
      entry.variants.set(key, variant);
    }
    return variant;
  }

  private async build(): Promise<CompiledSet> {
    const scanned = await scanTemplates(this.folders);
    const strict = this.options.strict ?? false;
    const hb = createHandlebars(this.options.helpers ?? {});

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

    const templates = new Map<string, Entry>();
    for (const [name, sources] of scanned.templates) {
      const entry: Entry = { variants: new Map() };
      if (sources.html) entry.html = { fn: compileFile(hb, sources.html, { strict }), source: sources.html.source };
      if (sources.subject) {
        entry.subject = { fn: compileFile(hb, sources.subject, { strict, noEscape: true }), source: sources.subject.source };
      }
      if (sources.text) entry.text = { fn: compileFile(hb, sources.text, { strict, noEscape: true }), source: sources.text.source };
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
      for (const entry of scanned.templates.values()) if (entry.html) sources.push(entry.html.source);
      stylesheets = await fetchStylesheets(linkedStylesheets(sources), this.cssOptions.baseUrl);
    }

    const set: CompiledSet = { hb, templates, layouts, partialSources, defaultLayout, stylesheets };
    for (const entry of templates.values()) this.variant(set, entry, defaultLayout);
    return set;
  }

  private buildVariant(set: CompiledSet, entry: Entry, layoutName: string | false): Variant {
    const strict = this.options.strict ?? false;
    const textOption = this.options.text ?? 'auto';
    const mode: TemplateInlineMode = { css: 'off', text: 'off' };
    const variant: Variant = { mode, sources: [] };
    const html = entry.html;
    const layout = html && layoutName !== false ? set.layouts.get(layoutName) : undefined;

    if (entry.subject) variant.sources.push(entry.subject.source);
    if (entry.text && textOption !== false) {
      const textTemplate = entry.text.fn;
      variant.text = (context) => textTemplate(context);
      variant.sources.push(entry.text.source);
      mode.text = 'template';
    }
    if (!html) return variant;

    const plain = html.fn;
    const layoutFn = layout?.fn;
    const naive = layoutFn ? (context: object) => layoutFn({ ...context, body: plain(context) }) : plain;
    variant.sources.push(html.source, ...(layout ? [layout.source] : []), ...set.partialSources.values());

    const wantsText = mode.text === 'off' && textOption === 'auto' && this.converter !== undefined;
    let combined: Combined | undefined;
    if (this.inliner || wantsText) {
      try {
        combined = combineSource(html.source, layout?.source, set.partialSources);
      } catch (error) {
        combined = { ok: false, reason: `the template and layout could not be combined (${(error as Error).message})` };
      }
    }

    variant.html = naive;
    const inliner = this.inliner;
    if (inliner && combined) {
      const outcome = combined.ok
        ? compileDerived(set.hb, inlineAtCompileTime(embedSafely(combined.source, set.stylesheets), inliner, {
            extraCss: this.cssOptions?.extraCss,
            loadRemoteStylesheets: this.cssOptions?.loadRemoteStylesheets,
          }), { strict })
        : combined.reason;
      if (typeof outcome === 'string') {
        const sheets = set.stylesheets;
        variant.html = sheets.size > 0 ? (context) => inliner(embedStylesheets(naive(context), sheets)) : (context) => inliner(naive(context));
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
        variant.text = (context) => tidyText(textTemplate(context));
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
