import type { ModuleRef } from '@nestjs/core';
import type { Mail } from '../core/mail.types.js';
import { InvalidMailError, MailerConfigurationError } from '../errors/mailer.error.js';
import { checkOptions, expectOptionsObject, type OptionShape } from '../errors/option.checker.js';
import { normalizeLocale } from '../templates/locale.js';
import type { BoundTranslate } from '../templates/locale.helpers.js';

/**
 * Looks up the translation of `key` for `locale` (the mail's, or undefined when it has none),
 * with `values` to interpolate. Returns undefined when there is no translation: the `{{t}}` helper
 * then prints the key, or fails the render in strict mode.
 */
export type MailTranslateFunction = (key: string, locale: string | undefined, values: Record<string, unknown>) => string | undefined;

/**
 * The parts of an i18next instance `{{t}}` uses (`i18next` itself, or one from `createInstance()`):
 * `t(key, options)` and `exists(key, options)`. Typed loosely, so that every i18next version's
 * overloaded signatures fit.
 */
export interface I18nextLike {
  t: (...args: never[]) => unknown;
  exists: (...args: never[]) => boolean;
}

/** How `{{t}}` calls an i18next instance. */
interface I18nextCalls {
  t(key: string, options: Record<string, unknown>): unknown;
  exists(key: string, options: Record<string, unknown>): boolean;
}

export interface MailerLocaleOptions {
  /**
   * Locale of a mail that names none and for which `resolve` (and nestjs-i18n's request context)
   * finds none, a BCP 47 tag. Default: none — base templates, and `{{number}}`, `{{date}}`, …
   * formatting for `en`.
   */
  default?: string;
  /**
   * Finds the locale of a mail that does not set `locale`: from the recipient's record, the
   * request (through your own AsyncLocalStorage), … Return undefined to go on to the default. A
   * queued mail is resolved when it is enqueued, where the request still is.
   */
  resolve?: (mail: Mail) => string | undefined | null | Promise<string | undefined | null>;
  /**
   * Where `{{t "key"}}` finds its translations:
   * - `'nestjs-i18n'`: the I18nService of the application's I18nModule; the locale of the current
   *   request (`I18nContext.current().lang`) then also serves mails that name none (`npm install nestjs-i18n`).
   * - `'i18next'`: the default i18next instance (`npm install i18next`), or an i18next instance of yours.
   * - a function `(key, locale, values) => string | undefined`.
   * Default: none; a template that uses `{{t}}` fails to render.
   */
  translations?: 'nestjs-i18n' | 'i18next' | I18nextLike | MailTranslateFunction;
}

export const LOCALE_OPTION_SHAPE = {
  default: 'string',
  resolve: 'function',
  translations: ['string', 'object', 'function'],
} as const satisfies OptionShape<MailerLocaleOptions>;

/** A locale given by the application, normalized, or InvalidMailError naming where it came from. */
export function checkedLocale(given: unknown, where: string): string {
  const locale = normalizeLocale(given);
  if (locale === undefined) {
    const shown = typeof given === 'string' ? JSON.stringify(given.slice(0, 60)) : `a ${typeof given}`;
    throw new InvalidMailError(`${where}: ${shown} is not a BCP 47 language tag (like "fr", "fr-CA" or "zh-Hant-TW").`, 'locale');
  }
  return locale;
}

/** Checks the `locale` module option at start-up: its keys, the default tag, the translations. */
export function checkLocaleOptions(options: MailerLocaleOptions | undefined): void {
  if (options === undefined) return;
  expectOptionsObject(options, 'MailerModule: locale');
  checkOptions(options, LOCALE_OPTION_SHAPE, 'MailerModule: locale');
  if (options.default !== undefined && normalizeLocale(options.default) === undefined) {
    throw new MailerConfigurationError(`MailerModule: locale.default ${JSON.stringify(options.default)} is not a BCP 47 language tag (like "en", "fr-CA").`);
  }
  const translations = options.translations;
  if (typeof translations === 'string' && translations !== 'nestjs-i18n' && translations !== 'i18next') {
    throw new MailerConfigurationError(`MailerModule: locale.translations must be 'nestjs-i18n', 'i18next', an i18next instance or a function, not ${JSON.stringify(translations)}.`);
  }
  if (typeof translations === 'object' && translations !== null && !isI18next(translations)) {
    throw new MailerConfigurationError('MailerModule: locale.translations: an object must be an i18next instance (with t() and exists()).');
  }
}

function isI18next(value: unknown): value is I18nextLike {
  return typeof value === 'object' && value !== null
    && typeof (value as I18nextLike).t === 'function' && typeof (value as I18nextLike).exists === 'function';
}

function isMissingModule(cause: unknown): boolean {
  const code = (cause as { code?: unknown } | undefined)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' || /Cannot find (module|package)|Failed to load url/.test(String(cause));
}

