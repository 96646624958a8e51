/**
 * Task scheduler: fills executor task slots from the queued task sets (FIFO by job), prefers the
 * executors that hold a task's cached input (delay scheduling with a locality wait), retries failed
 * tasks up to maxFailures, and re-queues the tasks of lost executors. Launches and status updates are
 * batched per executor. Owns: executor slots, task attempts. Must not know about stages' lineage
 * (that is the DAG scheduler's job) nor about how executors are started (the backend's job).
 */
import { CinderError, fromWireError, type WireError } from '../common/errors.js';
import { logger } from '../common/log.js';
import type { DriverToExecutor, ExecutorToDriver, TaskDescription, TaskStatus } from '../protocol/executor.js';
import type { RpcConnection } from '../rpc/index.js';
import { stepTask, type TaskState } from './task-state.js';

const log = logger('task-scheduler');

export interface ExecutorInfo {
  id: string;
  host: string;
  cores: number;
  freeCores: number;
  blockPort: number;
  pid: number;
  containerId?: string | undefined;
  conn: RpcConnection<ExecutorToDriver, DriverToExecutor>;
  lastHeartbeat: number;
  rssBytes: number;
  registeredAt: number;
  /** from the executor's launch request to its registration (ms), when known */
  launchToRegisterMs?: number | undefined;
}

export interface TaskSpec {
  partition: number;
  body: Uint8Array;
  /** executor ids that hold this task's cached input */
  preferred: string[];
}

export interface TaskSetCallbacks {
  onSuccess(partition: number, result: Uint8Array, status: TaskStatus, executorId: string): void;
  /** the task set is aborted: too many failures of one task, or an unrecoverable error */
  onAbort(error: Error): void;
  /** a reducer could not fetch a map output: the DAG scheduler resubmits the parent stage */
  onFetchFailed(shuffleId: number, mapIndex: number, executorId: string, error: WireError): void;
  onTaskStart?(partition: number): void;
}

interface Attempt {
  taskId: number;
  partition: number;
  attempt: number;
  executorId: string;
  state: TaskState;
  set: TaskSet;
}

export class TaskSet {
  readonly pending: TaskSpec[] = [];
  readonly failures = new Map<number, number>();
  readonly done = new Set<number>();
  readonly attempts = new Map<number, number>(); // partition -> attempts so far
  running = 0;
  zombie = false;
  /** set once finished tasks show this set's tasks are short: their launches may be prefetched */
  shortTasks = false;
  private runMsTotal = 0;
  private runMsCount = 0;
  noteRunMs(ms: number): void {
    this.runMsTotal += ms;
    this.runMsCount++;
    this.shortTasks = this.runMsCount >= 2 && this.runMsTotal / this.runMsCount < 20;
  }
  /** whether any task prefers particular executors (cached input); if not, offers skip locality scans */
  readonly hasPreferences: boolean;
  lastLocalLaunch: number;
  constructor(
    readonly jobId: number,
    readonly stageId: number,
    readonly stageAttempt: number,
    readonly tasks: TaskSpec[],
    readonly cb: TaskSetCallbacks,
    now: number,
  ) {
    this.pending.push(...tasks);
    this.lastLocalLaunch = now;
    this.hasPreferences = tasks.some((t) => t.preferred.length > 0);
  }
  get total(): number {
    return this.tasks.length;
  }
}

export interface TaskSchedulerConf {
  maxFailures: number;
  localityWaitMs: number;
  /** extra tasks per core an executor may queue when a task set's tasks are short (< 20 ms) */
  prefetchPerCore: number;
}

export class TaskScheduler {
  readonly executors = new Map<string, ExecutorInfo>();
  private readonly sets: TaskSet[] = [];
  private readonly attempts = new Map<number, Attempt>();
  private nextTaskId = 0;
  private offerScheduled = false;
  private localityTimer: NodeJS.Timeout | undefined;
  stopped = false;

