import { describe, expect, it } from 'vitest';
import { createTextConverter, tidyText } from '../../../lib/templates/html-to-text.js';

/** The rules tidyText implements, written the slow, readable way. */
function reference(text: string): string {
  return text
    .replace(/ ?\[\]/g, '')
    .replace(/[ \t]+/g, ' ')
    .replace(/^ | $/gm, '')
    .replace(/ ?(\u0001+) ?/g, (_match, run: string) => run)
    .replace(/\u0001/g, ' ')
    .replace(/ +$/gm, '')
    .replace(/\n{3,}/g, '\n\n')
    .replace(/^\n+|\s+$/g, '');
}

describe('tidyText', () => {
  it('follows the reference rules on hand-picked and random inputs', () => {
    const picked = [
      '\n\n  a  b \n\n\n\n c\u0001\u0001d\u0001\u0001 \n x [] y\n\t\tz\t\n\n',
      'x  [] y',
      'a[]b',
      '*\u0001  (last)',
      '\u0001\u0001 x',
      'row\u0001\u0001 \u0001\u0001end',
    ];
    for (const text of picked) expect(tidyText(text)).toBe(reference(text));
    const alphabet = ['a', 'b', ' ', ' ', '\t', '\n', '\n', '\u0001', '[', ']', '[]', '*', 'x '];
    let seed = 42;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    for (let round = 0; round < 20000; round++) {
      let text = '';
      const length = Math.floor(random() * 14);
      for (let i = 0; i < length; i++) text += alphabet[Math.floor(random() * alphabet.length)];
      expect(tidyText(text), JSON.stringify(text)).toBe(reference(text));
    }
  });
});

describe('the text converter', () => {
  const convert = (html: string): string => tidyText(createTextConverter()(html));

  it('keeps link targets, shows images by alt text only and puts a table row on one line', () => {
    const text = convert(
      '<h1>Order shipped</h1><p>Track it <a href="https://t.test/1?a=1&amp;b=2">here</a>.</p>' +
        '<img src="https://cdn.test/logo.png" alt="Acme"><img src="https://t.test/pixel.gif" width="1">' +
        '<table><tr><th>Item</th><th>Qty</th></tr><tr><td>Mug</td><td>2</td></tr></table><ul><li>one</li><li>two</li></ul>',
    );
    expect(text).toBe('Order shipped\n\nTrack it here [https://t.test/1?a=1&b=2].\n\nAcme\nItem  Qty\nMug  2\n\n* one\n* two');
  });
});
