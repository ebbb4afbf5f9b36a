import { TemplateNotFoundError, type RenderedMail, type RenderOptions, type TemplateRenderer } from 'nestjs-mailroom';

/** One template: a function of the mail's context and of the render options (its `locale`, …). */
export type MailTemplateFunction = (context: Record<string, unknown>, options: RenderOptions) => RenderedMail | Promise<RenderedMail>;

/** Templates written as functions, one per name: `templates: { renderer: new FunctionRenderer({ welcome }) }`. */
export class FunctionRenderer implements TemplateRenderer {
  constructor(private readonly templates: Record<string, MailTemplateFunction>) {}

  async init(): Promise<void> {}

  has(template: string): boolean {
    return Object.hasOwn(this.templates, template);
  }

  /** Lets the preview list the templates. */
  templateNames(): string[] {
    return Object.keys(this.templates).sort();
  }

  render(template: string, context: Record<string, unknown>, options: RenderOptions = {}): RenderedMail | Promise<RenderedMail> {
    if (!this.has(template)) throw new TemplateNotFoundError(template, this.templateNames());
    return this.templates[template]!(context, options);
  }

  async close(): Promise<void> {}
}
