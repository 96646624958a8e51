/**
 * An executor's task threads (src/executor/worker.ts), started by the process entry (./main.ts) before
 * it loads the rest of the executor: a thread's start-up (its own V8 isolate and Node bootstrap, then
 * the engine's task code) then overlaps with the main thread's, instead of following it
 * (docs/decisions/0009-executor-threads-first.md).
 *
 * Imports only Node built-ins, ./entry.ts and ./v8-flags.ts: whatever this module loads delays the threads.
 *
 * Owns: starting, restarting and sizing the threads. Must not: know tasks or the driver (the executor
 * backend attaches its handlers with attach()).
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { TaskDescription } from '../protocol/executor.js';
import { workerModule } from './entry.js';
import type { MainToWorker, WorkerIds, WorkerInit, WorkerToMain } from './thread-protocol.js';
import { makingTaskThread, TASK_THREAD_YOUNG_MB } from './v8-flags.js';

/** shares of a task thread's old generation for execution (shuffle buffers) and storage (cache) memory */
const EXECUTION_SHARE = 0.35;
const STORAGE_SHARE = 0.3;
/** a fixed 64 MB young generation: smaller ones promote so much that small heaps run out of memory while spilling */
const YOUNG_MB = TASK_THREAD_YOUNG_MB;

export interface ThreadConfig {
  /** undefined for a spare executor until assign() */
  ids: WorkerIds | undefined;
  workDir: string;
  shuffleDir: string;
  cores: number;
  memoryMb: number;
  /** import.meta.url of the executor's entry module (main.js or main.bundle.cjs): picks the worker module */
  mainUrl: string;
}

export interface Slot {
  index: number;
  worker: Worker;
  busy: number;
  /** the tasks handed to this thread whose status it has not sent (to fail them if the thread dies) */
  running: Map<number, TaskDescription>;
  /** the id of the task the thread is running, -1 between tasks (WorkerInit.current) */
  current: Float64Array;
  ready: Promise<void>;
  /** the thread has started running (its isolate exists; ./v8-flags.ts threadBooted), or died */
  booted: Promise<void>;
  /** replaced on purpose (a task in it would not stop): its messages and its death are ignored */
  retired?: boolean;
}

export interface ThreadHandlers {
  onMessage(slot: Slot, m: Exclude<WorkerToMain, { type: 'ready' }>): void;
  /** the thread died (it is replaced right after): fail its running tasks */
  onDeath(slot: Slot, why: string): void;
}

/** The old-generation heap of one task thread (MB): 60% of its share of cinder.executor.memory. */
export function oldGenMbFor(memoryMb: number, cores: number): number {
  // the young generation, the main thread and I/O buffers live in the other 40%, so an executor's RSS
  // stays near cinder.executor.memory
  return Math.max(48, Math.floor(Math.max(64, Math.floor(memoryMb / cores)) * 0.6));
}

export class TaskThreads {
  readonly slots: Slot[] = [];
  readonly oldGenMb: number;
  private handlers: ThreadHandlers | undefined;
  /** events from before attach(): a thread that died while the backend was still loading */
  private early: Array<(h: ThreadHandlers) => void> = [];
  private stopping = false;

  constructor(private readonly cfg: ThreadConfig) {
    this.oldGenMb = oldGenMbFor(cfg.memoryMb, cfg.cores);
    for (let i = 0; i < cfg.cores; i++) this.slots.push(this.start(i));
  }

  /** Hands thread events to the backend (and any that came before). */
  attach(h: ThreadHandlers): void {
    this.handlers = h;
    for (const e of this.early.splice(0)) e(h);
  }

  /** A spare executor was handed to a driver: tells every thread (threads started later get the ids at start). */
  assign(ids: WorkerIds, env: Record<string, string | null>): void {
    this.cfg.ids = ids;
    for (const s of this.slots) s.worker.postMessage({ type: 'assign', ids, env } satisfies MainToWorker);
  }

  /**
   * Resolves once every thread has started running: the young-generation flag is back at its default, so
   * what this thread loads after it is compiled with Node's code cache (./v8-flags.ts).
   */
  booted(): Promise<void> {
    return Promise.all(this.slots.map((s) => s.booted)).then(() => {});
  }

  /** Resolves once every thread has loaded its task code. */
  ready(): Promise<void> {
    return Promise.all(this.slots.map((s) => s.ready)).then(() => {});
  }

  async terminate(): Promise<void> {
    this.stopping = true;
    await Promise.allSettled(this.slots.map((s) => s.worker.terminate()));
  }

  /**
   * Terminates a thread whose task would not stop when asked (user code that never yields) and starts a
   * new one in its place; returns the new slot. The caller settles the old slot's tasks.
   */
  replace(slot: Slot): Slot {
    slot.retired = true;
    void slot.worker.terminate();
    const fresh = this.start(slot.index);
    this.slots[slot.index] = fresh;
    return fresh;
  }

  private emit(f: (h: ThreadHandlers) => void): void {
    if (this.handlers) f(this.handlers);
    else this.early.push(f);
  }

  /**
   * Starts task thread i. A thread that dies (e.g. out of memory: its heap is capped by resourceLimits)
   * fails only its running tasks (onDeath) and is replaced; the executor lives on.
   */
  private start(i: number): Slot {
    const c = this.cfg;
    const init: WorkerInit = {
      ids: c.ids,
      workDir: path.join(c.workDir, `t${i}`),
      shuffleDir: c.shuffleDir,
      // execution memory: a sort buffer past ~35% of the old generation leaves V8 too little headroom and it
      // collects over and over (64 MiB spill sort at 512m: 13 s at 50%, 9 s at 35%, 10 s at 25%)
      memoryLimitBytes: Math.floor(this.oldGenMb * 1024 * 1024 * EXECUTION_SHARE),
      storageMemoryBytes: Math.floor(this.oldGenMb * 1024 * 1024 * STORAGE_SHARE),
      current: new SharedArrayBuffer(8),
      booted: new SharedArrayBuffer(4),
    };
    const current = new Float64Array(init.current);
    current[0] = -1;
    let markDied!: () => void;
    // the thread's isolate is made with the full young generation (./v8-flags.ts)
    const booted = makingTaskThread(init.booted, new Promise<void>((r) => (markDied = r)));
    let worker: Worker;
    try {
      worker = new Worker(workerModule(c.mainUrl), {
        workerData: init,
        resourceLimits: { maxOldGenerationSizeMb: this.oldGenMb, maxYoungGenerationSizeMb: YOUNG_MB },
      });
    } catch (e) {
      markDied();
      throw e;
    }
    let markReady!: () => void;
    const slot: Slot = {
      index: i,
      worker,
      busy: 0,
      running: new Map(),
      current,
      ready: new Promise((r) => (markReady = r)),
      booted,
    };
    worker.on('message', (m: WorkerToMain) => {
      if (slot.retired) return;
      if (m.type === 'ready') markReady();
      else this.emit((h) => h.onMessage(slot, m));
    });
    let died = false;
    const onDeath = (why: string) => {
      markDied(); // whoever waits for the threads to run does not wait for a dead one
      if (died || this.stopping || slot.retired) return;
      died = true;
      markReady();
      this.slots[i] = this.start(i);
      this.emit((h) => {
        h.onDeath(slot, why);
        slot.running.clear();
      });
    };
    worker.on('error', (e) =>
      onDeath((e as Error & { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'out of memory' : e.message),
    );
    worker.on('exit', (code) => onDeath(`exited with code ${code}`));
    return slot;
  }
}
