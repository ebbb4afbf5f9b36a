/**
 * Locale tags as the renderer uses them: normalized BCP 47 (`fr_ca` → `fr-CA`), the lookup chain
 * from the most specific tag to the bare language (RFC 4647 lookup), and the writing direction.
 */

/** The tag in canonical form, or undefined when it is not a well-formed BCP 47 tag. */
export function normalizeLocale(tag: unknown): string | undefined {
  if (typeof tag !== 'string') return undefined;
  const trimmed = tag.trim().replace(/_/g, '-');
  // A language is a two- or three-letter ISO 639 code: the longer forms BCP 47 allows are not in
  // use, and refusing them catches `French` or `english`, which Intl would take for a language.
  if (!/^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$/.test(trimmed)) return undefined;
  try {
    return Intl.getCanonicalLocales(trimmed)[0];
  } catch {
    return undefined;
  }
}

/**
 * The tags to look for, most specific first, without extensions: `zh-Hant-TW-u-nu-hanidec` →
 * `zh-Hant-TW`, `zh-Hant`, `zh`. The base template (no tag) comes after the last one.
 */
export function localeChain(locale: string): string[] {
  const base = new Intl.Locale(locale).baseName;
  const parts = base.split('-');
  const chain: string[] = [];
  for (let n = parts.length; n >= 1; n--) {
    // a lone singleton would end a tag with nothing after it (RFC 4647 §3.4)
    if (parts[n - 1]!.length === 1) continue;
    chain.push(parts.slice(0, n).join('-'));
  }
  return chain;
}

/** Scripts written right to left (ISO 15924). */
const RTL_SCRIPTS = new Set(['Adlm', 'Arab', 'Aran', 'Hebr', 'Mand', 'Mend', 'Nkoo', 'Rohg', 'Samr', 'Syrc', 'Thaa', 'Yezi']);

/** `rtl` for Arabic, Hebrew, Persian, Urdu, …, by the script CLDR expects for the tag. */
export function textDirection(locale: string | undefined): 'ltr' | 'rtl' {
  if (!locale) return 'ltr';
  try {
    const script = new Intl.Locale(locale).maximize().script;
    return script !== undefined && RTL_SCRIPTS.has(script) ? 'rtl' : 'ltr';
  } catch {
    return 'ltr';
  }
}

const LANGUAGE_NAMES = new Intl.DisplayNames(['en'], { type: 'language', fallback: 'none' });

/**
 * The locale a file name suffix stands for (`receipt.fr-CA.hbs` → `fr-CA`), or undefined when the
 * suffix is no locale: it must be a well-formed tag whose language is a two- or three-letter code
 * that CLDR knows and that is already in canonical form, so that `invoice.pdf.hbs` or
 * `notes.bak.hbs` stay templates of their own.
 */
export function fileLocale(suffix: string): string | undefined {
  const tag = normalizeLocale(suffix);
  if (!tag || tag.toLowerCase() !== suffix.replace(/_/g, '-').toLowerCase()) return undefined;
  const language = new Intl.Locale(tag).language;
  if (!/^[a-z]{2,3}$/.test(language) || language === 'und') return undefined;
  return LANGUAGE_NAMES.of(language) === undefined ? undefined : tag;
}