  constructor(
    private readonly conf: TaskSchedulerConf,
    private readonly now: () => number = Date.now,
  ) {}

  addExecutor(e: ExecutorInfo): void {
    this.executors.set(e.id, e);
    this.scheduleOffers();
  }

  /** Removes an executor; its running tasks go back to pending without counting as failures. */
  removeExecutor(id: string, reason: string): void {
    if (!this.executors.delete(id)) return;
    for (const a of [...this.attempts.values()]) {
      if (a.executorId !== id) continue;
      const next = stepTask(a.state, 'lost');
      if (next) {
        a.state = next;
        this.attempts.delete(a.taskId);
        a.set.running--;
        if (!a.set.zombie && !a.set.done.has(a.partition)) {
          const spec = a.set.tasks.find((t) => t.partition === a.partition)!;
          a.set.pending.unshift(spec);
        }
      }
    }
    if (!this.stopped) log.warn({ executorId: id, reason }, 'executor removed; its running tasks are rescheduled');
    this.scheduleOffers();
  }

  submit(set: TaskSet): void {
    this.sets.push(set);
    this.scheduleOffers();
  }

  /** Stops launching from a task set; its running attempts' results are ignored. */
  abandon(set: TaskSet): void {
    set.zombie = true;
    set.pending.length = 0;
    const i = this.sets.indexOf(set);
    if (i >= 0) this.sets.splice(i, 1);
  }

  newTaskSet(jobId: number, stageId: number, stageAttempt: number, tasks: TaskSpec[], cb: TaskSetCallbacks): TaskSet {
    return new TaskSet(jobId, stageId, stageAttempt, tasks, cb, this.now());
  }

  get totalCores(): number {
    let n = 0;
    for (const e of this.executors.values()) n += e.cores;
    return n;
  }

  private scheduleOffers(): void {
    if (this.offerScheduled || this.stopped) return;
    this.offerScheduled = true;
    setImmediate(() => {
      this.offerScheduled = false;
      this.offer();
    });
  }

  /** One scheduling round: fills free slots and sends one LaunchTasks per executor. */
  offer(): void {
    const batches = new Map<string, TaskDescription[]>();
    const now = this.now();
    let waitingForLocality = false;
    for (const set of this.sets) {
      if (set.pending.length === 0) continue;
      const relax = now - set.lastLocalLaunch >= this.conf.localityWaitMs;
      let progress = true;
      while (set.pending.length > 0 && progress) {
        progress = false;
        for (const e of this.executors.values()) {
          // short tasks may be sent ahead of free slots (up to `prefetch` per core) to hide the round trip
          const ahead = set.shortTasks ? this.conf.prefetchPerCore * e.cores : 0;
          if (e.freeCores <= -ahead || set.pending.length === 0) continue;
          // fast path: a task set without locality preferences takes its first pending task
          let idx = set.hasPreferences ? set.pending.findIndex((t) => t.preferred.includes(e.id)) : -1;
          let local = idx >= 0;
          if (idx < 0) {
            idx = set.hasPreferences
              ? set.pending.findIndex(
                  (t) => relax || t.preferred.length === 0 || !t.preferred.some((p) => this.executors.has(p)),
                )
              : 0;
            local = false;
          }
          if (idx < 0) {
            waitingForLocality = true;
            continue;
          }
          const spec = set.pending.splice(idx, 1)[0]!;
          if (local) set.lastLocalLaunch = now;
          const desc = this.launch(set, spec, e);
          let b = batches.get(e.id);
          if (!b) batches.set(e.id, (b = []));
          b.push(desc);
          progress = true;
        }
      }
    }
    for (const [id, tasks] of batches) this.executors.get(id)?.conn.send({ type: 'LaunchTasks', tasks });
    if (waitingForLocality && !this.localityTimer) {
      this.localityTimer = setTimeout(() => {
        this.localityTimer = undefined;
        this.scheduleOffers();
      }, this.conf.localityWaitMs);
      this.localityTimer.unref();
    }
  }

