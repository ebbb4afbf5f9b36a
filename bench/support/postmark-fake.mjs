import { fork } from 'node:child_process';

/** Starts the Postmark-like fake in a child process; resolves with { url, token, ask(msg), stop() }. */
export async function startPostmarkFake(token = 'bench-token') {
  const child = fork(new URL('./postmark-fake-process.mjs', import.meta.url), {
    stdio: 'inherit',
    env: { ...process.env, POSTMARK_FAKE_TOKEN: token },
  });
  const first = await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('error', reject);
  });
  const ask = (msg) => new Promise((resolve) => { child.once('message', resolve); child.send(msg); });
  return {
    url: `http://127.0.0.1:${first.port}`,
    host: `127.0.0.1:${first.port}`,
    token,
    ask,
    stop: () => new Promise((resolve) => { child.once('exit', resolve); child.send('stop'); }),
  };
}
