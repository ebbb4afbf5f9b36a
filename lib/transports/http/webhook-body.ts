import { WebhookPayloadError } from '../../errors/mailer.error.js';

/** A webhook body as received (raw bytes or text) or already parsed; text is read as JSON. */
export function readWebhookJson(body: unknown, provider: string): unknown {
  if (typeof body !== 'string' && !Buffer.isBuffer(body)) return body;
  try {
    return JSON.parse(body.toString());
  } catch (cause) {
    throw new WebhookPayloadError(`The ${provider} webhook body is not JSON.`, { cause });
  }
}

/** A field of a parsed webhook payload as text: strings as they are, finite numbers written out. */
export function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

/** A field of a parsed webhook payload as an object; anything else (arrays, null) reads as empty. */
export function obj(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

/** The first value of a request header (Node gives repeated headers as an array). */
export function requestHeader(headers: Readonly<Record<string, string | string[] | undefined>>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * The bytes of `text` when it is base64 in its one canonical spelling (standard alphabet, padded,
 * no whitespace, no stray characters, zero padding bits), else undefined. Node's decoder skips
 * what it cannot read, so a signature with characters appended would otherwise decode to the
 * same bytes and verify under a different spelling.
 */
export function canonicalBase64(text: string): Buffer | undefined {
  const bytes = Buffer.from(text, 'base64');
  return bytes.length > 0 && bytes.toString('base64') === text ? bytes : undefined;
}
