import { FakeHttpServer, type FakeAnswer, type RecordedRequest } from './fake-server.js';
import { fakeId, isBase64, isEmail } from './fake-checks.js';

export const SENDGRID_KEY = 'SG.fakeKeyId0123456789.fakeSecretPart-abcdefghijklmnopqrstuvwxyz0123456789';

export const sendgridBodies = {
  unauthorized: { errors: [{ message: 'authorization required', field: null }] },
  forbidden: { errors: [{ message: 'access forbidden', field: null }] },
  rateLimited: { errors: [{ field: null, message: 'too many requests' }] },
  serverError: { errors: [{ message: 'internal server error' }] },
  invalidAddress: (field: string) => ({
    errors: [{
      message: 'Does not contain a valid address.',
      field,
      help: 'http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html#message.personalizations.to',
    }],
  }),
};

type Address = { email?: unknown; name?: unknown };

/**
 * SendGrid v3 Mail Send as its contract describes it: Bearer key, JSON with personalizations,
 * 202 with X-Message-Id, 400 `{errors:[{message, field, help}]}` naming the bad field.
 */
export class SendGridFake extends FakeHttpServer {
  /** What GET /v3/scopes lists for the key. */
  scopes = ['mail.send', 'user.profile.read'];

  constructor(readonly apiKey = SENDGRID_KEY) {
    super((request) => this.answer(request));
  }

  private answer(request: RecordedRequest): FakeAnswer {
    if (request.headers['authorization'] !== `Bearer ${this.apiKey}`) return { status: 401, body: sendgridBodies.unauthorized };
    if (request.method === 'GET' && request.path === '/v3/scopes') return { status: 200, body: { scopes: this.scopes } };
    if (request.method !== 'POST' || request.path !== '/v3/mail/send') return { status: 404, body: { errors: [{ message: 'not found', field: null }] } };
    if (!String(request.headers['content-type']).startsWith('application/json')) return { status: 415, body: { errors: [{ message: 'unsupported media type', field: null }] } };
    const problem = this.check(request.json as Record<string, unknown> | undefined);
    if (problem) return { status: 400, body: problem };
    return { status: 202, headers: { 'X-Message-Id': fakeId('sg') } };
  }

  private check(body: Record<string, unknown> | undefined): unknown {
    const bad = (message: string, field: string | null) => ({ errors: [{ message, field, help: null }] });
    if (!body) return bad('Bad Request', null);
    const from = body.from as Address | undefined;
    if (!from || !isEmail(from.email)) return sendgridBodies.invalidAddress('from.email');
    const personalizations = body.personalizations;
    if (!Array.isArray(personalizations) || personalizations.length === 0) return bad('The personalizations field is required and must have at least one personalization.', 'personalizations');
    if (personalizations.length > 1000) return bad('The personalizations field must have at most 1000 items.', 'personalizations');
    const seen = new Set<string>();
    for (const [p, personalization] of personalizations.entries() as IterableIterator<[number, Record<string, unknown>]>) {
      if (!Array.isArray(personalization.to) || personalization.to.length === 0) return bad('The to array is required for all personalization objects, and must have at least one email object with a valid email address.', `personalizations.${p}.to`);
      for (const kind of ['to', 'cc', 'bcc'] as const) {
        const list = personalization[kind];
        if (list === undefined) continue;
        if (!Array.isArray(list)) return bad('Invalid type.', `personalizations.${p}.${kind}`);
        for (const [i, address] of (list as Address[]).entries()) {
          if (!isEmail(address.email)) return sendgridBodies.invalidAddress(`personalizations.${p}.${kind}.${i}.email`);
          const key = address.email.toLowerCase();
          if (seen.has(key)) return bad('Each email address in the personalization block should be unique between to, cc, and bcc.', `personalizations.${p}.${kind}.${i}.email`);
          seen.add(key);
        }
      }
    }
    if (typeof body.subject !== 'string' || body.subject === '') return bad('The subject is required.', 'subject');
    const content = body.content;
    if (!Array.isArray(content) || content.length === 0) return bad('Unless a valid template_id is provided, the content parameter is required.', 'content');
    const types = (content as Array<{ type?: string; value?: unknown }>).map((c) => c.type);
    if (types.includes('text/html') && types.includes('text/plain') && types.indexOf('text/plain') > types.indexOf('text/html')) {
      return bad('If present, text/plain content must be first, followed by any other content.', 'content');
    }
    if (body.attachments !== undefined) {
      for (const [i, a] of (body.attachments as Array<Record<string, unknown>>).entries()) {
        if (!isBase64(a.content)) return bad('The attachment content must be base64 encoded.', `attachments.${i}.content`);
        if (typeof a.filename !== 'string' || a.filename === '') return bad('The attachment filename parameter is required.', `attachments.${i}.filename`);
        if (a.disposition !== undefined && a.disposition !== 'inline' && a.disposition !== 'attachment') return bad('Invalid disposition.', `attachments.${i}.disposition`);
      }
    }
    if (body.categories !== undefined && (!Array.isArray(body.categories) || body.categories.length > 10)) return bad('Too many categories.', 'categories');
    return undefined;
  }
}