/** Imports an optional peer; a missing one is a configuration error naming the install command. */
export async function importPeer(name: string, why: string): Promise<Record<string, unknown>> {
  try {
    // A non-literal specifier keeps TypeScript and bundlers from requiring the optional peer.
    const specifier = name;
    return (await import(specifier)) as Record<string, unknown>;
  } catch (cause) {
    if (isMissingModule(cause)) {
      throw new MailerConfigurationError(`MailerModule: ${why} needs the ${name} package: run \`npm install ${name}\`.`, { cause });
    }
    throw cause;
  }
}

interface NestI18nService {
  translate(key: string, options?: { lang?: string; args?: Record<string, unknown> }): unknown;
}

interface NestI18nContextClass {
  current(): { lang?: string } | undefined;
}

/**
 * The mailer's locales at run time: which locale a mail is rendered in, and the `{{t}}` lookup
 * for it. Built when the MailerService starts, since nestjs-i18n's service comes from the injector.
 */
export class MailLocales {
  private constructor(
    private readonly options: MailerLocaleOptions,
    private readonly translator: MailTranslateFunction | undefined,
    private readonly requestLocale: (() => string | undefined) | undefined,
  ) {}

  static async create(options: MailerLocaleOptions | undefined, moduleRef: ModuleRef): Promise<MailLocales> {
    const given = options ?? {};
    const translations = given.translations;
    if (translations === 'nestjs-i18n') {
      const peer = await importPeer('nestjs-i18n', "locale.translations: 'nestjs-i18n'");
      const service = findI18nService(peer, moduleRef);
      const context = peer.I18nContext as NestI18nContextClass | undefined;
      const translate: MailTranslateFunction = (key, locale, values) => {
        const text = service.translate(key, { ...(locale ? { lang: locale } : {}), args: values });
        // nestjs-i18n answers a missing key with the key itself
        return typeof text === 'string' && text !== key ? text : undefined;
      };
      const current = context && typeof context.current === 'function' ? () => context.current()?.lang : undefined;
      return new MailLocales(given, translate, current);
    }
    if (translations === 'i18next') {
      const peer = await importPeer('i18next', "locale.translations: 'i18next'");
      const instance = (peer.default ?? peer) as unknown;
      if (!isI18next(instance)) throw new MailerConfigurationError('MailerModule: the i18next package does not export an instance with t() and exists().');
      return new MailLocales(given, fromI18next(instance), undefined);
    }
    if (isI18next(translations)) return new MailLocales(given, fromI18next(translations), undefined);
    return new MailLocales(given, typeof translations === 'function' ? translations : undefined, undefined);
  }

  /**
   * The locale a mail is rendered in: its own `locale`, else what `resolve` returns, else the
   * request's (nestjs-i18n), else the default; undefined when none applies. A tag that is not
   * well-formed is an InvalidMailError.
   */
  async localeOf(mail: Mail): Promise<string | undefined> {
    if (mail.locale !== undefined && mail.locale !== null) return checkedLocale(mail.locale, 'locale');
    if (this.options.resolve) {
      const resolved = await this.options.resolve(mail);
      if (resolved !== undefined && resolved !== null && resolved !== '') return checkedLocale(resolved, 'locale (from locale.resolve)');
    }
    const fromRequest = this.requestLocale?.();
    if (fromRequest) return checkedLocale(fromRequest, "locale (from nestjs-i18n's request context)");
    return this.options.default === undefined ? undefined : normalizeLocale(this.options.default);
  }

  /** The `{{t}}` lookup for one locale, when translations are configured. */
  translateFor(locale: string | undefined): BoundTranslate | undefined {
    const translator = this.translator;
    if (!translator) return undefined;
    return (key, values) => translator(key, locale, values);
  }
}

function findI18nService(peer: Record<string, unknown>, moduleRef: ModuleRef): NestI18nService {
  const token = peer.I18nService as (new (...args: never[]) => NestI18nService) | undefined;
  let service: NestI18nService | undefined;
  try {
    if (token) service = moduleRef.get(token, { strict: false });
  } catch {
    service = undefined;
  }
  if (!service || typeof service.translate !== 'function') {
    throw new MailerConfigurationError(
      "MailerModule: locale.translations is 'nestjs-i18n' but no I18nService was found: import I18nModule.forRoot({ … }) in the application.",
    );
  }
  return service;
}

function fromI18next(instance: I18nextLike): MailTranslateFunction {
  const i18n = instance as unknown as I18nextCalls;
  return (key, locale, values) => {
    const lng = locale ? { lng: locale } : {};
    if (!i18n.exists(key, { ...values, ...lng })) return undefined;
    // Handlebars escapes what {{t}} prints; i18next escaping the values too would do it twice
    const text = i18n.t(key, { ...values, ...lng, interpolation: { escapeValue: false } });
    return typeof text === 'string' ? text : undefined;
  };
}
