import type { HelperDelegate, HelperOptions } from 'handlebars';

/** Looks up a translation for the mail being rendered; undefined when there is none. */
export type BoundTranslate = (key: string, values: Record<string, unknown>) => string | undefined;

/** What the helpers need from the render in progress. */
export interface LocaleHelperHost {
  /** The translation lookup of the render in progress, when the mailer has translations. */
  readonly translate: BoundTranslate | undefined;
}

export interface LocaleHelperOptions {
  /** A missing value or translation fails the render instead of printing nothing (or the key). */
  strict: boolean;
  /** Time zone of `{{date}}` unless the call names one. */
  timeZone: string;
}

/** Locale of a render without one: the server's own locale would make output depend on the host. */
export const FALLBACK_LOCALE = 'en';

/** Intl formatters are costly to build and cheap to use: one per locale and options, kept. */
class FormatterCache<T> {
  private readonly made = new Map<string, T>();
  constructor(private readonly create: (locale: string, options: Record<string, unknown>) => T) {}

  get(locale: string, options: Record<string, unknown>): T {
    const key = `${locale}\u0000${JSON.stringify(options)}`;
    let formatter = this.made.get(key);
    if (!formatter) {
      formatter = this.create(locale, options);
      // a context-driven option (a currency per order) could make keys without end
      if (this.made.size >= 500) this.made.clear();
      this.made.set(key, formatter);
    }
    return formatter;
  }
}

type Args = [...unknown[], HelperOptions];

function split(args: unknown[]): { params: unknown[]; options: HelperOptions } {
  return { params: args.slice(0, -1), options: args[args.length - 1] as HelperOptions };
}

function localeOf(options: HelperOptions): string {
  const locale = (options.data as { locale?: unknown } | undefined)?.locale;
  return typeof locale === 'string' && locale !== '' ? locale : FALLBACK_LOCALE;
}

function hashOf(options: HelperOptions): Record<string, unknown> {
  return { ...(options.hash as Record<string, unknown>) };
}

/**
 * A helper written alone, like `{{date}}`, is what Handlebars calls a helper before it looks the
 * name up in the context. Templates written before these helpers existed print a context value
 * that way, so a call without arguments still prints that value.
 */
function contextValue(self: unknown, options: HelperOptions, strict: boolean): unknown {
  const name = (options as HelperOptions & { name?: string }).name ?? '';
  const value = self !== null && typeof self === 'object' && Object.prototype.hasOwnProperty.call(self, name)
    ? (self as Record<string, unknown>)[name]
    : undefined;
  if (value === undefined && strict) throw new Error(`"${name}" not defined in ${String(self)}`);
  return value;
}

function toNumber(helper: string, value: unknown): number | bigint {
  if (typeof value === 'number' || typeof value === 'bigint') return value;
  if (typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value))) return Number(value);
  throw new Error(`{{${helper}}}: ${JSON.stringify(value)} is not a number`);
}

function toDate(value: unknown): Date {
  // queued mails carry Dates as ISO 8601 strings
  const date = value instanceof Date ? value : typeof value === 'string' || typeof value === 'number' ? new Date(value) : undefined;
  if (!date || Number.isNaN(date.getTime())) throw new Error(`{{date}}: ${JSON.stringify(value)} is not a date`);
  return date;
}

const DATE_FIELDS = ['dateStyle', 'timeStyle', 'weekday', 'era', 'year', 'month', 'day', 'dayPeriod', 'hour', 'minute', 'second', 'fractionalSecondDigits'];
const PLURAL_CATEGORIES = ['zero', 'one', 'two', 'few', 'many', 'other'];

/**
 * `t`, `number`, `currency`, `date`, `list` and `plural`, formatting for the locale of the mail
 * being rendered (the `@locale` data variable), never the server's.
 */
