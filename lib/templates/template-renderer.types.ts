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
}
