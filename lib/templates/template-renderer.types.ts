/** The parts of a mail a template produces. Absent parts are left to the mail itself. */
export interface RenderedMail {
  subject?: string;
  html?: string;
  text?: string;
}

export interface RenderOptions {
  /** Layout name from the layouts folder, `false` for none; default: the renderer's default layout. */
  layout?: string | false;
  /**
   * The mail's locale, a BCP 47 tag (`fr-CA`; `fr_CA` and `fr-ca` are read the same). The
   * Handlebars renderer picks `<name>.fr-CA.hbs`, then `<name>.fr.hbs`, then `<name>.hbs`, for the
   * HTML, the subject and the text part each, and formats numbers, money, dates and lists for it.
   * A tag that is not well-formed is an InvalidMailError. Default: none (the base templates).
   */
  locale?: string;
  /**
   * Looks up a translation for `locale` (the `{{t}}` helper); undefined when there is none. The
   * mailer passes it when the module has `locale.translations`.
   */
  translate?: (key: string, values: Record<string, unknown>) => string | undefined;
}

/**
 * Anything that turns a template name and a context into mail parts: the Handlebars renderer, or
 * an engine of your own given as `templates: { renderer }` (React Email, a function per template, …;
 * see "Your own template engine" in the README). What it returns goes through the same steps as a
 * Handlebars render: a subject given on the mail wins, attachments, defaults and interceptors apply.
 */
export interface TemplateRenderer {
  /** Compiles every template; configuration and syntax errors surface here, at start-up. */
  init(): Promise<void>;
  has(template: string): boolean;
  /**
   * The mail parts for one send; a Promise for an engine that renders asynchronously. Throws (or
   * rejects with) TemplateNotFoundError or TemplateRenderError; never sends anything. `options`
   * carries the layout asked for, the mail's locale and its `{{t}}` lookup.
   */
  render(template: string, context: Record<string, unknown>, options?: RenderOptions): RenderedMail | Promise<RenderedMail>;
  close(): Promise<void>;
  /** Names of all templates, sorted. Optional: the preview module lists what this returns. */
  templateNames?(): string[];
  /** The locales a template has files for, sorted, without the base. Optional: the preview shows them. */
  locales?(template: string): string[];
  /**
   * Optional: calls `listener` after each recompile in a watch mode, with the error when the
   * change did not compile; returns the function that stops listening. The preview module uses it
   * to reload its pages and show template errors.
   */
  onReload?(listener: (error?: Error) => void): () => void;
}
