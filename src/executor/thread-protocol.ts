/**
 * Messages between an executor's main thread and its task worker threads (in-process only;
 * cross-process messages live in src/protocol).
 */
import type { TaskDescription, TaskStatus } from '../protocol/executor.js';

export interface WorkerInit {
  executorId: string;
  appId: string;
  secret: string;
  workDir: string;
  shuffleDir: string;
  /** execution memory: shuffle sorts and aggregations spill past it */
  memoryLimitBytes: number;
  /** storage memory: cached partitions past it go to disk */
  storageMemoryBytes: number;
}

export type MainToWorker =
  | { type: 'run'; desc: TaskDescription }
  | { type: 'reply'; reqId: number; data?: Uint8Array; error?: string }
  | { type: 'dropRdd'; rddId: number }
  /** stop these tasks: ones not started yet are dropped, the running one stops at its next batch */
  | { type: 'kill'; taskIds: number[]; reason: string }
  | { type: 'stop' };

export type WorkerToMain =
  | { type: 'status'; status: TaskStatus }
  | { type: 'fetchFile'; reqId: number; name: string }
  | { type: 'getBroadcast'; reqId: number; id: number }
  | { type: 'ready' };
