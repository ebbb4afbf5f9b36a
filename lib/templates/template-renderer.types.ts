/** The parts of a mail a template produces. Absent parts are left to the mail itself. */
export interface RenderedMail {
  subject?: string;
  html?: string;
  text?: string;
}

export interface RenderOptions {
  /** Layout name from the layouts folder, `false` for none; default: the renderer's default layout. */
  layout?: string | false;
}

/** Anything that turns a template name and a context into mail parts. */
export interface TemplateRenderer {
  /** Compiles every template; configuration and syntax errors surface here, at start-up. */
  init(): Promise<void>;
  has(template: string): boolean;
  /** Throws TemplateNotFoundError or TemplateRenderError; never sends anything. */
  render(template: string, context: Record<string, unknown>, options?: RenderOptions): RenderedMail;
  close(): Promise<void>;
  /** Names of all templates, sorted. Optional: the preview module lists what this returns. */
  templateNames?(): string[];
  /**
   * Optional: calls `listener` after each recompile in a watch mode, with the error when the
   * change did not compile; returns the function that stops listening. The preview module uses it
   * to reload its pages and show template errors.
   */
  onReload?(listener: (error?: Error) => void): () => void;
}
