import { Worker } from 'node:worker_threads';
import type { MessageReport } from './bounce.rows.js';

interface Task {
  id: number;
  resolve: (report: MessageReport) => void;
}

interface Slot {
  worker: Worker;
  tasks: Map<number, Task>;
  online: Promise<void>;
}

/**
 * Worker threads that parse messages for `mailroom bounce --jobs N`. Each message goes to the thread
 * with the fewest in flight (a thread's script posts `{ ready: true }` first, then one `{ id, report }`
 * per message); a thread that dies reports its messages as errors and is replaced.
 */
export class ParsePool {
  private readonly slots: Slot[] = [];
  private nextId = 0;
  private closed = false;
  /** Why threads cannot be started at all (their script is missing, say); nothing is retried then. */
  private broken: string | undefined;

  constructor(
    size: number,
    private readonly script: URL,
  ) {
    for (let i = 0; i < size; i++) this.slots.push(this.start());
  }

  /** Resolves once every thread runs; rejects with the reason when one cannot start. */
  async ready(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.online));
  }

  parse(data: Uint8Array): Promise<MessageReport> {
    if (this.closed || this.broken !== undefined) {
      return Promise.resolve({ results: [], error: this.broken ?? 'the parser pool is closed' });
    }
    let slot = this.slots[0]!;
    for (const s of this.slots) if (s.tasks.size < slot.tasks.size) slot = s;
    const id = this.nextId++;
    // A message may be a slice of a whole mbox: post a copy of its own bytes, handed over without a
    // second copy, rather than the mbox's buffer behind it.
    const own = new Uint8Array(data);
    return new Promise((resolve) => {
      slot.tasks.set(id, { id, resolve });
      slot.worker.postMessage({ id, data: own }, [own.buffer]);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private start(): Slot {
    const worker = new Worker(this.script);
    let started = false;
    // A thread says `{ ready: true }` once its script has loaded (Node's 'online' comes before that).
    const online = new Promise<void>((resolve, reject) => {
      worker.once('message', () => {
        started = true;
        resolve();
      });
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`parser thread exited with code ${code} before it was ready`)));
    });
    online.catch(() => undefined);
    const slot: Slot = { worker, tasks: new Map(), online };
    slot.worker.on('message', (m: { id: number; report: MessageReport }) => {
      if (m.report === undefined) return;
      const task = slot.tasks.get(m.id);
      slot.tasks.delete(m.id);
      task?.resolve(m.report);
    });
    const fail = (why: string) => {
      for (const task of slot.tasks.values()) task.resolve({ results: [], error: why });
      slot.tasks.clear();
      if (!started) this.broken ??= why;
      if (this.closed || !started) return;
      const at = this.slots.indexOf(slot);
      if (at >= 0) this.slots[at] = this.start();
    };
    slot.worker.on('error', (e) => fail(`parser thread failed: ${e.message}`));
    slot.worker.on('exit', (code) => {
      if (slot.tasks.size > 0) fail(`parser thread exited with code ${code}`);
    });
    return slot;
  }
}
