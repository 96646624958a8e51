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
 *   - the young-generation flag is set just before a task thread is made (setTaskThreadFlags) and put back
 *     by the thread itself as the first thing it runs (threadBooted), when its isolate exists: the thread's
 *     Node bootstrap still runs under it, but its bundle's built-ins and the main thread's do not.
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

/** Before making a task thread: its isolate starts with the full young generation. */
export function setTaskThreadFlags(youngMb = TASK_THREAD_YOUNG_MB): void {
  v8.setFlagsFromString(`--min-semi-space-size=${youngMb / 2}`);
}

const BOOTED = Symbol.for('cinder.taskThread.booted');

/**
 * The first thing a task thread runs (its entry, or ./worker.ts without the bundles): puts the
 * young-generation flag back to its default and tells the main thread, through the cell in its
 * workerData (`booted`), that it has (the main thread loads its own modules after that). Once per thread.
 */
export function threadBooted(): void {
  const g = globalThis as Record<symbol, unknown>;
  if (g[BOOTED]) return;
  g[BOOTED] = true;
  v8.setFlagsFromString('--min-semi-space-size=0');
  const cell = (workerData as { booted?: SharedArrayBuffer } | null)?.booted;
  if (cell) {
    const a = new Int32Array(cell);
    Atomics.store(a, 0, 1);
    Atomics.notify(a, 0);
  }
}
