import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebhookReceiver, WebhookPayloadError, type DeliveryEvent } from 'nestjs-mailroom/webhooks';
import { flipByte, readFixture, sendGridSigner } from '../../unit/webhooks/webhook-signers.js';

// The recipe of docs/webhooks.md for an application without Nest: a plain node:http server that
// verifies each SendGrid request with a receiver from `nestjs-mailroom/webhooks`.

const signer = sendGridSigner();
const received: DeliveryEvent[] = [];
let server: Server;
let url = '';

function rawBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk)).on('end', () => resolve(Buffer.concat(chunks))).on('error', reject);
  });
}

beforeAll(async () => {
  const sendgrid = createWebhookReceiver('sendgrid', { publicKey: signer.publicKey });
  server = createServer((request, response) => {
    void (async () => {
      const body = await rawBody(request);
      const verification = await sendgrid.verify({ headers: request.headers, rawBody: body });
      if (!verification.ok) return response.writeHead(401).end(verification.reason);
      try {
        received.push(...sendgrid.parse(body));
      } catch (error) {
        if (error instanceof WebhookPayloadError) return response.writeHead(400).end();
        throw error;
      }
      response.writeHead(200).end();
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('nestjs-mailroom/webhooks on a plain HTTP server', () => {
  it('accepts a signed request and hands over its normalized events', async () => {
    const body = JSON.stringify(readFixture('sendgrid', 'bounce'));
    const response = await fetch(url, { method: 'POST', headers: signer.sign(body), body });
    expect(response.status).toBe(200);
    expect(received).toEqual([expect.objectContaining({ provider: 'sendgrid', type: 'bounced', classification: expect.objectContaining({ bounce: 'hard' }) })]);
  });

  it('answers 401 to a forged body and 400 to a signed body that is not SendGrid\'s payload', async () => {
    received.length = 0;
    const body = JSON.stringify(readFixture('sendgrid', 'bounce'));
    const forged = await fetch(url, { method: 'POST', headers: signer.sign(body), body: flipByte(body) });
    expect(forged.status).toBe(401);
    const odd = '{"hello":"world"}';
    const invalid = await fetch(url, { method: 'POST', headers: signer.sign(odd), body: odd });
    expect(invalid.status).toBe(400);
    expect(received).toEqual([]);
  });
});
