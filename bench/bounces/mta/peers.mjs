// The peers the MTAs under test talk to, all on loopback:
//   - the next hop (NEXT_HOP_PORT): an SMTP server that answers each recipient by its local part, the way
//     a receiving server would: unknown-* 550 5.1.1, full-* 552 5.2.2, blocked-* 554 5.7.1,
//     later-* 451 4.3.0, quota-* 452 4.2.2, anything else 250;
//   - the silent host (SILENT_PORT): takes the TCP connection and never greets, so the MTA times out;
//   - the sender's mailbox (COLLECT_PORT): takes every message and writes it to OUT_DIR, one .eml a
//     message. The reports and warnings the MTAs send back arrive there.
// Nothing listens on the port the "refused" domain is routed to.
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';

const NEXT_HOP_PORT = Number(process.env.NEXT_HOP_PORT ?? 2626);
const SILENT_PORT = Number(process.env.SILENT_PORT ?? 2627);
const COLLECT_PORT = Number(process.env.COLLECT_PORT ?? 2525);
const OUT_DIR = process.env.OUT_DIR ?? 'collected';
mkdirSync(OUT_DIR, { recursive: true });

const ANSWERS = [
  [/^unknown/, 550, '5.1.1 <%s>: Recipient address rejected: User unknown in virtual mailbox table'],
  [/^full/, 552, '5.2.2 <%s>: Mailbox full, over quota'],
  [/^blocked/, 554, '5.7.1 <%s>: Recipient address rejected: Message refused by local policy'],
  [/^later/, 451, '4.3.0 <%s>: Temporary lookup failure, try again later'],
  [/^quota/, 452, '4.2.2 <%s>: Mailbox full, over quota, try again later'],
];

function quiet() {
  return { logger: false, disabledCommands: ['AUTH', 'STARTTLS'], hideSTARTTLS: true, banner: 'next-hop.test ESMTP' };
}

const nextHop = new SMTPServer({
  ...quiet(),
  name: 'next-hop.test',
  onRcptTo(address, _session, cb) {
    const local = address.address.split('@')[0].toLowerCase();
    for (const [re, code, text] of ANSWERS) {
      if (re.test(local)) {
        const err = new Error(text.replace('%s', address.address));
        err.responseCode = code;
        return cb(err);
      }
    }
    cb();
  },
  onData(stream, _session, cb) {
    stream.resume();
    stream.on('end', () => cb());
  },
});

let n = 0;
const collector = new SMTPServer({
  ...quiet(),
  name: 'sender.test',
  onData(stream, session, cb) {
    const chunks = [];
    stream.on('data', (c) => chunks.push(c));
    stream.on('end', () => {
      n += 1;
      const rcpt = session.envelope.rcptTo.map((r) => r.address).join(',');
      const name = `${Date.now()}-${String(n).padStart(3, '0')}.eml`;
      writeFileSync(join(OUT_DIR, name), Buffer.concat(chunks));
      process.stdout.write(`collected ${name} for ${rcpt} from <${session.envelope.mailFrom ? session.envelope.mailFrom.address : ''}>\n`);
      cb();
    });
  },
});

const silent = net.createServer((socket) => {
  socket.on('error', () => {});
  // Never greet; let the client give up.
  setTimeout(() => socket.destroy(), 10 * 60 * 1000).unref();
});

nextHop.listen(NEXT_HOP_PORT, '127.0.0.1');
collector.listen(COLLECT_PORT, '127.0.0.1');
silent.listen(SILENT_PORT, '127.0.0.1');
process.stdout.write(`peers: next hop ${NEXT_HOP_PORT}, silent ${SILENT_PORT}, collector ${COLLECT_PORT} -> ${OUT_DIR}\n`);
const stop = () => {
  nextHop.close();
  collector.close();
  silent.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
