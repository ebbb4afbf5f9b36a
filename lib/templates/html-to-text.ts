import { compile, type HtmlToTextOptions } from 'html-to-text';

export type TextConverter = (html: string) => string;

/**
 * The text part is laid out so that it does not depend on how long a value is: no word wrapping,
 * tables as one line per row rather than padded columns, headings left in their case. That is what
 * lets the text layout be derived once per template instead of once per mail.
 */
/**
 * Spaces the layout needs (between table cells, after a list bullet) are written as this
 * character and turned into spaces only after `tidyText` has collapsed the other spaces, which
 * keeps them from being collapsed with spaces around an empty value.
 */
const LAYOUT_SPACE = '\u0001';

const OPTIONS: HtmlToTextOptions = {
  wordwrap: false,
  formatters: {
    mailroomCell(element, walk, builder) {
      walk(element.children, builder);
      builder.addLiteral(LAYOUT_SPACE + LAYOUT_SPACE);
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
    { selector: 'ul', options: { itemPrefix: `*${LAYOUT_SPACE}` } },
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
 * The same whitespace rules for text converted per render and text rendered from a derived
 * template, where a value that comes out empty or with extra spaces would otherwise leave spaces
 * html-to-text would have collapsed. Per line: a run of spaces and tabs is one space, none at the
 * start or end, none next to a layout space, `[]` (a link whose URL came out empty) and one space
 * before it removed; at most one blank line in a row and none at either end.
 *
 * Written as one pass over the text because it runs on every render; the regular-expression
 * version of the same rules is in the tests.
 */
export function tidyText(text: string): string {
  let out = '';
  let blank = 0;
  const n = text.length;
  for (let i = 0; i <= n; ) {
    let end = text.indexOf('\n', i);
    if (end === -1) end = n;
    let line = '';
    let copyFrom = i;
    let spaces = 0;
    let afterLayoutSpace = false;
    for (let j = i; j < end; j++) {
      const c = text.charCodeAt(j);
      if (c === 32 || c === 9) {
        if (copyFrom < j) line += text.slice(copyFrom, j);
        copyFrom = j + 1;
        if (!afterLayoutSpace) spaces++;
      } else if (c === 1) {
        if (copyFrom < j) line += text.slice(copyFrom, j);
        copyFrom = j + 1;
        spaces = 0;
        afterLayoutSpace = true;
        line += ' ';
      } else if (c === 91 && text.charCodeAt(j + 1) === 93) {
        if (copyFrom < j) line += text.slice(copyFrom, j);
        copyFrom = j + 2;
        if (spaces > 0 && text.charCodeAt(j - 1) === 32) spaces--;
        j++;
      } else {
        if (spaces > 0 && line !== '') line += ' ';
        spaces = 0;
        afterLayoutSpace = false;
      }
    }
    if (copyFrom < end) line += text.slice(copyFrom, end);
    let keep = line.length;
    while (keep > 0 && line.charCodeAt(keep - 1) === 32) keep--;
    if (keep < line.length) line = line.slice(0, keep);
    if (line === '') {
      blank++;
    } else {
      if (out !== '') out += blank > 0 ? '\n\n' : '\n';
      out += line;
      blank = 0;
    }
    i = end + 1;
  }
  return out;
}
