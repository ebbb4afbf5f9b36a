import { randomUUID } from 'node:crypto';
import { FakeHttpServer, type FakeAnswer, type RecordedRequest } from './fake-server.js';
import { isBase64, isEmail, parseAddressList } from './fake-checks.js';

export const RESEND_KEY = 're_fakeKey_9b8c7d6e5f4a3b2c1d0e';
export const RESEND_RESTRICTED_KEY = 're_sendingOnly_1a2b3c4d5e6f7a8b';

const err = (statusCode: number, name: string, message: string): FakeAnswer => ({ status: statusCode, body: { statusCode, name, message } });

export const resendAnswers = {
  missingKey: err(401, 'missing_api_key', 'Missing API key in the authorization header.'),
  invalidKey: err(403, 'invalid_api_key', 'API key is invalid.'),
  restricted: err(401, 'restricted_api_key', 'This API key is restricted to only send emails.'),
  rateLimited: {
    status: 429,
    headers: { 'ratelimit-limit': '2', 'ratelimit-remaining': '0', 'ratelimit-reset': '1', 'retry-after': '1' },
    body: { statusCode: 429, name: 'rate_limit_exceeded', message: 'Too many requests.' },
  } satisfies FakeAnswer,
  serverError: err(500, 'application_error', 'An unexpected error occurred.'),
};

const TAG = /^[A-Za-z0-9_-]{1,256}$/;

/**
 * Resend as its contract describes it: Bearer key plus a User-Agent, snake_case JSON, idempotency
 * keys (same key and body → same id; same key, other body → 409), batches of at most 100 without
 * attachments, `x-batch-validation: permissive` reporting per-item errors.
 */
export class ResendFake extends FakeHttpServer {
  private readonly idempotency = new Map<string, { body: string; answer: FakeAnswer }>();
  /** Mails actually accepted (idempotent replays are not counted). */
  readonly delivered: Array<Record<string, unknown>> = [];

  constructor(readonly apiKey = RESEND_KEY, readonly restrictedKey = RESEND_RESTRICTED_KEY) {
    super((request) => this.answer(request));
  }

  private answer(request: RecordedRequest): FakeAnswer {
    const auth = request.headers['authorization'];
    if (!auth) return resendAnswers.missingKey;
    if (auth !== `Bearer ${this.apiKey}` && auth !== `Bearer ${this.restrictedKey}`) return resendAnswers.invalidKey;
    if (!request.headers['user-agent']) return err(403, 'validation_error', 'Error 1010: requests need a User-Agent.');
    if (request.method === 'GET' && request.path === '/domains') {
      if (auth === `Bearer ${this.restrictedKey}`) return resendAnswers.restricted;
      return { status: 200, body: { data: [{ id: randomUUID(), name: 'acme.test', status: 'verified' }] } };
    }
    if (request.method !== 'POST') return err(405, 'method_not_allowed', 'Method not allowed.');
    if (request.json === undefined) return err(422, 'missing_required_field', 'Missing body.');
    const key = request.headers['idempotency-key'];
    if (typeof key === 'string') {
      if (key.length < 1 || key.length > 256) return err(400, 'invalid_idempotency_key', 'The key must be between 1-256 chars.');
      const seen = this.idempotency.get(`${request.path} ${key}`);
      const body = request.body.toString('utf8');
      if (seen) return seen.body === body ? seen.answer : err(409, 'invalid_idempotent_request', 'Same idempotency key used with a different request payload.');
      const answer = this.route(request);
      if (answer.status === 200) this.idempotency.set(`${request.path} ${key}`, { body, answer });
      return answer;
    }
    return this.route(request);
  }

  private route(request: RecordedRequest): FakeAnswer {
    if (request.path === '/emails') {
      const problem = this.check(request.json as Record<string, unknown>, false);
      if (problem) return problem;
      this.delivered.push(request.json as Record<string, unknown>);
      return { status: 200, body: { id: randomUUID() } };
    }
    if (request.path === '/emails/batch') {
      const list = request.json;
      if (!Array.isArray(list)) return err(422, 'validation_error', 'The batch must be an array.');
      if (list.length > 100) return err(422, 'validation_error', 'Too many emails in batch (max 100).');
      const permissive = request.headers['x-batch-validation'] === 'permissive';
      const data: Array<{ id: string }> = [];
      const errors: Array<{ index: number; message: string }> = [];
      list.forEach((email: Record<string, unknown>, index) => {
        const problem = this.check(email, true);
        if (problem) errors.push({ index, message: (problem.body as { message: string }).message });
      });
      if (errors.length && !permissive) return err(422, 'validation_error', (errors[0] as { message: string }).message);
      list.forEach((email: Record<string, unknown>, index) => {
        if (errors.some((e) => e.index === index)) return;
        this.delivered.push(email);
        data.push({ id: randomUUID() });
      });
      return { status: 200, body: permissive ? { data, errors } : { data } };
    }
    return err(404, 'not_found', 'Not found.');
  }

  private check(email: Record<string, unknown>, inBatch: boolean): FakeAnswer | undefined {
    const from = parseAddressList(email.from);
    if (from.length !== 1 || !isEmail(from[0]?.address)) return err(422, 'invalid_from_address', 'Invalid `from` field.');
    const to = Array.isArray(email.to) ? email.to : email.to === undefined ? [] : [email.to];
    if (to.length === 0) return err(422, 'missing_required_field', 'Missing `to` field.');
    if (to.length > 50) return err(422, 'validation_error', 'Too many recipients in `to` (max 50).');
    for (const field of ['to', 'cc', 'bcc', 'reply_to'] as const) {
      const value = email[field];
      const list = Array.isArray(value) ? value : value === undefined ? [] : [value];
      for (const entry of list) {
        for (const a of parseAddressList(entry)) if (!isEmail(a.address)) return err(422, 'validation_error', `Invalid \`${field}\` field. The email address needs to follow the \`email@example.com\` or \`Name <email@example.com>\` format.`);
      }
    }
    if (typeof email.subject !== 'string') return err(422, 'missing_required_field', 'Missing `subject` field.');
    if (email.attachments !== undefined) {
      if (inBatch) return err(422, 'validation_error', 'Attachments are not supported in batch emails.');
      for (const a of email.attachments as Array<Record<string, unknown>>) {
        if (!isBase64(a.content) || typeof a.filename !== 'string') return err(422, 'invalid_attachment', 'Attachment must have content (base64) and filename.');
      }
    }
    if (email.tags !== undefined) {
      for (const t of email.tags as Array<Record<string, unknown>>) {
        if (typeof t.name !== 'string' || !TAG.test(t.name) || typeof t.value !== 'string' || !TAG.test(t.value)) return err(422, 'validation_error', 'Tags should only contain ASCII letters, numbers, underscores, or dashes.');
      }
    }
    return undefined;
  }
}
