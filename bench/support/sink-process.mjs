// An SMTP sink in its own process, so that the client under test has the CPU it measures.
// Accepts everything, parses nothing, counts messages; reports its port over IPC.
import { SMTPServer } from 'smtp-server';

let received = 0;
const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['AUTH', 'STARTTLS'],
  logger: false,
  maxClients: 1000,
  onData(stream, _session, callback) {
    stream.on('data', () => {});
    stream.on('end', () => { received += 1; callback(); });
  },
});
server.listen(0, '127.0.0.1', () => process.send({ port: server.server.address().port }));
process.on('message', (msg) => {
  if (msg === 'count') process.send({ received });
  if (msg === 'stop') server.close(() => process.exit(0));
});
