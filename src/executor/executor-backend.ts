/**
 * The executor's main thread once its task threads are starting (./main.ts starts them first): the
 * connection to the driver (register, heartbeats, batched status updates), the block server, and
 * handing tasks to the threads.
 *
 * Owns: this executor's driver connection and task queue. Must not: run tasks (the threads do).
 */
import fs from 'node:fs';
import { logger } from '../common/log.js';
import { tracePhase } from '../common/startup-trace.js';
import {
  type DriverToExecutor,
  type ExecutorToDriver,
  parseDriverToExecutor,
  type TaskDescription,
  type TaskStatus,
} from '../protocol/executor.js';
import { dial, type ReplyHandle, type RpcConnection } from '../rpc/index.js';
import { startBlockServer } from '../shuffle/block-server.js';
import { removeShuffleFiles } from '../shuffle/shuffle-files.js';
import { codeCacheCheckpoint } from './code-cache.js';
import { killedStatus } from './killed.js';
import { profileThisThread, profileWorker } from './profiler.js';
import { StatusOutbox } from './status-outbox.js';
import type { Slot, TaskThreads } from './task-threads.js';
import type { MainToWorker, WorkerToMain } from './thread-protocol.js';

const env = process.env;
const DRIVER_HANDSHAKE_WAIT_MS = 120_000;
/** how long a killed task may take to reach its next batch before its thread is replaced */
const KILL_TIMEOUT_MS = Number(env.CINDER_TASK_KILL_TIMEOUT_MS ?? 1000);

export interface ExecutorConfig {
  driverUrl: string;
  executorId: string;
  appId: string;
  secret: string;
  cores: number;
  workDir: string;
  shuffleDir: string;
  threads: TaskThreads;
}

