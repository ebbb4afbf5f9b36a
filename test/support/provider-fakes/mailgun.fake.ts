import { FakeHttpServer, parseMultipart, type FakeAnswer, type RecordedRequest } from './fake-server.js';
import { isEmail, parseAddressList } from './fake-checks.js';

export const MAILGUN_KEY = 'key-fake0mailgun1private2api3key4';
export const MAILGUN_DOMAIN = 'mg.acme.test';

export const mailgunAnswers = {
  unauthorized: { status: 401, body: 'Forbidden' } satisfies FakeAnswer,
  invalidTo: { status: 400, body: { message: 'to parameter is not a valid address. please check documentation' } } satisfies FakeAnswer,
  rateLimited: { status: 429, body: { message: 'Too many requests' } } satisfies FakeAnswer,
  serverError: { status: 500, body: { message: 'Internal error' } } satisfies FakeAnswer,
};

/** One received message: text fields (repeated names kept in order) and file parts with their bytes. */
export interface MailgunReceived {
  fields: Map<string, string[]>;
  files: Array<{ field: string; filename: string; content: Buffer; type: string }>;
}

/**
 * Mailgun's Messages API as its contract describes it: Basic `api:<key>`, multipart/form-data,
 * 200 `{id:"<…>", message:"Queued. Thank you."}`, 400 `{message}`, 401 plain-text `Forbidden`,
 * 404 for an unknown domain.
 */
export class MailgunFake extends FakeHttpServer {
  readonly received: MailgunReceived[] = [];

  constructor(readonly apiKey = MAILGUN_KEY, readonly domain = MAILGUN_DOMAIN) {
    super((request) => this.answer(request));
  }

  private async answer(request: RecordedRequest): Promise<FakeAnswer> {
    if (request.headers['authorization'] !== `Basic ${Buffer.from(`api:${this.apiKey}`).toString('base64')}`) return mailgunAnswers.unauthorized;
    const domainPath = `/v3/domains/${this.domain}`;
    if (request.method === 'GET' && request.path.startsWith('/v3/domains/')) {
      if (request.path !== domainPath) return { status: 404, body: { message: 'Domain not found' } };
      return { status: 200, body: { domain: { name: this.domain, state: 'active' }, receiving_dns_records: [], sending_dns_records: [] } };
    }
    const match = /^\/v3\/([^/]+)\/messages$/.exec(request.path);
    if (request.method !== 'POST' || !match) return { status: 404, body: { message: 'Not Found' } };
    if (decodeURIComponent(match[1] as string) !== this.domain) return { status: 404, body: { message: `Domain not found: ${decodeURIComponent(match[1] as string)}` } };
    if (!String(request.headers['content-type']).startsWith('multipart/form-data')) return { status: 400, body: { message: 'Content-Type must be multipart/form-data' } };
    const form = await parseMultipart(request);
    const received: MailgunReceived = { fields: new Map(), files: [] };
    for (const [name, value] of form.entries()) {
      if (typeof value === 'string') {
        received.fields.set(name, [...(received.fields.get(name) ?? []), value]);
      } else {
        received.files.push({ field: name, filename: value.name, content: Buffer.from(await value.arrayBuffer()), type: value.type });
      }
    }
    const from = parseAddressList(received.fields.get('from')?.[0]);
    if (from.length !== 1 || !isEmail(from[0]?.address)) return { status: 400, body: { message: "from parameter is missing" } };
    const to = received.fields.get('to') ?? [];
    if (to.length === 0) return { status: 400, body: { message: 'to parameter is missing' } };
    for (const field of ['to', 'cc', 'bcc'] as const) {
      for (const value of received.fields.get(field) ?? []) {
        if (parseAddressList(value).some((a) => !isEmail(a.address))) return mailgunAnswers.invalidTo;
      }
    }
    if (!received.fields.has('subject')) return { status: 400, body: { message: 'subject parameter is missing' } };
    if (!received.fields.has('text') && !received.fields.has('html')) return { status: 400, body: { message: 'Need at least one of \'text\' or \'html\' parameters specified' } };
    for (const file of received.files) if (file.field !== 'attachment' && file.field !== 'inline') return { status: 400, body: { message: `unexpected file field ${file.field}` } };
    this.received.push(received);
    return { status: 200, body: { id: `<${Date.now()}.${this.received.length}.FAKE@${this.domain}>`, message: 'Queued. Thank you.' } };
  }
}
