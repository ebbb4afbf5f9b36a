import { MailParser } from 'mailparser';
import type { AddressObject, HeaderLines, MailParserOptions, StructuredHeader } from 'mailparser';
import type { ParsedMail } from './bounce.types.js';
import { withLineFeeds } from './line-ends.js';

export { withLineFeeds };

const OPTIONS: MailParserOptions = {
  // An HTML-only report is read through htmlToPlain below: html-to-text's full layout pass is far
  // slower and the readers need only the words and the addresses.
  skipHtmlToText: true,
  skipTextToHtml: true,
  skipImageLinks: true,
  skipTextLinks: true,
  keepDeliveryStatus: true,
  // The returned message is only read for its headers; parsing it as a nested mail costs time.
  ignoreEmbedded: true,
  checksumAlgo: false,
};

/** The top-level header fields the readers look at; the others are not unfolded. */
const KEPT_HEADERS = new Set([
  'to', 'x-failed-recipients', 'auto-submitted', 'x-autoreply', 'x-autorespond', 'x-autoresponder',
  'x-apple-action', 'precedence', 'x-mailer', 'x-ses-outgoing', 'message-id', 'x-original-message-id',
  'x-mlserver', 'x-ml-server', 'x-ml-name', 'list-software', 'in-reply-to', 'x-delivery-agent', 'x-autoreply-from',
  'x-mail-autoreply', 'x-mailman-version', 'list-id',
]);

const REPORT_PARTS = new Set([
  'message/delivery-status',
  'message/global-delivery-status',
  'message/feedback-report',
  'message/rfc822',
  'message/global',
  'text/rfc822-headers',
  'message/global-headers',
  'message/partial',
]);

function unfoldLine(line: string): string {
  const colon = line.indexOf(':');
  return line.slice(colon + 1).replace(/\r?\n[ \t]+/g, ' ').trim();
}

function addressText(v: unknown): { address: string; raw: string } {
  const obj = (Array.isArray(v) ? v[0] : v) as AddressObject | undefined;
  if (!obj || typeof obj !== 'object' || !('value' in obj)) return { address: '', raw: '' };
  const first = obj.value[0];
  return { address: (first?.address ?? '').toLowerCase(), raw: obj.text ?? '' };
}


/** MIME-parses a raw e-mail with mailparser and keeps the parts a bounce reader needs. */
export function parseMime(message: Buffer | string): Promise<ParsedMail> {
  const raw = withLineFeeds(typeof message === 'string' ? Buffer.from(message, 'utf8') : message);
  return new Promise<ParsedMail>((resolve, reject) => {
    const parser = new MailParser(OPTIONS);
    const headers = new Map<string, string>();
    let subject = '';
    let from = { address: '', raw: '' };
    let contentType = '';
    let reportType = '';
    let text = '';
    let html = '';
    let deliveryStatus: string | undefined;
    let feedbackReport: string | undefined;
    let original: string | undefined;
    const extraText: string[] = [];
    let pending = 0;
    let ended = false;

    const finish = (): void => {
      if (!ended || pending > 0) return;
      if (text.length === 0 && html.length > 0) text = htmlToPlain(html);
      if (extraText.length > 0) text = text.length > 0 ? `${text}\n\n${extraText.join('\n\n')}` : extraText.join('\n\n');
      if (text.length === 0 && deliveryStatus === undefined && feedbackReport === undefined) {
        // A multipart whose boundaries never occur: mailparser finds no part, so read the body as text.
        text = bodyOf(raw);
      }
      resolve({
        headers, subject, from: from.address, fromRaw: from.raw, contentType, reportType,
        text: text.indexOf('\r') >= 0 ? text.replace(/\r\n?/g, '\n') : text,
        deliveryStatus, feedbackReport, original,
      });
    };

    parser.on('headerLines', (lines: HeaderLines) => {
      for (const { key, line } of lines) {
        if (!KEPT_HEADERS.has(key)) continue;
        const prev = headers.get(key);
        const value = unfoldLine(line);
        headers.set(key, prev === undefined ? value : `${prev}\n${value}`);
      }
    });
    parser.on('headers', (h: Map<string, unknown>) => {
      const s = h.get('subject');
      if (typeof s === 'string') subject = s;
      from = addressText(h.get('from'));
      const ct = h.get('content-type') as StructuredHeader | undefined;
      if (ct && typeof ct === 'object') {
        contentType = String(ct.value ?? '').toLowerCase();
        reportType = String(ct.params?.['report-type'] ?? '').toLowerCase();
      }
    });
    parser.on('data', (data: { type: string; text?: string; html?: string | false; contentType?: string; content?: NodeJS.ReadableStream; release?: () => void }) => {
      if (data.type === 'text') {
        if (typeof data.text === 'string') text = data.text;
        if (typeof data.html === 'string') html = data.html;
        return;
      }
      const ct = (data.contentType ?? '').toLowerCase();
      const stream = data.content;
      if (!stream) return;
      if (!REPORT_PARTS.has(ct) && !ct.startsWith('text/')) {
        stream.resume();
        stream.on('end', () => data.release?.());
        return;
      }
      pending++;
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        if (ct === 'message/delivery-status' || ct === 'message/global-delivery-status') {
          deliveryStatus = deliveryStatus === undefined ? body : `${deliveryStatus}\n\n${body}`;
        } else if (ct === 'message/feedback-report') {
          feedbackReport = body;
        } else if (REPORT_PARTS.has(ct)) {
          original ??= body;
        } else if (ct.startsWith('text/plain') && body.length < 16384) {
          // A text part mailparser kept as an attachment (a named or attached text/plain): some MTAs
          // put the whole explanation there.
          extraText.push(body);
        }
        data.release?.();
        pending--;
        finish();
      });
    });
    parser.on('error', reject);
    parser.on('end', () => {
      ended = true;
      finish();
    });
    parser.end(raw);
  });
}

function bodyOf(raw: Buffer): string {
  const s = raw.toString('utf8');
  const m = /\r?\n\r?\n/.exec(s);
  return m ? s.slice(m.index + m[0].length) : '';
}

const TAGS = /<(?:br|\/p|\/div|\/tr|\/li|\/h\d)[^>]*>/gi;
const ANY_TAG = /<[^>]+>/g;
const STYLE = /<(style|script|head)[^>]*>[\s\S]*?<\/\1>/gi;

/** A plain reading of an HTML-only report: enough for the phrases and addresses the readers look for. */
function htmlToPlain(html: string): string {
  return html
    .replace(STYLE, ' ')
    .replace(TAGS, '\n')
    .replace(ANY_TAG, ' ')
    .replace(/&nbsp;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/[ \t]+\n/g, '\n');
}
