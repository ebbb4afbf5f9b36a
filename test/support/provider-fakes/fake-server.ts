import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** A request as the fake received it. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
  /** The parsed body when it was JSON. */
  json?: unknown;
}

/** An answer the fake gives. */
export interface FakeAnswer {
  status: number;
  headers?: Record<string, string>;
  /** Objects are sent as JSON, strings as text/plain, undefined as an empty body. */
  body?: unknown;
}

/** A scripted next answer: a given reply, a reset connection, or a request that never answers. */
export type ScriptedAnswer = FakeAnswer | { reset: true } | { hang: true };

export type FakeHandler = (request: RecordedRequest) => FakeAnswer | Promise<FakeAnswer>;

/**
 * A real HTTP server on 127.0.0.1 (port 0) that records every request and answers through the
 * provider's handler, unless an answer was scripted with `failNext`.
 */
export class FakeHttpServer {
  readonly requests: RecordedRequest[] = [];
  private readonly script: ScriptedAnswer[] = [];
  private readonly sockets = new Set<Socket>();
  private server?: Server;
  private port = 0;

  constructor(private readonly handler: FakeHandler) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The answers for the next requests, in order, before the provider handler takes over again. */
  failNext(...answers: ScriptedAnswer[]): this {
    this.script.push(...answers);
    return this;
  }

  reset(): void {
    this.requests.length = 0;
    this.script.length = 0;
  }

  last(): RecordedRequest {
    const request = this.requests.at(-1);
    if (!request) throw new Error('The fake received no request.');
    return request;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const recorded: RecordedRequest = { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body };
    if ((req.headers['content-type'] ?? '').includes('json') && body.length) {
      try {
        recorded.json = JSON.parse(body.toString('utf8'));
      } catch {
        recorded.json = undefined;
      }
    }
    this.requests.push(recorded);
    const scripted = this.script.shift();
    if (scripted && 'reset' in scripted) {
      req.socket.destroy();
      return;
    }
    if (scripted && 'hang' in scripted) return;
    let answer: FakeAnswer;
    try {
      answer = scripted ?? (await this.handler(recorded));
    } catch (error) {
      answer = { status: 599, body: { fakeError: String(error) } };
    }
    const headers: Record<string, string> = { ...answer.headers };
    let payload = '';
    if (answer.body !== undefined && answer.body !== null) {
      if (typeof answer.body === 'string') {
        payload = answer.body;
        headers['content-type'] ??= 'text/plain';
      } else {
        payload = JSON.stringify(answer.body);
        headers['content-type'] ??= 'application/json';
      }
    }
    res.writeHead(answer.status, headers);
    res.end(payload);
  }
}

/** Parses a multipart/form-data body with the platform's own parser. */
export async function parseMultipart(request: RecordedRequest): Promise<FormData> {
  return new Response(request.body, { headers: { 'content-type': String(request.headers['content-type']) } }).formData();
}
