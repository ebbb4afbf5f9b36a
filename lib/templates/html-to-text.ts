import { compile, type HtmlToTextOptions } from 'html-to-text';

export type TextConverter = (html: string) => string;

/**
 * The text part is laid out so that it does not depend on how long a value is: no word wrapping,
 * tables as one line per row rather than padded columns, headings left in their case. That is what
 * lets the text layout be derived once per template instead of once per mail.
 */
const OPTIONS: HtmlToTextOptions = {
  wordwrap: false,
  formatters: {
    mailroomCell(element, walk, builder) {
      walk(element.children, builder);
      builder.addLiteral('  ');
    },
    mailroomImage(element, _walk, builder) {
      // a logo or a tracking pixel is noise in a text mail; its alt text, if any, is the content
      const alt = (element.attribs?.['alt'] ?? '').trim();
      if (alt) builder.addInline(alt);
    },
  },
  selectors: [
    { selector: 'a', options: { hideLinkHrefIfSameAsText: false, noAnchorUrl: true } },
    { selector: 'img', format: 'mailroomImage' },
    { selector: 'table', format: 'block' },
    { selector: 'tr', format: 'block', options: { leadingLineBreaks: 1, trailingLineBreaks: 1 } },
    { selector: 'td', format: 'mailroomCell' },
    { selector: 'th', format: 'mailroomCell' },
    { selector: 'h1', options: { uppercase: false } },
    { selector: 'h2', options: { uppercase: false } },
    { selector: 'h3', options: { uppercase: false } },
    { selector: 'h4', options: { uppercase: false } },
    { selector: 'h5', options: { uppercase: false } },
    { selector: 'h6', options: { uppercase: false } },
  ],
};

/** Compiled once: html-to-text's own option processing costs more than a conversion. */
export function createTextConverter(): TextConverter {
  return compile(OPTIONS);
}

/**
 * Trailing spaces off every line, at most one blank line in a row, no blank lines at either end,
 * and no ` []` left by a link whose URL came out empty.
 */
export function tidyText(text: string): string {
  return text
    .replace(/ ?\[\]/g, '')
    .replace(/[ \t]+$/gm, '')
    .replace(/\n{3,}/g, '\n\n')
    .replace(/^\n+|\s+$/g, '');
}
