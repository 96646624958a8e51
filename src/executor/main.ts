/**
 * Executor process entry (`node build/src/executor/main.bundle.js`, or main.js; see entry.ts). The same code runs in local mode
 * (spawned by the driver) and on a cluster (launched in a container by a NodeManager).
 *
 *   main thread: driver connection (register, heartbeats, batched status updates), block server
 *   worker threads (cores of them): run tasks (src/executor/worker.ts)
 *
 * Configured by environment (never argv, so secrets stay out of process listings):
 *   CINDER_DRIVER_URL host:port   CINDER_EXECUTOR_ID   CINDER_APP_ID   CINDER_APP_SECRET
 *   CINDER_EXECUTOR_CORES   CINDER_EXECUTOR_MEMORY_MB   CINDER_WORK_DIR   CINDER_HOST (advertised)
 *   CINDER_BIND_HOST   CINDER_HEARTBEAT_MS   CINDER_CONTAINER_ID
 * Exits when the driver goes away or asks it to stop.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { logger } from '../common/log.js';
import {
  type DriverToExecutor,
  type ExecutorToDriver,
  parseDriverToExecutor,
  type TaskDescription,
  type TaskStatus,
} from '../protocol/executor.js';
import { dial, type RpcConnection } from '../rpc/index.js';
import { startBlockServer } from '../shuffle/block-server.js';
import { removeShuffleFiles } from '../shuffle/shuffle-files.js';
import { workerModule } from './entry.js';
import type { MainToWorker, WorkerInit, WorkerToMain } from './thread-protocol.js';

const env = process.env;
function need(name: string): string {
  const v = env[name];
  if (!v) {
    process.stderr.write(`executor: missing environment variable ${name}\n`);
    process.exit(2);
  }
  return v;
}

const driverUrl = need('CINDER_DRIVER_URL');
const executorId = need('CINDER_EXECUTOR_ID');
const appId = need('CINDER_APP_ID');
const secret = need('CINDER_APP_SECRET');
delete process.env.CINDER_APP_SECRET; // not inherited by user subprocesses (pipe())
const cores = Math.max(1, Number(env.CINDER_EXECUTOR_CORES ?? 1));
const memoryMb = Math.max(64, Number(env.CINDER_EXECUTOR_MEMORY_MB ?? 1024));
// in a container the work dir lives in the container's own directory (the NM removes it)
const workDir =
  env.CINDER_WORK_DIR ??
  (env.CINDER_CONTAINER_ID
    ? path.join(process.cwd(), 'cinder-work')
    : fs.mkdtempSync(path.join(os.tmpdir(), `cinder-exec-${executorId}-`)));
const advertised = env.CINDER_HOST ?? env.CINDER_NM_HOST ?? '127.0.0.1';
const bindHost = env.CINDER_BIND_HOST ?? advertised;
const heartbeatMs = Number(env.CINDER_HEARTBEAT_MS ?? 10_000);
const log = logger('executor', { executorId, appId });
const DRIVER_HANDSHAKE_WAIT_MS = 120_000;
log.debug({ sinceStartMs: Math.round(performance.now()) }, 'executor modules loaded');

fs.mkdirSync(workDir, { recursive: true });
const shuffleDir = path.join(workDir, 'shuffle');
fs.mkdirSync(shuffleDir, { recursive: true });

const [host, portStr] = driverUrl.split(/:(?=\d+$)/);
const blockServer = await startBlockServer({
  dir: shuffleDir,
  host: bindHost,
  secretFor: (p: string) => (p === appId ? secret : undefined),
});

let conn: RpcConnection<DriverToExecutor, ExecutorToDriver>;
let stopping = false;

// ---- task worker threads -------------------------------------------------------------------
const perWorkerHeapMb = Math.max(64, Math.floor(memoryMb / cores));
// the old generation gets 60% of the thread's share: the young generation, the main thread and I/O
// buffers live in the rest, so an executor's RSS stays near cinder.executor.memory
const oldGenMb = Math.max(48, Math.floor(perWorkerHeapMb * 0.6));
const youngMb = 64;
/** shares of a task thread's old generation for execution (shuffle buffers) and storage (cache) memory */
const EXECUTION_SHARE = 0.35;
const STORAGE_SHARE = 0.3;
interface Slot {
  index: number;
  worker: Worker;
  busy: number;
  /** the tasks running in this thread (to fail them if the thread dies) */
  running: Map<number, TaskDescription>;
  ready: Promise<void>;
}
const slots: Slot[] = [];

