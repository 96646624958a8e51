/**
 * Messages between an executor's main thread and its task worker threads (in-process only;
 * cross-process messages live in src/protocol).
 */
import type { TaskDescription, TaskStatus } from '../protocol/executor.js';

/** Who a thread works for: known at start, or (a spare executor, decision 0017) sent with 'assign'. */
export interface WorkerIds {
  executorId: string;
  appId: string;
  secret: string;
}

export interface WorkerInit {
  ids: WorkerIds | undefined;
  workDir: string;
  shuffleDir: string;
  /** execution memory: shuffle sorts and aggregations spill past it */
  memoryLimitBytes: number;
  /** storage memory: cached partitions past it go to disk */
  storageMemoryBytes: number;
  /**
   * One float64 the thread sets to the id of the task it runs and to -1 between tasks: no message per
   * task, and still readable after the thread died, so only that task is blamed for its death.
   */
  current: SharedArrayBuffer;
  /** one int32 the thread sets to 1 as the first thing it runs (./v8-flags.ts threadBooted) */
  booted: SharedArrayBuffer;
}

export type MainToWorker =
  /** tasks to run one after the other, in order (several per message: one thread wake-up for a batch) */
  | { type: 'run'; descs: TaskDescription[] }
  | { type: 'reply'; reqId: number; data?: Uint8Array; error?: string }
  | { type: 'dropRdd'; rddId: number }
  /** stop these tasks: ones not started yet are dropped, the running one stops at its next batch */
  | { type: 'kill'; taskIds: number[]; reason: string }
  | { type: 'stop' }
  /** a spare executor was handed to a driver: its ids, and the environment variables that changed since spawn */
  | { type: 'assign'; ids: WorkerIds; env: Record<string, string | null> };

export type WorkerToMain =
  /** final statuses of tasks the thread ran, in order (batched while the thread has more to run) */
  | { type: 'status'; statuses: TaskStatus[] }
  | { type: 'fetchFile'; reqId: number; name: string }
  | { type: 'getBroadcast'; reqId: number; id: number }
  | { type: 'ready' };