export function localeHelpers(host: LocaleHelperHost, settings: LocaleHelperOptions): Record<string, HelperDelegate> {
  const { strict } = settings;
  const numbers = new FormatterCache((locale, options) => new Intl.NumberFormat(locale, options));
  const dates = new FormatterCache((locale, options) => new Intl.DateTimeFormat(locale, options));
  const lists = new FormatterCache((locale, options) => new Intl.ListFormat(locale, options));
  const plurals = new FormatterCache((locale, options) => new Intl.PluralRules(locale, options));

  /** Undefined when a missing value prints nothing; throws when strict. */
  const present = (helper: string, value: unknown): boolean => {
    if (value !== undefined && value !== null) return true;
    if (strict) throw new Error(`{{${helper}}} was given no value`);
    return false;
  };

  const helpers: Record<string, (this: unknown, ...args: Args) => unknown> = {
    /** `{{t "receipt.title" name=customer.name}}`: the translation of a key for the mail's locale. */
    t(...args) {
      const { params, options } = split(args);
      if (params.length === 0) return contextValue(this, options, strict);
      const key = String(params[0]);
      const translate = host.translate;
      if (!translate) {
        throw new Error(`{{t "${key}"}} needs translations: set locale.translations in the MailerModule options (nestjs-i18n, i18next or a function)`);
      }
      const text = translate(key, hashOf(options));
      if (text !== undefined) return text;
      if (strict) throw new Error(`missing translation "${key}" for locale ${localeOf(options)}`);
      return key;
    },
    /** `{{number value}}`, `{{number ratio style="percent"}}`: any Intl.NumberFormat option. */
    number(...args) {
      const { params, options } = split(args);
      if (params.length === 0) return contextValue(this, options, strict);
      if (!present('number', params[0])) return '';
      return numbers.get(localeOf(options), hashOf(options)).format(toNumber('number', params[0]));
    },
    /** `{{currency total "EUR"}}` or `{{currency total currency=order.currency}}`. */
    currency(...args) {
      const { params, options } = split(args);
      if (params.length === 0) return contextValue(this, options, strict);
      if (!present('currency', params[0])) return '';
      const hash = hashOf(options);
      const code = params[1] ?? hash.currency;
      if (typeof code !== 'string' || code === '') {
        throw new Error('{{currency}} needs a currency code: {{currency total "EUR"}} or currency=order.currency');
      }
      return numbers.get(localeOf(options), { ...hash, style: 'currency', currency: code }).format(toNumber('currency', params[0]));
    },
    /**
     * `{{date order.placedAt}}` (medium date), `{{date when dateStyle="long" timeStyle="short"}}`:
     * any Intl.DateTimeFormat option; a Date, an ISO 8601 string or milliseconds.
     */
    date(...args) {
      const { params, options } = split(args);
      if (params.length === 0) return contextValue(this, options, strict);
      if (!present('date', params[0])) return '';
      const hash = hashOf(options);
      if (!DATE_FIELDS.some((field) => hash[field] !== undefined)) hash.dateStyle = 'medium';
      hash.timeZone ??= settings.timeZone;
      return dates.get(localeOf(options), hash).format(toDate(params[0]));
    },
    /** `{{list names}}`: "a, b and c" in the mail's language; `type="disjunction"` for "or". */
    list(...args) {
      const { params, options } = split(args);
      if (params.length === 0) return contextValue(this, options, strict);
      if (!present('list', params[0])) return '';
      const items = params[0];
      if (!Array.isArray(items)) throw new Error(`{{list}}: expected an array, got ${JSON.stringify(items)}`);
      return lists.get(localeOf(options), hashOf(options)).format(items.map(String));
    },
    /**
     * `{{plural count one="# item" other="# items"}}`: the form the mail's language uses for that
     * number (zero, one, two, few, many, other), `#` replaced by the number formatted.
     */
    plural(...args) {
      const { params, options } = split(args);
      if (params.length === 0) return contextValue(this, options, strict);
      if (!present('plural', params[0])) return '';
      const { type, ...forms } = hashOf(options);
      if (typeof forms.other !== 'string') throw new Error('{{plural}} needs at least other="…" (and one="…", few="…", … as the language has them)');
      for (const key of Object.keys(forms)) {
        if (!PLURAL_CATEGORIES.includes(key)) throw new Error(`{{plural}}: "${key}" is no plural category (${PLURAL_CATEGORIES.join(', ')})`);
      }
      const count = toNumber('plural', params[0]);
      const locale = localeOf(options);
      const category = plurals.get(locale, type === 'ordinal' ? { type: 'ordinal' } : {}).select(Number(count));
      const form = typeof forms[category] === 'string' ? (forms[category] as string) : (forms.other as string);
      return form.replace(/#/g, numbers.get(locale, {}).format(count));
    },
  };
  return helpers as unknown as Record<string, HelperDelegate>;
}