/**
 * Starts task thread i. A thread that dies (e.g. out of memory: its heap is capped by resourceLimits)
 * fails only its running tasks, with a message that says why, and is replaced; the executor lives on.
 */
function startThread(i: number): Slot {
  const init: WorkerInit = {
    executorId,
    appId,
    secret,
    workDir: path.join(workDir, `t${i}`),
    shuffleDir,
    // execution memory: a sort buffer past ~35% of the old generation leaves V8 too little headroom and it
    // collects over and over (64 MiB spill sort at 512m: 13 s at 50%, 9 s at 35%, 10 s at 25%)
    memoryLimitBytes: Math.floor(oldGenMb * 1024 * 1024 * EXECUTION_SHARE),
    storageMemoryBytes: Math.floor(oldGenMb * 1024 * 1024 * STORAGE_SHARE),
  };
  const worker = new Worker(workerModule(import.meta.url), {
    workerData: init,
    // a fixed 64 MB young generation: smaller ones promote so much that small heaps run out of memory while spilling
    resourceLimits: { maxOldGenerationSizeMb: oldGenMb, maxYoungGenerationSizeMb: youngMb },
  });
  let markReady!: () => void;
  const slot: Slot = { index: i, worker, busy: 0, running: new Map(), ready: new Promise((r) => (markReady = r)) };
  worker.on('message', (m: WorkerToMain) => {
    if (m.type === 'ready') markReady();
    else onWorkerMessage(slot, m);
  });
  let died = false;
  const onDeath = (why: string) => {
    if (died || stopping) return;
    died = true;
    markReady();
    log.error({ thread: i, why }, 'task thread died; failing its tasks and starting a new thread');
    for (const desc of slot.running.values())
      report({
        taskId: desc.taskId,
        state: 'FAILED',
        failure: {
          kind: 'Exception',
          error: {
            name: 'TaskThreadDied',
            message:
              why === 'out of memory'
                ? `the task thread running this task ran out of memory: each task thread has an old-generation heap of ${oldGenMb} MB (60% of cinder.executor.memory / cinder.executor.cores); raise cinder.executor.memory or use more, smaller partitions`
                : `the task thread running this task died: ${why} (an error thrown outside the task, e.g. from an event emitter the task created)`,
          },
          countsTowardFailures: true,
        },
      });
    slot.running.clear();
    slots[i] = startThread(i);
    pump();
  };
  worker.on('error', (e) =>
    onDeath((e as Error & { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'out of memory' : e.message),
  );
  worker.on('exit', (code) => onDeath(`exited with code ${code}`));
  return slot;
}
for (let i = 0; i < cores; i++) slots.push(startThread(i));

/** Broadcast values and files fetched from the driver once per executor, shared by its task threads. */
const fetched = new Map<string, Promise<Uint8Array>>();
function fetchOnce(key: string, get: () => Promise<Uint8Array>): Promise<Uint8Array> {
  let p = fetched.get(key);
  if (!p) {
    p = get();
    fetched.set(key, p);
    p.catch(() => fetched.delete(key));
  }
  return p;
}

const outbox: TaskStatus[] = [];
let flushScheduled = false;
function report(s: TaskStatus): void {
  outbox.push(s);
  if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(() => {
      flushScheduled = false;
      const updates = outbox.splice(0);
      if (updates.length) conn.send({ type: 'StatusUpdates', executorId, updates });
    });
  }
}

function onWorkerMessage(slot: Slot, m: Exclude<WorkerToMain, { type: 'ready' }>): void {
  switch (m.type) {
    case 'status':
      slot.busy--;
      slot.running.delete(m.status.taskId);
      report(m.status);
      pump();
      break;
    case 'fetchFile':
    case 'getBroadcast': {
      const p =
        m.type === 'fetchFile'
          ? fetchOnce(`file:${m.name}`, () => conn.request<Uint8Array>({ type: 'GetFile', name: m.name }))
          : fetchOnce(`bc:${m.id}`, () => conn.request<Uint8Array>({ type: 'GetBroadcast', id: m.id }));
      p.then(
        (data) => slot.worker.postMessage({ type: 'reply', reqId: m.reqId, data } satisfies MainToWorker),
        (e: Error) =>
          slot.worker.postMessage({ type: 'reply', reqId: m.reqId, error: e.message } satisfies MainToWorker),
      );
      break;
    }
  }
}

/** Tasks the driver sent ahead of free threads (it may prefetch short tasks to hide round trips). */
const queued: TaskDescription[] = [];
/**
 * Tasks a thread may hold: the one it runs and, once every thread is busy and more tasks wait here
 * (the driver sends more than free slots only for short tasks), up to three more, so it need not wait for a
 * round trip to the main thread between tasks. The thread still runs them one at a time.
 */
const MAX_TASKS_PER_THREAD = 4;

/**
 * Starts queued tasks on idle threads (preferring the thread that may hold a partition's cached blocks),
 * then hands the least busy threads more, up to MAX_TASKS_PER_THREAD each.
 */
function pump(): void {
  while (queued.length > 0) {
    const desc = queued[0]!;
    let slot = slots[desc.partition % slots.length]!;
    if (slot.busy !== 0) slot = leastBusy();
    if (slot.busy >= MAX_TASKS_PER_THREAD) return;
    queued.shift();
    slot.busy++;
    slot.running.set(desc.taskId, desc);
    slot.worker.postMessage({ type: 'run', desc } satisfies MainToWorker);
    report({ taskId: desc.taskId, state: 'RUNNING' });
  }
}

/** The first thread with the fewest tasks (an idle one when there is one). */
function leastBusy(): Slot {
  let best = slots[0]!;
  for (const s of slots) if (s.busy < best.busy) best = s;
  return best;
}

function onDriverMessage(m: DriverToExecutor): void {
  switch (m.type) {
    case 'LaunchTasks':
      queued.push(...m.tasks);
      pump();
      break;
    case 'KillTasks':
      // tasks run to completion in their thread; the driver ignores their late results
      break;
    case 'RemoveRdd':
      for (const s of slots) s.worker.postMessage({ type: 'dropRdd', rddId: m.rddId } satisfies MainToWorker);
      break;
    case 'RemoveShuffle':
      void removeShuffleFiles(shuffleDir, m.shuffleId);
      break;
    case 'StopExecutor':
      void shutdown(m.reason, 0);
      break;
    case 'Registered':
      break;
  }
}

async function shutdown(reason: string, code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ reason }, 'executor stopping');
  await Promise.allSettled(slots.map((s) => s.worker.terminate()));
  await blockServer.close().catch(() => {});
  if (conn && !conn.isClosed) conn.close();
  fs.rmSync(workDir, { recursive: true, force: true });
  process.exit(code);
}

