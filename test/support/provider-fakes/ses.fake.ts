import { createHash, createHmac } from 'node:crypto';
import { simpleParser, type ParsedMail } from 'mailparser';
import { FakeHttpServer, type FakeAnswer, type RecordedRequest } from './fake-server.js';

export const SES_ACCESS_KEY_ID = 'AKIAFAKEACCESSKEY001';
export const SES_SECRET_ACCESS_KEY = 'fake/Secret+AccessKey0123456789abcdefghij';
export const SES_REGION = 'eu-west-1';

const AUTH = /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([a-z0-9-]+)\/ses\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;

/** An SES error answer (restJson: error type in `x-amzn-ErrorType`, `{message}` body). */
export const sesError = (status: number, type: string, message: string): FakeAnswer => ({
  status,
  headers: { 'x-amzn-ErrorType': `${type}:http://internal.amazon.com/coral/com.amazonaws.sesv2/`, 'x-amzn-RequestId': 'fake-request-id' },
  body: { message },
});

/** A received SendEmail call: the JSON input and the raw MIME, parsed by mailparser. */
export interface SesReceived {
  input: Record<string, unknown>;
  raw: Buffer;
  parsed: ParsedMail;
}

/**
 * SES v2 as the SDK speaks to it: SigV4-signed restJson. The signature is verified with the fake
 * credentials; `Content.Raw.Data` is decoded and parsed so tests can check what survived.
 */
export class SesFake extends FakeHttpServer {
  readonly received: SesReceived[] = [];
  sendingEnabled = true;

  constructor(readonly accessKeyId = SES_ACCESS_KEY_ID, readonly secretAccessKey = SES_SECRET_ACCESS_KEY, readonly region = SES_REGION) {
    super((request) => this.answer(request));
  }

  private async answer(request: RecordedRequest): Promise<FakeAnswer> {
    const signatureProblem = this.checkSignature(request);
    if (signatureProblem) return sesError(403, signatureProblem.type, signatureProblem.message);
    if (request.method === 'GET' && request.path === '/v2/email/account') {
      return { status: 200, body: { SendingEnabled: this.sendingEnabled, ProductionAccessEnabled: true, EnforcementStatus: 'HEALTHY', SendQuota: { Max24HourSend: 50000, MaxSendRate: 14, SentLast24Hours: 0 } } };
    }
    if (request.method === 'POST' && request.path === '/v2/email/outbound-emails') {
      const input = request.json as Record<string, unknown> | undefined;
      if (!input) return sesError(400, 'BadRequestException', 'Missing body');
      const content = input.Content as { Raw?: { Data?: string } } | undefined;
      if (!content?.Raw?.Data) return sesError(400, 'BadRequestException', 'Content.Raw.Data is required');
      const raw = Buffer.from(content.Raw.Data, 'base64');
      if (raw.toString('base64') !== content.Raw.Data) return sesError(400, 'BadRequestException', 'Raw data is not base64');
      const destination = input.Destination as Record<string, string[] | undefined> | undefined;
      const count = (destination?.ToAddresses?.length ?? 0) + (destination?.CcAddresses?.length ?? 0) + (destination?.BccAddresses?.length ?? 0);
      if (count === 0) return sesError(400, 'BadRequestException', 'Missing final destination');
      if (count > 50) return sesError(400, 'MessageRejected', 'Recipient count exceeds 50.');
      this.received.push({ input, raw, parsed: await simpleParser(raw) });
      return { status: 200, headers: { 'x-amzn-RequestId': 'fake-request-id' }, body: { MessageId: `0100fake${this.received.length.toString().padStart(6, '0')}-ses-000000` } };
    }
    return sesError(404, 'NotFoundException', 'Unknown operation');
  }

  /** Verifies the SigV4 signature the way AWS does, with the fake's credentials. */
  private checkSignature(request: RecordedRequest): { type: string; message: string } | undefined {
    const header = request.headers['authorization'];
    const match = typeof header === 'string' ? AUTH.exec(header) : null;
    if (!match) return { type: 'IncompleteSignatureException', message: 'Authorization header requires Credential, SignedHeaders and Signature.' };
    const [, keyId, date, region, signedHeaders, signature] = match as unknown as [string, string, string, string, string, string];
    if (keyId !== this.accessKeyId) return { type: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' };
    if (region !== this.region) return { type: 'InvalidSignatureException', message: `Credential should be scoped to a valid region, not '${region}'.` };
    const amzDate = String(request.headers['x-amz-date'] ?? '');
    if (!amzDate.startsWith(date)) return { type: 'InvalidSignatureException', message: 'Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP.' };
    const names = signedHeaders.split(';');
    if (!names.includes('host') || !names.includes('x-amz-date')) return { type: 'InvalidSignatureException', message: 'Host and x-amz-date must be signed.' };
    const url = new URL(request.path, 'http://fake');
    const canonicalQuery = [...url.searchParams.entries()]
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
      .sort()
      .join('&');
    const canonicalHeaders = names.map((n) => `${n}:${String(request.headers[n] ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
    const payloadHash = createHash('sha256').update(request.body).digest('hex');
    const canonicalRequest = [request.method, url.pathname, canonicalQuery, canonicalHeaders, signedHeaders, payloadHash].join('\n');
    const scope = `${date}/${region}/ses/aws4_request`;
    const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonicalRequest).digest('hex')].join('\n');
    const hmac = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data).digest();
    const signingKey = hmac(hmac(hmac(hmac(`AWS4${this.secretAccessKey}`, date), region), 'ses'), 'aws4_request');
    const expected = createHmac('sha256', signingKey).update(stringToSign).digest('hex');
    if (expected !== signature) return { type: 'InvalidSignatureException', message: 'The request signature we calculated does not match the signature you provided.' };
    return undefined;
  }
}
