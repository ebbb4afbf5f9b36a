// A Postmark-like HTTP API in its own process, so that the client under test has its own CPU.
// POST /email and /email/batch answer as Postmark does (200, MessageID per message); GET /server
// answers 200. The token is checked, bodies are parsed as JSON and counted. Port reported over IPC.
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';

const TOKEN = process.env.POSTMARK_FAKE_TOKEN ?? 'bench-token';
let messages = 0;
let requests = 0;
let last;

function answer(message) {
  return { To: message.To, SubmittedAt: new Date().toISOString(), MessageID: randomUUID(), ErrorCode: 0, Message: 'OK' };
}

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    requests += 1;
    const reply = (status, body) => {
      const text = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    if (req.headers['x-postmark-server-token'] !== TOKEN) return reply(401, { ErrorCode: 10, Message: 'Bad token' });
    if (req.method === 'GET' && req.url === '/server') return reply(200, { ID: 1, Name: 'bench' });
    let body;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return reply(422, { ErrorCode: 402, Message: 'Received invalid JSON input.' });
    }
    if (req.url === '/email') {
      messages += 1;
      last = body;
      return reply(200, answer(body));
    }
    if (req.url === '/email/batch' && Array.isArray(body)) {
      messages += body.length;
      last = body.at(-1);
      return reply(200, body.map(answer));
    }
    return reply(404, { ErrorCode: 404, Message: 'Not found' });
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
process.on('message', (msg) => {
  if (msg === 'count') process.send({ messages, requests });
  if (msg === 'last') process.send({ last });
  if (msg === 'reset') { messages = 0; requests = 0; process.send({ ok: true }); }
  if (msg === 'stop') server.close(() => process.exit(0));
});
