import { fork } from 'node:child_process';

/** Starts the sink process; resolves with { port, count(), stop() }. */
export async function startSinkProcess() {
  const child = fork(new URL('./sink-process.mjs', import.meta.url), { stdio: 'inherit' });
  const first = await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('error', reject);
  });
  return {
    port: first.port,
    count: () => new Promise((resolve) => { child.once('message', (m) => resolve(m.received)); child.send('count'); }),
    stop: () => new Promise((resolve) => { child.once('exit', resolve); child.send('stop'); }),
  };
}
