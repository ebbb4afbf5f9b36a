/**
 * A message whose lines end in a bare CR (classic Mac OS mail tools, some archives) with its line ends
 * turned into LF; any other message as it is. mailparser splits lines at LF only, so it would read such
 * a message as one long header line. Told by the first line end: a CR not followed by LF.
 */
export function withLineFeeds(raw: Buffer): Buffer {
  const cr = raw.indexOf(13);
  if (cr < 0 || raw[cr + 1] === 10) return raw;
  const lf = raw.indexOf(10);
  if (lf >= 0 && lf < cr) return raw;
  // latin1 maps every byte to one character and back, so the bytes other than CR are kept as they are.
  return Buffer.from(raw.toString('latin1').replace(/\r(?!\n)/g, '\n'), 'latin1');
}
