/** One RFC 2047 encoded word: `=?charset[*language]?B|Q?text?=`. */
const WORD = /=\?([^?*\s]+)(?:\*[^?\s]*)?\?([BbQq])\?([^?\s]*)\?=/g;
/** Encoded words next to each other: the white space between them is not part of the text (RFC 2047 §6.2). */
const RUN = /=\?[^?\s]+\?[BbQq]\?[^?\s]*\?=(?:\s+=\?[^?\s]+\?[BbQq]\?[^?\s]*\?=)*/g;

function bytesOf(encoding: string, text: string): Buffer {
  if (encoding.toUpperCase() === 'B') return Buffer.from(text, 'base64');
  const bytes = text.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (_match, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return Buffer.from(bytes, 'latin1');
}

/**
 * A header field's value as a reader sees it: folding removed and encoded words decoded. Words in
 * the same charset are decoded together, since an encoder may split a character between two of them.
 * A word in a charset this runtime does not know is left as it is.
 */
export function decodeHeaderValue(value: string): string {
  const unfolded = value.replace(/\r?\n(?=[ \t])/g, '');
  return unfolded.replace(RUN, (run) => {
    const groups: Array<{ charset: string; bytes: Buffer[]; source: string[] }> = [];
    for (const [word, charset, encoding, text] of run.matchAll(WORD)) {
      const last = groups.at(-1);
      const bytes = bytesOf(encoding!, text!);
      if (last && last.charset === charset!.toLowerCase()) {
        last.bytes.push(bytes);
        last.source.push(word);
      } else {
        groups.push({ charset: charset!.toLowerCase(), bytes: [bytes], source: [word] });
      }
    }
    return groups.map((group) => {
      try {
        return new TextDecoder(group.charset).decode(Buffer.concat(group.bytes));
      } catch {
        return group.source.join(' ');
      }
    }).join('');
  });
}
