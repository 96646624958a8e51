/**
 * Entry of a task worker thread. Task code runs here so that a long or allocation-heavy user
 * function never blocks the executor's main thread (heartbeats, shuffle serving).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { tracePhase } from '../common/startup-trace.js';
import type { TaskDescription, TaskStatus } from '../protocol/executor.js';
import { codeCacheCheckpoint, codeCacheState } from './code-cache.js';
import { killedStatus } from './killed.js';
import { applyEnv } from './spare.js';
import { TaskRunner } from './task-runner.js';
import type { MainToWorker, WorkerIds, WorkerInit, WorkerToMain } from './thread-protocol.js';
import { threadBooted } from './v8-flags.js';

// the bundle's entry did this before loading the bundle; the per-file build does it here
threadBooted();

const init = workerData as WorkerInit;
const port = parentPort!;
/** the task running now, for the main thread to read if this thread dies (WorkerInit.current) */
const current = new Float64Array(init.current);
let nextReq = 1;
const pending = new Map<number, { resolve: (d: Uint8Array) => void; reject: (e: Error) => void }>();

function ask(msg: { type: 'fetchFile'; name: string } | { type: 'getBroadcast'; id: number }): Promise<Uint8Array> {
  const reqId = nextReq++;
  return new Promise((resolve, reject) => {
    pending.set(reqId, { resolve, reject });
    port.postMessage({ ...msg, reqId } as WorkerToMain);
  });
}

let runner: TaskRunner | undefined;
function startRunner(ids: WorkerIds): void {
  runner = new TaskRunner({
    executorId: ids.executorId,
    appId: ids.appId,
    secret: ids.secret,
    workDir: init.workDir,
    shuffleDir: init.shuffleDir,
    memoryLimitBytes: init.memoryLimitBytes,
    storageMemoryBytes: init.storageMemoryBytes,
    fetchFile: (name) => ask({ type: 'fetchFile', name }),
    getBroadcast: (id) => ask({ type: 'getBroadcast', id }),
  });
}
// a spare executor's threads load their code first and learn whom they work for later ('assign')
if (init.ids) startRunner(init.ids);

const runQueue: TaskDescription[] = [];
/** finished tasks' statuses not yet posted */
let done: TaskStatus[] = [];
/**
 * Statuses go to the main thread in batches: when at most SEND_WHEN_LEFT tasks are left in this
 * thread's queue (the main thread then refills it before it runs dry) or SEND_AT_MOST have ended.
 * Each message wakes the other thread; one per task cost more than short tasks themselves.
 */
const SEND_WHEN_LEFT = 2;
const SEND_AT_MOST = 8;
let firstDone = false;
async function drain(): Promise<void> {
  while (runQueue.length > 0) {
    current[0] = runQueue[0]!.taskId;
    const status = await runner!.run(runQueue[0]!);
    current[0] = -1;
    if (!firstDone) {
      firstDone = true;
      tracePhase(who, 'first task finished');
      // a thread started without a code cache makes one now that the first task's functions are compiled
      // (before its status goes out: the job may end the thread as soon as it has it)
      codeCacheCheckpoint();
    }
    runQueue.shift();
    done.push(status);
    if (runQueue.length <= SEND_WHEN_LEFT || done.length >= SEND_AT_MOST) postDone();
  }
}

function postDone(): void {
  if (done.length === 0) return;
  port.postMessage({ type: 'status', statuses: done } satisfies WorkerToMain);
  done = [];
}

port.on('message', (m: MainToWorker) => {
  switch (m.type) {
    case 'run': {
      // the main thread may hand a thread its next tasks before this one ends (short tasks): tasks
      // of a thread still run one at a time, each with the thread's whole memory budget
      const idle = runQueue.length === 0;
      runQueue.push(...m.descs);
      if (idle) void drain();
      break;
    }
    case 'reply': {
      const p = pending.get(m.reqId);
      if (!p) return;
      pending.delete(m.reqId);
      if (m.error !== undefined) p.reject(new Error(m.error));
      else p.resolve(m.data!);
      break;
    }
    case 'kill':
      for (const taskId of m.taskIds) {
        const i = runQueue.findIndex((d) => d.taskId === taskId);
        if (i > 0) {
          runQueue.splice(i, 1);
          done.push(killedStatus(taskId, m.reason));
        } else if (i === 0) runner?.kill(taskId, m.reason);
      }
      postDone();
      break;
    case 'dropRdd':
      void runner?.blockStore.removeRdd(m.rddId);
      break;
    case 'assign':
      applyEnv(m.env);
      startRunner(m.ids);
      who = `executor-${m.ids.executorId}/t${init.workDir.slice(-1)}`;
      break;
    case 'stop':
      void (runner?.close() ?? Promise.resolve()).finally(() => process.exit(0));
      break;
  }
});
let who = `executor-${init.ids?.executorId ?? 'spare'}/t${init.workDir.slice(-1)}`;
tracePhase(who, `task thread: task code loaded (code cache: ${codeCacheState()})`);
port.postMessage({ type: 'ready' } satisfies WorkerToMain);
