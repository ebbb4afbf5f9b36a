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
