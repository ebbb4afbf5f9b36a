import Handlebars from 'handlebars';
import { PARTIAL_SCOPE_HELPER } from './template-combine.js';

export type HandlebarsInstance = typeof Handlebars;
export type CompiledTemplate = Handlebars.TemplateDelegate;

interface CompilerThis {
  options: Record<string, unknown>;
  pushSource(source: unknown): void;
  appendToBuffer(parts: unknown[]): unknown;
  aliasable(name: string): unknown;
  popStack(): unknown;
}

interface JavaScriptCompilerClass {
  new (): object;
  prototype: {
    compiler: unknown;
    lookupOnContext(this: CompilerThis, ...args: unknown[]): void;
    appendEscaped(this: CompilerThis): void;
  };
}

/**
 * Name under which text templates find `textValue`. It is registered as an object holding the
 * function, since Handlebars wraps function helpers in an adapter that expects an options argument.
 */
const TEXT_VALUE_HOLDER = '__mailroom_text';

/**
 * How a derived text template prints a value: unescaped, with runs of whitespace as one space,
 * the way the value shows in HTML and therefore in text converted from that HTML.
 */
function textValue(value: unknown): string {
  let text: string;
  if (typeof value === 'string') text = value;
  else if (value == null) return '';
  else if (typeof (value as { toHTML?: unknown }).toHTML === 'function') text = (value as { toHTML(): string }).toHTML();
  else text = String(value);
  return /\s\s|[\t\n\r\f]/.test(text) ? text.replace(/\s+/g, ' ') : text;
}

/**
 * A Handlebars instance of its own, so helpers and partials of one renderer never reach another.
 *
 * Handlebars' `strict` option also turns the arguments of helpers into unchecked property chains:
 * `{{#if customer.vip}}` throws a TypeError when `customer` is missing. Here strict mode keeps its
 * check on what a template prints and lets helper arguments resolve to `undefined` as they do
 * without strict mode, so `{{#if}}`, `{{#each}}` and `{{#with}}` keep working on optional data.
 */
export function createHandlebars(
  helpers: Record<string, Handlebars.HelperDelegate>,
  builtIn: Record<string, Handlebars.HelperDelegate> = {},
): HandlebarsInstance {
  const hb = Handlebars.create();
  const Base = (hb as unknown as { JavaScriptCompiler: JavaScriptCompilerClass }).JavaScriptCompiler;
  const baseLookup = Base.prototype.lookupOnContext;
  function LenientArgumentsCompiler(this: object): void {
    Base.call(this);
  }
  LenientArgumentsCompiler.prototype = Object.create(Base.prototype) as JavaScriptCompilerClass['prototype'];
  LenientArgumentsCompiler.prototype.compiler = LenientArgumentsCompiler;
  LenientArgumentsCompiler.prototype.lookupOnContext = function (
    this: CompilerThis,
    ...args: unknown[]
  ): void {
    // args: parts, falsy, strict (true only where the value is printed), scoped
    if (this.options['strict'] && !args[2]) {
      const options = this.options;
      this.options = { ...options, strict: false, assumeObjects: false };
      try {
        baseLookup.apply(this, args);
      } finally {
        this.options = options;
      }
      return;
    }
    baseLookup.apply(this, args);
  };
  const baseAppendEscaped = Base.prototype.appendEscaped;
  LenientArgumentsCompiler.prototype.appendEscaped = function (this: CompilerThis): void {
    if (!this.options[TEXT_VALUES]) {
      baseAppendEscaped.call(this);
      return;
    }
    // where HTML templates escape, derived text templates collapse whitespace instead
    this.pushSource(
      this.appendToBuffer([this.aliasable(`container.helpers.${TEXT_VALUE_HOLDER}.print`), '(', this.popStack(), ')']),
    );
  };
  (hb as unknown as { JavaScriptCompiler: unknown }).JavaScriptCompiler = LenientArgumentsCompiler;

  hb.registerHelper(PARTIAL_SCOPE_HELPER, function (this: unknown, ...args: unknown[]) {
    const options = args[args.length - 1] as Handlebars.HelperOptions;
    let context: unknown = args.length > 1 ? args[0] : this;
    if (options.hash && Object.keys(options.hash as object).length > 0) {
      context = Object.assign({}, context, options.hash);
    }
    return options.fn(context);
  });
  hb.registerHelper(TEXT_VALUE_HOLDER, { print: textValue } as unknown as Handlebars.HelperDelegate);
  // the application's own helpers win over the built-in ones of the same name
  for (const [name, helper] of Object.entries(builtIn)) hb.registerHelper(name, helper);
  for (const [name, helper] of Object.entries(helpers)) hb.registerHelper(name, helper);
  return hb;
}

const TEXT_VALUES = 'mailroomTextValues';

export interface CompileOptions {
  strict: boolean;
  noEscape?: boolean;
  /** A text template derived from HTML: values unescaped, whitespace collapsed (see `textValue`). */
  textValues?: boolean;
}

/** Compiles now rather than on first use, so a render never pays for compilation. */
export function compileNow(hb: HandlebarsInstance, source: string, options: CompileOptions): CompiledTemplate {
  const template = hb.compile(source, {
    strict: options.strict,
    noEscape: options.textValues ? false : (options.noEscape ?? false),
    data: true,
    ...(options.textValues ? { [TEXT_VALUES]: true } : {}),
  } as CompileOptions & Record<string, unknown>);
  // compile() defers the work to the first call; _setup() triggers it without running the
  // template, so no helper is called with made-up data
  (template as unknown as { _setup(options: object): void })._setup({});
  return template;
}

/** `line N` for Handlebars' parse and compile errors, which carry it in different places. */
export function syntaxErrorDetail(error: unknown): string {
  const e = error as { message?: string; lineNumber?: number; column?: number };
  const message = String(e.message ?? error);
  const fromMessage = /Parse error on line (\d+):/.exec(message);
  const line = e.lineNumber ?? (fromMessage ? Number(fromMessage[1]) : undefined);
  const firstLine = message.replace(/^Parse error on line \d+:\s*/, '').split('\n').filter(Boolean);
  const detail = fromMessage ? firstLine.slice(-1)[0] ?? message : message.replace(/ - \d+:\d+$/, '');
  return line !== undefined ? `line ${line}: ${detail}` : detail;
}

/**
 * Describes a failed render for a person: a strict-mode miss becomes `missing variable
 * "customer.email"` (Handlebars itself only names the last segment), anything else keeps its message.
 */
export function renderErrorDetail(error: unknown, sources: readonly string[]): string {
  const e = error as { message?: string; lineNumber?: number; column?: number };
  const message = String(e.message ?? error);
  const strict = /^"([^"]+)" not defined in /.exec(message);
  if (!strict) return message;
  const name = strict[1]!;
  if (e.lineNumber !== undefined && e.column !== undefined) {
    for (const source of sources) {
      const line = source.split('\n')[e.lineNumber - 1];
      const path = line?.slice(e.column).match(/^[^\s}~)(]+/)?.[0];
      if (path && (path === name || path.endsWith(`.${name}`) || path.endsWith(`/${name}`))) {
        return `missing variable "${path}"`;
      }
    }
  }
  return `missing variable "${name}"`;
}
