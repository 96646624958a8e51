/**
 * V8 flags of an executor, kept from costing its start (docs/decisions/0032-executor-start.md).
 *
 * Task threads start with their young generation at its full size (half of youngMb per semi-space). V8
 * starts a worker's semi-space at 1 MB and grows it only as scavenges find survivors, so a thread's first
 * map tasks scavenged several times as often as its later ones (wordfreq: 100-220 ms of GC in each of the
 * first tasks, 40-50 ms in later ones; decision 0031). V8 reads `--min-semi-space-size` only when an
 * isolate is made, and Node's `resourceLimits` set the young generation's maximum, not its start.
 *
 * But any V8 flag that is not at its default changes V8's flag hash, and Node's code cache for its own
 * built-in modules (made under default flags) is then rejected: every built-in a thread loads is compiled
 * from source (a bare worker thread ~22 ms of CPU to start without a flag, ~45 ms with one). So:
 *   - the process entry puts the heap-size flags of its command line (`--max-semi-space-size`, the NM's
 *     `--max-old-space-size`) back to their defaults (0) first: this isolate was made with them, and task
 *     threads get their sizes from `resourceLimits`;
 *   - the young-generation flag is set just before a task thread is made (makingTaskThread) and put back
 *     once every thread being made has started running (threadBooted: its isolate exists); the threads
 *     wait for that before they load anything. A thread's Node bootstrap still runs under the flag, but
 *     its bundle's built-ins and the main thread's do not.
 * The code caches (./code-cache.ts) are then made and used under default flags. Imports only Node built-ins.
 */
import v8 from 'node:v8';
import { workerData } from 'node:worker_threads';

/** the young generation of a task thread, MB (its resourceLimits set the same maximum) */
export const TASK_THREAD_YOUNG_MB = 64;

/** V8 heap-size flags, read only when an isolate is made */
const HEAP_SIZE_FLAG = /^--(max|min)[-_](semi|old)[-_]space[-_]size(=|$)/;

/**
 * At the start of the executor process, before it loads anything: puts the heap-size flags of its command
 * line back to their defaults. Returns the flags reset (for tests).
 */
export function resetHeapSizeFlags(execArgv: readonly string[] = process.execArgv): string[] {
  const names = [...new Set(execArgv.filter((a) => HEAP_SIZE_FLAG.test(a)).map((a) => a.split('=')[0]!))];
  for (const n of names) v8.setFlagsFromString(`${n}=0`);
  return names;
}

/** A task thread's `booted` cell (WorkerInit.booted): the thread sets BOOTED, the main thread then GO. */
export const STARTING = 0;
export const BOOTED = 1;
export const GO = 2;
/** how long a thread waits for GO before it goes on anyway (only speed depends on it) */
const GO_WAIT_MS = 2000;

interface AtomicsWaitAsync {
  waitAsync(a: Int32Array, index: number, value: number): { async: boolean; value: Promise<string> | string };
}

/** cells of threads being made (the flag is set while there are any), and of booted ones waiting for GO */
const making = new Set<Int32Array>();
const waiting: Int32Array[] = [];

function release(cell: Int32Array): void {
  making.delete(cell);
  waiting.push(cell);
  if (making.size > 0) return; // a sibling's isolate may not exist yet: the flag stays until it does
  v8.setFlagsFromString('--min-semi-space-size=0');
  for (const c of waiting.splice(0)) {
    Atomics.store(c, 0, GO);
    Atomics.notify(c, 0);
  }
}

/**
 * Main thread, just before making a task thread whose workerData carries `cell` (a fresh 4-byte
 * SharedArrayBuffer): sets the young-generation flag for its isolate. Resolves once the thread has started
 * running (its isolate exists), or `died` resolves first; the flag is put back to its default when no
 * thread is being made any more, and the threads waiting for that are let go on.
 */
export function makingTaskThread(
  cell: SharedArrayBuffer,
  died: Promise<void>,
  youngMb = TASK_THREAD_YOUNG_MB,
): Promise<void> {
  const a = new Int32Array(cell);
  if (making.size === 0) v8.setFlagsFromString(`--min-semi-space-size=${youngMb / 2}`);
  making.add(a);
  const w = (Atomics as unknown as AtomicsWaitAsync).waitAsync(a, 0, STARTING);
  const booted = w.async ? (w.value as Promise<string>).then(() => {}) : Promise.resolve();
  return Promise.race([booted, died]).then(() => release(a));
}

const SELF = Symbol.for('cinder.taskThread.booted');

/**
 * The first thing a task thread runs (its entry, or ./worker.ts without the bundles): tells the main
 * thread it runs, then waits (at most GO_WAIT_MS) until the young-generation flag is back at its default,
 * so what it loads next compiles from Node's and its own code caches. Once per thread.
 */
export function threadBooted(): void {
  const g = globalThis as Record<symbol, unknown>;
  if (g[SELF]) return;
  g[SELF] = true;
  const cell = (workerData as { booted?: SharedArrayBuffer } | null)?.booted;
  if (!cell) return;
  const a = new Int32Array(cell);
  Atomics.store(a, 0, BOOTED);
  Atomics.notify(a, 0);
  Atomics.wait(a, 0, BOOTED, GO_WAIT_MS);
}
