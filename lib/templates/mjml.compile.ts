import { randomBytes } from 'node:crypto';
import Handlebars from 'handlebars';
import { MailerConfigurationError, TemplateSyntaxError } from '../errors/mailer.error.js';
import type { OptionShape } from '../errors/option.checker.js';
import type { SourceFile } from './template-scan.js';
import { classifyGaps, readGapTags, splitSource } from './template-source.js';

/** Options of the MJML step, as `templates.mjml`. */
export interface MjmlTemplateOptions {
  /**
   * `'strict'` (default): an MJML validation error (an unknown element, an attribute value MJML
   * does not accept, …) stops start-up with the file and line. `'soft'` and `'skip'`: MJML renders
   * what it can and nothing is reported, as MJML's own option of that name.
   */
  validationLevel?: 'strict' | 'soft' | 'skip';
  /** Web fonts MJML may link when `mj-font` or a `font-family` names them (MJML's `fonts`). */
  fonts?: Record<string, string>;
  /** Keep HTML comments in the output. Default: true, as MJML. */
  keepComments?: boolean;
}

export const MJML_OPTION_SHAPE = {
  validationLevel: 'string',
  fonts: 'object',
  keepComments: 'boolean',
} as const satisfies OptionShape<MjmlTemplateOptions>;

interface MjmlError {
  line?: number;
  message?: string;
  tagName?: string;
}

interface MjmlResult {
  html: string;
  errors?: MjmlError[];
}

/** `mjml2html`: a Promise from MJML 5, a result from MJML 4. */
export type Mjml2Html = (source: string, options: Record<string, unknown>) => MjmlResult | Promise<MjmlResult>;

export const MJML_INSTALL = 'npm install mjml';

/** Loads the `mjml` package (an optional peer); a missing one is a configuration error naming the install command. */
export async function loadMjml(files: readonly string[], specifier = 'mjml'): Promise<Mjml2Html> {
  let mod: unknown;
  try {
    // A non-literal specifier keeps TypeScript and bundlers from requiring the optional peer.
    mod = await import(specifier);
  } catch (cause) {
    const code = (cause as { code?: unknown } | undefined)?.code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' || /Cannot find (module|package)/.test(String(cause))) {
      const shown = files.slice(0, 3).join(', ') + (files.length > 3 ? ', …' : '');
      throw new MailerConfigurationError(`MJML templates (${shown}) need the mjml package: run \`${MJML_INSTALL}\`.`, { cause });
    }
    throw cause;
  }
  // ES module namespace, CommonJS interop, or the function itself
  for (let candidate = mod, depth = 0; depth < 3 && candidate; depth++) {
    if (typeof candidate === 'function') return candidate as Mjml2Html;
    candidate = (candidate as { default?: unknown }).default;
  }
  throw new MailerConfigurationError('The mjml package does not export mjml2html as its default export.');
}

/** Elements whose content MJML copies as HTML: Handlebars syntax there needs no wrapper. */
const ENDING_ELEMENTS = new Set([
  'mj-accordion-text', 'mj-accordion-title', 'mj-breakpoint', 'mj-button', 'mj-carousel-image', 'mj-html-attribute',
  'mj-navbar-link', 'mj-preview', 'mj-raw', 'mj-social-element', 'mj-style', 'mj-table', 'mj-text', 'mj-title',
]);

const COMMENT_TAGS = /\{\{!--[\s\S]*?--\}\}|\{\{![\s\S]*?\}\}/g;

function lineOf(source: string, offset: number): number {
  let line = 1;
  for (let i = source.indexOf('\n'); i !== -1 && i < offset; i = source.indexOf('\n', i + 1)) line++;
  return line;
}

/**
 * Turns an MJML template with Handlebars syntax into an HTML template with the same syntax, once,
 * at start-up. Each piece of Handlebars syntax goes through MJML as a marker word: as it is in an
 * attribute value or inside an element whose content MJML copies (`mj-text`, `mj-table`,
 * `mj-button`, …), wrapped in `<mj-raw>` between MJML elements (a block around `mj-column`s).
 * The markers are then turned back into the syntax, which must come out complete, with every
 * block opened and closed once and in order.
 */
