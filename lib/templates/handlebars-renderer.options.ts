import type { HelperDelegate } from 'handlebars';
import type { OptionShape } from '../errors/option.checker.js';
import type { CssInlineOptions } from './css-inliner.js';
import type { MjmlTemplateOptions } from './mjml.compile.js';

export interface HandlebarsTemplateOptions {
  /**
   * Folder of the templates. Every `*.hbs` file below it is a template named by its path relative
   * to this folder, without the extension and with forward slashes (`orders/receipt`).
   * `<name>.subject.hbs` is the subject of `<name>`, `<name>.text.hbs` its text part. A relative
   * path is resolved against the working directory; `join(__dirname, 'templates')` finds the
   * folder next to the compiled code instead. `nest build` copies `.hbs` files into `dist/` only
   * when nest-cli.json lists them under `compilerOptions.assets` (the README shows the entry). A
   * folder that is missing or holds no template stops start-up.
   */
  dir: string;
  /** Folder of the layouts; files in it are not templates. Default: `<dir>/layouts`. */
  layoutsDir?: string;
  /**
   * Folder of the partials, named like templates (`partials/orders/line.hbs` is `orders/line`);
   * files in it are not templates. Default: `<dir>/partials`.
   */
  partialsDir?: string;
  /**
   * Layout wrapped around every HTML template, or `false` for none. The layout places the
   * template with `{{{body}}}` and sees the same context as the template. Per mail,
   * `render(name, context, { layout })` overrides it. Default: `'main'` when `layouts/main.hbs`
   * exists, otherwise none.
   */
  defaultLayout?: string | false;
  /** Helpers, registered on this renderer's own Handlebars instance only. */
  helpers?: Record<string, HelperDelegate>;
  /** Partials given as source text, in addition to (and overriding) the partials folder. */
  partials?: Record<string, string>;
  /**
   * Fail a render with TemplateRenderError when a printed variable is missing
   * (`{{customer.name}}` without `customer.name` in the context). Arguments of helpers stay
   * lenient, so `{{#if coupon}}` and `{{#each items}}` still work when the key is absent; a
   * `{{#missing}}…{{/missing}}` section does throw, since it prints through the missing value.
   * Default: false.
   */
  strict?: boolean;
  /**
   * Inline the layout's and template's `<style>` rules into `style` attributes: `true`, `false`, or
   * options for @css-inline/css-inline. Default: true.
   *
   * What cannot be inlined stays in one `<style>` at the end of `<head>`: the at-rules (`@media`,
   * including `prefers-color-scheme`, `@font-face`, `@supports`, `@import`, which goes first) and
   * the rules no element matches or that need a state (`:hover`, `::before`, `#MessageViewBody a`),
   * other rules before at-rules, each in the order written. `class` attributes stay on the
   * elements, so the media queries still match; since a `style` attribute beats any rule of a
   * `<style>`, a media query that overrides an inlined property needs `!important`.
   *
   * - `keepAtRules: false` drops the at-rules; `removeInlinedSelectors: false` drops the other
   *   rules that cannot be inlined; both false leaves no `<style>` at all.
   * - `keepStyleTags: true` keeps every `<style>` as written (then the two above default to false).
   * - A `<style>` with a `media` or other attribute, or inside a comment (`<!--[if mso]>`), is left
   *   where it is; `data-css-inline="ignore"` on an element or `<style>` skips it.
   *
   * Remote stylesheets (`<link rel="stylesheet">`) are never fetched unless `loadRemoteStylesheets:
   * true` is set here. Inlining happens once per template at start-up; a template where that cannot
   * be done exactly (see `inlineMode()`: HTML printed with `{{{…}}}`, a `<style>` inside a block, …)
   * is inlined on every render instead, with the same result.
   */
  inlineCss?: boolean | CssInlineOptions;
  /**
   * Where the text part comes from. `'auto'`: `<name>.text.hbs` when it exists, otherwise derived
   * from the HTML (links keep their URL, images show their alt text, one line per table row).
   * `'template'`: only from `<name>.text.hbs`. `false`: no text part. Default: `'auto'`.
   */
  text?: 'auto' | 'template' | false;
  /**
   * How `<name>.mjml.hbs` templates are compiled (they need the `mjml` package): each is turned
   * into HTML once, at start-up, with its Handlebars syntax kept, then rendered like any template
   * (without a layout: an MJML template is a whole document; `mj-include` reads files below `dir`).
   */
  mjml?: MjmlTemplateOptions;
  /**
   * Time zone of the `{{date}}` helper when a call names none (`{{date when timeZone=user.tz}}`):
   * an IANA name. Default: `'UTC'`, so that a mail does not depend on where the server runs.
   */
  timeZone?: string;
  /**
   * Development mode: recompile when a file under the folders changes. A change that does not
   * compile is reported through `onError` and the last good templates stay in use. Call
   * `close()` to stop watching. Default: false.
   */
  watch?: boolean;
  /** Quiet period after the last file change before recompiling, in milliseconds. Default: 50. */
  watchDebounceMs?: number;
  /**
   * Receives errors from recompiling in watch mode. Default: logged with `console.error`.
   */
  onError?: (error: Error) => void;
}

/** The keys of HandlebarsTemplateOptions and their types, checked at start-up. */
export const HANDLEBARS_TEMPLATE_OPTION_SHAPE = {
  dir: 'string',
  layoutsDir: 'string',
  partialsDir: 'string',
  defaultLayout: ['string', 'boolean'],
  helpers: 'object',
  partials: 'object',
  strict: 'boolean',
  inlineCss: ['boolean', 'object'],
  text: ['string', 'boolean'],
  mjml: 'object',
  timeZone: 'string',
  watch: 'boolean',
  watchDebounceMs: 'number',
  onError: 'function',
} as const satisfies OptionShape<HandlebarsTemplateOptions>;
