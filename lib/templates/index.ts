export type { RenderedMail, RenderOptions, TemplateRenderer } from './template-renderer.types.js';
export type { HandlebarsTemplateOptions } from './handlebars-renderer.options.js';
export type { CssInlineOptions } from './css-inliner.js';
export type { MjmlTemplateOptions } from './mjml.compile.js';
export { HandlebarsRenderer, type CssInlineMode, type TextMode, type TemplateInlineMode } from './handlebars.renderer.js';