export async function compileMjml(file: SourceFile, mjml2html: Mjml2Html, options: MjmlTemplateOptions, includePath: string): Promise<string> {
  const source = file.source;
  let split;
  try {
    split = splitSource(source);
  } catch (error) {
    throw new TemplateSyntaxError(file.file, (error as Error).message.split('\n')[0] ?? String(error), { cause: error });
  }
  const { contents, gaps } = split;
  const contexts = classifyGaps(contents);
  let prefix: string;
  do prefix = `mj${randomBytes(6).toString('hex')}t`;
  while (source.includes(prefix));
  const token = (i: number): string => `${prefix}${i}q`;

  const offsets: number[] = [];
  let offset = 0;
  for (let i = 0; i < gaps.length; i++) {
    offset += contents[i]!.length;
    offsets.push(offset);
    offset += gaps[i]!.length;
  }
  const fail = (i: number, detail: string): never => {
    throw new TemplateSyntaxError(file.file, `line ${lineOf(source, offsets[i]!)}: ${detail}`);
  };

  // the syntax each marker stands for; a comment alone prints nothing and is left out
  const kept = gaps.map((gap) => gap.replace(COMMENT_TAGS, '').trim() !== '');
  let marked = contents[0] ?? '';
  for (let i = 0; i < gaps.length; i++) {
    const context = contexts[i]!;
    if (kept[i] && context.kind === 'tag') {
      fail(i, `${gaps[i]!.trim().slice(0, 40)} stands where an attribute name of <${context.element || '?'}> goes, which MJML cannot keep; put it in an attribute value, or around the whole element`);
    }
    // keep the line count, so that MJML's line numbers are the file's
    const lines = '\n'.repeat((gaps[i]!.match(/\n/g) ?? []).length);
    marked += (kept[i] ? token(i) : '') + (context.kind === 'attribute-value' ? '' : lines) + (contents[i + 1] ?? '');
  }
  marked = wrapBetweenElements(marked, prefix);

  let result: MjmlResult;
  try {
    result = await mjml2html(marked, {
      validationLevel: options.validationLevel ?? 'strict',
      keepComments: options.keepComments ?? true,
      ...(options.fonts ? { fonts: options.fonts } : {}),
      filePath: file.file,
      actualPath: file.file,
      ignoreIncludes: false,
      includePath,
      minify: false,
      beautify: false,
    });
  } catch (error) {
    const errors = (error as { errors?: MjmlError[] }).errors;
    if (Array.isArray(errors) && errors.length > 0) throw validationError(file, errors, prefix, gaps, error);
    throw new TemplateSyntaxError(file.file, `MJML could not compile it (${restoreText((error as Error).message ?? String(error), prefix, gaps)})`, { cause: error });
  }
  if ((options.validationLevel ?? 'strict') === 'strict' && result.errors?.length) throw validationError(file, result.errors, prefix, gaps);

  const seen: number[] = [];
  const html = result.html.replace(new RegExp(`${prefix}(\\d+)q`, 'g'), (_m, n: string) => {
    seen.push(Number(n));
    return gaps[Number(n)]!;
  });
  for (let i = 0; i < gaps.length; i++) {
    if (!kept[i]) continue;
    const times = seen.filter((n) => n === i).length;
    const tags = readGapTags(gaps[i]!);
    const structural = tags.balance !== 0 || tags.lowest < 0;
    if (times === 0) fail(i, `MJML dropped ${gaps[i]!.trim().slice(0, 40)}; Handlebars syntax must be inside an element's content or an attribute value`);
    if (structural && times > 1) fail(i, `MJML repeated ${gaps[i]!.trim().slice(0, 40)}; put blocks inside mj-text or mj-table, or around whole sections and columns`);
  }
  const blocks = seen.filter((n) => {
    const tags = readGapTags(gaps[n]!);
    return tags.balance !== 0 || tags.lowest < 0;
  });
  for (let k = 1; k < blocks.length; k++) {
    if (blocks[k]! < blocks[k - 1]!) fail(blocks[k]!, `MJML moved ${gaps[blocks[k]!]!.trim().slice(0, 40)} out of its place; put blocks inside mj-text or mj-table, or around whole sections and columns`);
  }
  try {
    Handlebars.parseWithoutProcessing(html);
  } catch (error) {
    throw new TemplateSyntaxError(file.file, `the HTML MJML made from it is no longer a valid template (${(error as Error).message.split('\n')[0]})`, { cause: error });
  }
  return html;
}

/**
 * Wraps a marker that stands between MJML elements (not inside one whose content MJML copies,
 * not inside a tag) in `<mj-raw>`, the element MJML passes through as it is.
 */
function wrapBetweenElements(marked: string, prefix: string): string {
  const marker = new RegExp(`${prefix}\\d+q`, 'g');
  const tags = /<!--[\s\S]*?(?:-->|$)|<(\/?)([A-Za-z][\w:-]*)((?:[^>"']|"[^"]*"|'[^']*')*)>/g;
  let out = '';
  let cursor = 0;
  let inside: string | undefined;
  const wrapText = (text: string): string => (inside ? text : text.replace(marker, (m) => `<mj-raw>${m}</mj-raw>`));
  for (const match of marked.matchAll(tags)) {
    out += wrapText(marked.slice(cursor, match.index)) + match[0];
    cursor = match.index + match[0].length;
    if (match[0].startsWith('<!--')) continue;
    const closing = match[1] === '/';
    const name = match[2]!.toLowerCase();
    const selfClosing = /\/\s*$/.test(match[3] ?? '');
    if (inside) {
      if (closing && name === inside) inside = undefined;
    } else if (!closing && !selfClosing && ENDING_ELEMENTS.has(name)) {
      inside = name;
    }
  }
  return out + wrapText(marked.slice(cursor));
}

function restoreText(text: string, prefix: string, gaps: readonly string[]): string {
  return text.replace(new RegExp(`(?:<mj-raw>)?${prefix}(\\d+)q(?:</mj-raw>)?`, 'g'), (_m, n: string) => gaps[Number(n)]!.trim());
}

function validationError(file: SourceFile, errors: MjmlError[], prefix: string, gaps: readonly string[], cause?: unknown): TemplateSyntaxError {
  const first = errors[0]!;
  let detail = restoreText(String(first.message ?? 'MJML validation failed'), prefix, gaps);
  if (new RegExp(prefix).test(String(first.message)) || /\{\{/.test(detail)) {
    detail += ' (MJML checks this value at start-up, so it cannot come from the context; use a fixed value or an mj-class)';
  }
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more MJML error${errors.length > 2 ? 's' : ''})` : '';
  return new TemplateSyntaxError(file.file, `${first.line !== undefined ? `line ${first.line}: ` : ''}${detail}${more}`, cause === undefined ? undefined : { cause });
}
