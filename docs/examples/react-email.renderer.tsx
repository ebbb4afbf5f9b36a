import { render } from '@react-email/render';
import { createElement, type ReactElement } from 'react';
import { TemplateNotFoundError, type RenderedMail, type RenderOptions, type TemplateRenderer } from 'nestjs-mailroom';

/** A React Email component and the subject that goes with its props. */
export interface ReactMail<P extends object> {
  component: (props: P & { locale?: string }) => ReactElement;
  subject: (props: P, options: RenderOptions) => string;
}

/** Keeps each mail's own props type where the renderer holds mails of every kind. */
export function reactMail<P extends object>(mail: ReactMail<P>): ReactMail<Record<string, unknown>> {
  return mail as unknown as ReactMail<Record<string, unknown>>;
}

/**
 * React Email components as templates: the context is the component's props, plus the mail's
 * locale. Each send renders the component twice, to HTML and to plain text.
 */
export class ReactEmailRenderer implements TemplateRenderer {
  constructor(private readonly mails: Record<string, ReactMail<Record<string, unknown>>>) {}

  async init(): Promise<void> {}

  has(template: string): boolean {
    return Object.hasOwn(this.mails, template);
  }

  templateNames(): string[] {
    return Object.keys(this.mails).sort();
  }

  async render(template: string, context: Record<string, unknown>, options: RenderOptions = {}): Promise<RenderedMail> {
    const mail = this.mails[template];
    if (!mail) throw new TemplateNotFoundError(template, this.templateNames());
    const element = createElement(mail.component, { ...context, locale: options.locale });
    const [html, text] = await Promise.all([render(element), render(element, { plainText: true })]);
    return { subject: mail.subject(context, options), html, text };
  }

  async close(): Promise<void> {}
}
