import { FakeHttpServer, type FakeAnswer, type RecordedRequest } from './fake-server.js';
import { fakeId, isBase64, isEmail, parseAddressList } from './fake-checks.js';

export const POSTMARK_TOKEN = 'pm-server-token-5f0c2e9a-7d41-4a8e-b3c6-000000000001';

/** Postmark's answer bodies, from the provider contract. */
export const postmarkBodies = {
  unauthorized: { ErrorCode: 10, Message: 'Request does not contain a valid Server token.' },
  rateLimited: { ErrorCode: 429, Message: 'Rate limit exceeded.' },
  maintenance: { ErrorCode: 100, Message: 'Postmark is down for maintenance.' },
};

interface PostmarkMessageIn {
  From?: unknown;
  To?: unknown;
  Cc?: unknown;
  Bcc?: unknown;
  Subject?: unknown;
  TextBody?: unknown;
  HtmlBody?: unknown;
  Attachments?: unknown;
  Headers?: unknown;
}

/**
 * Postmark as its contract describes it: server token header, PascalCase JSON, 422 with ErrorCode
 * for bad input, 406 when every recipient is inactive, a partial "Message OK" when some are.
 */
export class PostmarkFake extends FakeHttpServer {
  /** Addresses Postmark treats as inactive (hard bounce, complaint, manual suppression). */
  readonly inactive = new Set<string>();

  constructor(readonly token = POSTMARK_TOKEN) {
    super((request) => this.answer(request));
  }

  private answer(request: RecordedRequest): FakeAnswer {
    if (request.headers['x-postmark-server-token'] !== this.token) return { status: 401, body: postmarkBodies.unauthorized };
    if (!String(request.headers['accept'] ?? '').includes('application/json')) return { status: 422, body: { ErrorCode: 409, Message: 'JSON Required' } };
    if (request.method === 'GET' && request.path === '/server') return { status: 200, body: { ID: 1, Name: 'Fake server', DeliveryType: 'Live' } };
    if (request.method !== 'POST') return { status: 404, body: { ErrorCode: 404, Message: 'Not found' } };
    if (!String(request.headers['content-type']).startsWith('application/json') || request.json === undefined) {
      return { status: 422, body: { ErrorCode: 402, Message: 'Received invalid JSON input.' } };
    }
    if (request.path === '/email') {
      const result = this.check(request.json as PostmarkMessageIn);
      return { status: result.ErrorCode === 0 ? 200 : 422, body: result };
    }
    if (request.path === '/email/batch') {
      if (!Array.isArray(request.json)) return { status: 422, body: { ErrorCode: 403, Message: 'Incompatible JSON input.' } };
      if (request.json.length > 500) return { status: 422, body: { ErrorCode: 410, Message: 'Too many batch messages.' } };
      return { status: 200, body: request.json.map((m: PostmarkMessageIn) => this.check(m)) };
    }
    return { status: 404, body: { ErrorCode: 404, Message: 'Not found' } };
  }

  private check(message: PostmarkMessageIn): Record<string, unknown> {
    const from = parseAddressList(message.From);
    if (from.length !== 1 || !isEmail(from[0]?.address)) return { ErrorCode: 300, Message: `Invalid 'From' address: '${String(message.From)}'.` };
    const recipients: string[] = [];
    for (const field of ['To', 'Cc', 'Bcc'] as const) {
      const value = message[field];
      if (value === undefined) continue;
      for (const a of parseAddressList(value)) {
        if (!isEmail(a.address)) return { ErrorCode: 300, Message: `Error parsing '${field}': Illegal email address '${a.address}'. It must contain the '@' symbol.` };
        recipients.push(a.address.toLowerCase());
      }
    }
    if (recipients.length === 0) return { ErrorCode: 300, Message: "Zero recipients specified" };
    if (typeof message.Subject !== 'string') return { ErrorCode: 300, Message: 'Provide a Subject.' };
    if (typeof message.TextBody !== 'string' && typeof message.HtmlBody !== 'string') return { ErrorCode: 300, Message: 'Provide either email TextBody or HtmlBody or both.' };
    if (message.Attachments !== undefined) {
      if (!Array.isArray(message.Attachments)) return { ErrorCode: 403, Message: 'Incompatible JSON input.' };
      for (const a of message.Attachments as Array<Record<string, unknown>>) {
        if (typeof a.Name !== 'string' || !isBase64(a.Content) || typeof a.ContentType !== 'string') return { ErrorCode: 300, Message: 'Invalid attachment content.' };
        if (a.ContentID !== undefined && !(typeof a.ContentID === 'string' && a.ContentID.startsWith('cid:'))) return { ErrorCode: 300, Message: 'Invalid ContentID.' };
      }
    }
    if (message.Headers !== undefined && !(Array.isArray(message.Headers) && message.Headers.every((h: Record<string, unknown>) => typeof h.Name === 'string' && typeof h.Value === 'string'))) {
      return { ErrorCode: 403, Message: 'Incompatible JSON input.' };
    }
    const inactive = recipients.filter((r) => this.inactive.has(r));
    const to = typeof message.To === 'string' ? message.To : '';
    if (inactive.length && inactive.length === recipients.length) {
      return {
        ErrorCode: 406,
        Message: `You tried to send to recipient(s) that have been marked as inactive. Found inactive addresses: ${inactive.join(', ')}. Inactive recipients are ones that have generated a hard bounce, a spam complaint, or a manual suppression.`,
      };
    }
    return {
      To: to,
      SubmittedAt: new Date().toISOString(),
      MessageID: fakeId('pm-'),
      ErrorCode: 0,
      Message: inactive.length
        ? `Message OK, but will not deliver to these inactive addresses: ${inactive.join(', ')}. Inactive recipients are ones that have generated a hard bounce or a spam complaint.`
        : 'OK',
    };
  }
}