process.on('SIGTERM', () => void shutdown('SIGTERM', 0));
process.on('SIGINT', () => void shutdown('SIGINT', 0));

try {
  conn = await dial<DriverToExecutor, ExecutorToDriver>(
    {
      host: host!,
      port: Number(portStr),
      principal: appId,
      secret,
      parse: parseDriverToExecutor,
      name: 'driver',
      // a cluster-mode driver's port is bound (and dialed) before the user's main builds its context
      connectTimeoutMs: DRIVER_HANDSHAKE_WAIT_MS,
    },
    (m) => onDriverMessage(m),
  );
} catch (e) {
  log.error({ err: (e as Error).message, driver: driverUrl }, 'could not reach the driver');
  await shutdown('driver unreachable', 3);
}
conn!.on('close', () => void shutdown('driver connection closed', 0));
// register only once the task threads have loaded the engine, so the first tasks do not wait for it
log.debug({ sinceStartMs: Math.round(performance.now()) }, 'connected to the driver');
await Promise.all(slots.map((sl) => sl.ready));
log.debug({ sinceStartMs: Math.round(performance.now()) }, 'task threads ready');
await conn!.request({
  type: 'RegisterExecutor',
  executorId,
  host: advertised,
  cores,
  blockPort: blockServer.port,
  pid: process.pid,
  ...(env.CINDER_CONTAINER_ID ? { containerId: env.CINDER_CONTAINER_ID } : {}),
  ...(Number(env.CINDER_LAUNCH_REQUESTED_AT) > 0 ? { launchRequestedAt: Number(env.CINDER_LAUNCH_REQUESTED_AT) } : {}),
});
setInterval(() => {
  const mu = process.memoryUsage();
  conn.send({
    type: 'Heartbeat',
    executorId,
    rssBytes: mu.rss,
    heapUsedBytes: mu.heapUsed,
    runningTasks: slots.reduce((a, s) => a + s.busy, 0),
  });
}, heartbeatMs).unref();