  private launch(set: TaskSet, spec: TaskSpec, e: ExecutorInfo): TaskDescription {
    const taskId = this.nextTaskId++;
    const attempt = set.attempts.get(spec.partition) ?? 0;
    set.attempts.set(spec.partition, attempt + 1);
    const a: Attempt = { taskId, partition: spec.partition, attempt, executorId: e.id, state: 'PENDING', set };
    a.state = stepTask(a.state, 'launch')!;
    this.attempts.set(taskId, a);
    e.freeCores--;
    set.running++;
    set.cb.onTaskStart?.(spec.partition);
    return { taskId, attempt, stageId: set.stageId, partition: spec.partition, body: spec.body };
  }

  /** Applies a batch of status updates from one executor. */
  statusUpdates(executorId: string, updates: TaskStatus[]): void {
    for (const u of updates) this.statusUpdate(executorId, u);
    this.scheduleOffers();
  }

  private statusUpdate(executorId: string, u: TaskStatus): void {
    const a = this.attempts.get(u.taskId);
    if (!a) return; // attempt already ended (lost executor, aborted set)
    const event =
      u.state === 'RUNNING'
        ? 'running'
        : u.state === 'FINISHED'
          ? 'finished'
          : u.state === 'KILLED'
            ? 'killed'
            : 'failed';
    const next = stepTask(a.state, event);
    if (!next) return;
    a.state = next;
    if (next === 'RUNNING') return;
    this.attempts.delete(u.taskId);
    const e = this.executors.get(executorId);
    if (e) e.freeCores++;
    const set = a.set;
    set.running--;
    if (set.zombie) return;
    if (next === 'FINISHED') {
      if (set.done.has(a.partition)) return;
      set.done.add(a.partition);
      if (u.metrics) set.noteRunMs(u.metrics.runMs);
      log.debug(
        { taskId: u.taskId, stageId: set.stageId, partition: a.partition, executorId, runMs: u.metrics?.runMs },
        'task finished',
      );
      set.cb.onSuccess(a.partition, u.result ?? new Uint8Array(), u, executorId);
      if (set.done.size === set.total) this.abandon(set);
      return;
    }
    const f = u.failure;
    if (f?.kind === 'FetchFailed') {
      this.abandon(set);
      set.cb.onFetchFailed(f.shuffleId, f.mapIndex, f.executorId, f.error);
      return;
    }
    if (f?.kind === 'Killed' || next === 'KILLED') {
      set.pending.unshift(set.tasks.find((t) => t.partition === a.partition)!);
      return;
    }
    const n = (set.failures.get(a.partition) ?? 0) + (f?.kind === 'Exception' && !f.countsTowardFailures ? 0 : 1);
    set.failures.set(a.partition, n);
    const err = f?.kind === 'Exception' ? f.error : { name: 'Error', message: 'task failed' };
    if (n >= this.conf.maxFailures) {
      this.abandon(set);
      const cause = fromWireError(err);
      const e2 = new CinderError(
        'JOB_ABORTED',
        `Job aborted: task ${a.partition} in stage ${set.stageId} failed ${n} times; most recent failure on executor ${executorId}: ${err.name}: ${err.message}`,
      );
      e2.cause = cause;
      (e2 as { remoteStack?: string }).remoteStack = err.stack;
      set.cb.onAbort(e2);
      return;
    }
    log.warn(
      { stage: set.stageId, partition: a.partition, attempt: a.attempt, err: err.message },
      'task failed; retrying',
    );
    set.pending.push(set.tasks.find((t) => t.partition === a.partition)!);
  }

  stop(): void {
    this.stopped = true;
    if (this.localityTimer) clearTimeout(this.localityTimer);
    for (const s of [...this.sets]) this.abandon(s);
  }
}
