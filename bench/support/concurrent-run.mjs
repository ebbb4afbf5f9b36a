/**
 * Sends `count` mails through `send(i)` with `concurrency` sends in flight; the wall time and this
 * process's CPU time (user + system, µs) they took.
 */
export async function runConcurrently(send, count, concurrency) {
  let next = 0;
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) await send(next++);
  }));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const used = process.cpuUsage(cpu);
  return { seconds, cpuMicros: used.user + used.system, mails: count };
}