export async function runExecutor(cfg: ExecutorConfig): Promise<void> {
  const { driverUrl, executorId, appId, secret, cores, workDir, shuffleDir, threads } = cfg;
  const slots = threads.slots;
  const advertised = env.CINDER_HOST ?? env.CINDER_NM_HOST ?? '127.0.0.1';
  const bindHost = env.CINDER_BIND_HOST ?? advertised;
  const heartbeatMs = Number(env.CINDER_HEARTBEAT_MS ?? 10_000);
  const log = logger('executor', { executorId, appId });
  log.debug({ sinceStartMs: Math.round(performance.now()) }, 'executor modules loaded');

  const [host, portStr] = driverUrl.split(/:(?=\d+$)/);
  const blockServer = await startBlockServer({
    dir: shuffleDir,
    host: bindHost,
    secretFor: (p: string) => (p === appId ? secret : undefined),
  });

  let conn: RpcConnection<DriverToExecutor, ExecutorToDriver>;
  let stopping = false;

  threads.attach({
    onMessage: (slot, m) => onWorkerMessage(slot, m),
    onDeath: (slot, why) => {
      if (stopping) return;
      log.error({ thread: slot.index, why }, 'task thread died; failing its tasks and starting a new thread');
      // the task the thread was running; when it died between tasks (e.g. a timer a finished task left
      // threw) no one is known, and every task it held counts, so such a task cannot retry forever
      const running = slot.current[0];
      const innocent = (taskId: number) => running !== -1 && taskId !== running;
      for (const desc of slot.running.values())
        report({
          taskId: desc.taskId,
          state: 'FAILED',
          failure: {
            kind: 'Exception',
            error: {
              name: 'TaskThreadDied',
              message: innocent(desc.taskId)
                ? // queued behind the task that was running, or finished with its status not yet sent
                  `the task thread this task was handed to died while another task (${running}) ran: ${why}; this one runs again and does not count as a failure`
                : why === 'out of memory'
                  ? `the task thread running this task ran out of memory: each task thread has an old-generation heap of ${threads.oldGenMb} MB (60% of cinder.executor.memory / cinder.executor.cores); raise cinder.executor.memory or use more, smaller partitions`
                  : `the task thread running this task died: ${why} (an error thrown outside the task, e.g. from an event emitter the task created)`,
            },
            countsTowardFailures: !innocent(desc.taskId),
          },
        });
      pump();
    },
  });

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

  const outbox = new StatusOutbox({
    send: (updates) => conn.send({ type: 'StatusUpdates', executorId, updates }),
    waiting: () => queued.length,
  });
  function report(s: TaskStatus): void {
    outbox.report(s);
  }

  function onWorkerMessage(slot: Slot, m: Exclude<WorkerToMain, { type: 'ready' }>): void {
    switch (m.type) {
      case 'status':
        for (const st of m.statuses) {
          slot.busy--;
          slot.running.delete(st.taskId);
          report(st);
        }
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
   * (the driver sends more than free slots only for short tasks), up to seven more, so it need not wait for a
   * round trip to the main thread between tasks. The thread still runs them one at a time.
   */
  const MAX_TASKS_PER_THREAD = 8;

  /**
   * Starts queued tasks on idle threads (preferring the thread that may hold a partition's cached blocks),
   * then hands the least busy threads more, up to MAX_TASKS_PER_THREAD each.
   */
  function pump(): void {
    const handed = new Map<Slot, TaskDescription[]>();
    while (queued.length > 0) {
      const desc = queued[0]!;
      let slot = slots[desc.partition % slots.length]!;
      if (slot.busy !== 0) slot = leastBusy();
      if (slot.busy >= MAX_TASKS_PER_THREAD) break;
      queued.shift();
      slot.busy++;
      slot.running.set(desc.taskId, desc);
      const batch = handed.get(slot);
      if (batch) batch.push(desc);
      else handed.set(slot, [desc]);
      report({ taskId: desc.taskId, state: 'RUNNING' });
    }
    // one message per thread for what it got (each message wakes the thread)
    for (const [slot, descs] of handed) slot.worker.postMessage({ type: 'run', descs } satisfies MainToWorker);
    outbox.schedule(); // the queue may have run dry: held statuses go now
  }

  /**
   * Stops tasks the driver no longer wants (job cancelled, stage aborted): a queued one at once, one
   * waiting in a thread's queue by that thread, the running one at its next batch; a task still running
   * KILL_TIMEOUT_MS later (user code that never yields) is stopped by replacing its thread, whose other
   * queued tasks go back to this queue. Each ends with a KILLED status, which frees its slot on the driver.
   */
  function killTasks(taskIds: number[], reason: string): void {
    const ids = new Set(taskIds);
    for (let i = queued.length - 1; i >= 0; i--)
      if (ids.has(queued[i]!.taskId)) {
        report(killedStatus(queued[i]!.taskId, reason));
        queued.splice(i, 1);
      }
    for (const slot of slots) {
      const mine = [...slot.running.keys()].filter((id) => ids.has(id));
      if (mine.length === 0) continue;
      slot.worker.postMessage({ type: 'kill', taskIds: mine, reason } satisfies MainToWorker);
      setTimeout(() => {
        const stuck = mine.filter((id) => slot.running.has(id));
        if (stuck.length === 0 || slot.retired || stopping) return;
        log.warn({ thread: slot.index, taskIds: stuck, reason }, 'task did not stop when killed; replacing its thread');
        threads.replace(slot);
        for (const id of stuck) report(killedStatus(id, reason));
        const others = [...slot.running.values()].filter((d) => !stuck.includes(d.taskId));
        slot.running.clear();
        queued.unshift(...others);
        pump();
      }, KILL_TIMEOUT_MS).unref();
    }
    pump();
  }

  /** The first thread with the fewest tasks (an idle one when there is one). */
  function leastBusy(): Slot {
    let best = slots[0]!;
    for (const s of slots) if (s.busy < best.busy) best = s;
    return best;
  }

  function onDriverMessage(m: DriverToExecutor, reply: ReplyHandle | undefined): void {
    switch (m.type) {
      case 'Profile': {
        const slot = m.thread >= 0 ? slots[m.thread] : undefined;
        if (m.thread >= 0 && !slot) {
          reply?.fail(new Error(`no task thread ${m.thread} (this executor has ${slots.length})`));
          break;
        }
        (slot ? profileWorker(slot.worker.threadId, m.kind, m.seconds) : profileThisThread(m.kind, m.seconds)).then(
          (d) => reply?.reply(d),
          (e) => reply?.fail(e),
        );
        break;
      }
      case 'LaunchTasks':
        queued.push(...m.tasks);
        pump();
        break;
      case 'KillTasks':
        killTasks(m.taskIds, m.reason);
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
    tracePhase(`executor-${executorId}`, 'stop received');
    log.info({ reason }, 'executor stopping');
    await threads.terminate();
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
      (m, reply) => onDriverMessage(m, reply),
    );
  } catch (e) {
    log.error({ err: (e as Error).message, driver: driverUrl }, 'could not reach the driver');
    await shutdown('driver unreachable', 3);
  }
  conn!.on('close', () => void shutdown('driver connection closed', 0));
  // register only once the task threads have loaded the engine, so the first tasks do not wait for it
  log.debug({ sinceStartMs: Math.round(performance.now()) }, 'connected to the driver');
  tracePhase(`executor-${executorId}`, 'connected to the driver (handshake)');
  await threads.ready();
  const cpu = process.cpuUsage();
  log.debug(
    { sinceStartMs: Math.round(performance.now()), cpuMs: Math.round((cpu.user + cpu.system) / 1000) },
    'task threads ready',
  );
  await conn!.request({
    type: 'RegisterExecutor',
    executorId,
    host: advertised,
    cores,
    blockPort: blockServer.port,
    pid: process.pid,
    ...(env.CINDER_CONTAINER_ID ? { containerId: env.CINDER_CONTAINER_ID } : {}),
    ...(Number(env.CINDER_LAUNCH_REQUESTED_AT) > 0
      ? { launchRequestedAt: Number(env.CINDER_LAUNCH_REQUESTED_AT) }
      : {}),
  });
  tracePhase(`executor-${executorId}`, 'registered');
  codeCacheCheckpoint();
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
}
