import { parentPort } from 'node:worker_threads';
import { describeMessage } from './bounce.rows.js';

/** A worker thread of `mailroom bounce --jobs N`: parses the messages it is sent, one reply each. */
if (parentPort) {
  const port = parentPort;
  port.on('message', (task: { id: number; data: Uint8Array }) => {
    void describeMessage(task.data).then((report) => port.postMessage({ id: task.id, report }));
  });
  port.postMessage({ ready: true });
}
