/**
 * Entry of a task worker thread. Task code runs here so that a long or allocation-heavy user
 * function never blocks the executor's main thread (heartbeats, shuffle serving).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { tracePhase } from '../common/startup-trace.js';
import type { TaskDescription } from '../protocol/executor.js';
import { codeCacheCheckpoint, codeCacheState } from './code-cache.js';
import { killedStatus } from './killed.js';
import { applyEnv } from './spare.js';
import { TaskRunner } from './task-runner.js';
import type { MainToWorker, WorkerIds, WorkerInit, WorkerToMain } from './thread-protocol.js';

const init = workerData as WorkerInit;
const port = parentPort!;
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
let firstDone = false;
async function drain(): Promise<void> {
  while (runQueue.length > 0) {
    const status = await runner!.run(runQueue[0]!);
    if (!firstDone) {
      firstDone = true;
      tracePhase(who, 'first task finished');
      // a thread started without a code cache makes one now that the first task's functions are compiled
      // (before its status goes out: the job may end the thread as soon as it has it)
      codeCacheCheckpoint();
    }
    runQueue.shift();
    port.postMessage({ type: 'status', status } satisfies WorkerToMain);
  }
}

port.on('message', (m: MainToWorker) => {
  switch (m.type) {
    case 'run':
      // the main thread may hand a thread its next task before this one ends (short tasks): tasks
      // of a thread still run one at a time, each with the thread's whole memory budget
      runQueue.push(m.desc);
      if (runQueue.length === 1) void drain();
      break;
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
          port.postMessage({ type: 'status', status: killedStatus(taskId, m.reason) } satisfies WorkerToMain);
        } else if (i === 0) runner?.kill(taskId, m.reason);
      }
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
