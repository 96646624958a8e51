/**
 * Task scheduler shell: owns executor slots and turns the world into task-set events
 * (task-set-machine.ts decides everything about a task set: which task a slot gets, retries, requeues,
 * zombies). It fills free slots from the ACTIVE task sets (FIFO by submission), batches launches and
 * status updates per executor, and carries out the machine's effects (launch, free a slot, report a
 * result / fetch failure / abort to the DAG scheduler, send KillTasks). Must not know about stages'
 * lineage (the DAG scheduler's job) nor about how executors are started (the backend's job).
 */
import type { WireError } from '../common/errors.js';
import { logger } from '../common/log.js';
import type { DriverToExecutor, ExecutorToDriver, TaskDescription, TaskStatus } from '../protocol/executor.js';
import type { RpcConnection } from '../rpc/index.js';
import {
  newTaskSetState,
  type TaskSetEffect,
  type TaskSetEvent,
  type TaskSetState,
  type TaskSpec,
  taskSetMachine,
} from './task-set-machine.js';

export type { TaskSpec } from './task-set-machine.js';

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
  /** the executor's main thread's V8 heap (last heartbeat) */
  heapUsedBytes?: number | undefined;
  /** the executor's log addresses (stdout, stderr), when it runs in a container */
  logUrls?: Record<string, string> | undefined;
  registeredAt: number;
  /** from the executor's launch request to its registration (ms), when known */
  launchToRegisterMs?: number | undefined;
}

export interface TaskSetCallbacks {
  onSuccess(partition: number, result: Uint8Array, status: TaskStatus, executorId: string): void;
  /** the task set is aborted: too many failures of one task */
  onAbort(error: Error): void;
  /** a reducer could not fetch a map output: the DAG scheduler resubmits the parent stage */
  onFetchFailed(shuffleId: number, mapIndex: number, executorId: string, error: WireError): void;
  onTaskStart?(partition: number): void;
}

/** A task set in the shell: the machine's state plus where its outcomes go. */
export class TaskSet {
  constructor(
    readonly state: TaskSetState,
    readonly cb: TaskSetCallbacks,
  ) {}
  get jobId(): number {
    return this.state.jobId;
  }
  get stageId(): number {
    return this.state.stageId;
  }
  get stageAttempt(): number {
    return this.state.stageAttempt;
  }
  get total(): number {
    return this.state.tasks.length;
  }
}

export interface TaskSchedulerConf {
  maxFailures: number;
  localityWaitMs: number;
  /** extra tasks per core an executor may queue when a task set's tasks are short (< 20 ms) */
  prefetchPerCore: number;
}

type OfferEvent = Extract<TaskSetEvent, { type: 'Offer' }>;

/** Where task attempts' starts and ends go (the UI's event recorder, src/ui/recorder.ts). */
export interface TaskEvents {
  taskStart(t: {
    taskId: number;
    stageId: number;
    stageAttempt: number;
    index: number;
    partition: number;
    attempt: number;
    executorId: string;
    host: string;
  }): void;
  /** a final status (FINISHED, FAILED, KILLED) of a live attempt */
  taskEnd(stageId: number, stageAttempt: number, status: TaskStatus): void;
}

export class TaskScheduler {
  readonly executors = new Map<string, ExecutorInfo>();
  /** ACTIVE task sets, in submission order */
  private readonly sets: TaskSet[] = [];
  /** live attempts: task id -> its set */
  private readonly attempts = new Map<number, TaskSet>();
  private nextTaskId = 0;
  private offerScheduled = false;
  private localityTimer: NodeJS.Timeout | undefined;
  /** reused for every offer of a round (the machine reads it synchronously) */
  private readonly offerEvent: OfferEvent = { type: 'Offer', executorId: '', taskId: 0, now: 0, alive: this.executors };
  stopped = false;
  /** set by the context when a UI or event log listens */
  taskEvents: TaskEvents | undefined;

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
    const hit = new Set<TaskSet>();
    for (const set of this.attempts.values()) hit.add(set);
    for (const set of hit) this.step(set, { type: 'ExecutorLost', executorId: id });
    if (!this.stopped) log.warn({ executorId: id, reason }, 'executor removed; its running tasks are rescheduled');
    this.scheduleOffers();
  }

  newTaskSet(jobId: number, stageId: number, stageAttempt: number, tasks: TaskSpec[], cb: TaskSetCallbacks): TaskSet {
    const state = newTaskSetState({ jobId, stageId, stageAttempt }, tasks, this.conf, this.now());
    return new TaskSet(state, cb);
  }

  submit(set: TaskSet): void {
    if (set.state.status !== 'ACTIVE') return;
    this.sets.push(set);
    this.scheduleOffers();
  }

  /** Stops launching from a task set; its running attempts are asked to stop and their results ignored. */
  kill(set: TaskSet, reason: string): void {
    this.step(set, { type: 'Kill', reason });
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
    const ev = this.offerEvent;
    ev.now = this.now();
    let waitingForLocality = false;
    /** executors that got a task in this round: they are filled up to their limit */
    const refilling = new Set<ExecutorInfo>();
    for (const set of this.sets) {
      const st = set.state;
      let progress = true;
      while (st.status === 'ACTIVE' && st.pending.length > 0 && progress) {
        progress = false;
        for (const e of this.executors.values()) {
          // short tasks may be sent ahead of free slots (up to `prefetch` per core) to hide the round trip;
          // an executor gets more only once half of those are done (refill), so each LaunchTasks carries
          // several tasks instead of one per finished task
          const ahead = st.shortTasks ? this.conf.prefetchPerCore * e.cores : 0;
          if (e.freeCores <= -ahead || st.pending.length === 0) continue;
          if (e.freeCores <= 0 && -e.freeCores > ahead / 2 && !refilling.has(e)) continue;
          ev.executorId = e.id;
          ev.taskId = this.nextTaskId;
          const f = taskSetMachine.step(st, ev).effects[0];
          if (f?.kind === 'WaitForLocality') waitingForLocality = true;
          if (f?.kind !== 'Launch') continue;
          this.nextTaskId++;
          this.attempts.set(f.taskId, set);
          e.freeCores--;
          refilling.add(e);
          set.cb.onTaskStart?.(f.partition);
          this.taskEvents?.taskStart({
            taskId: f.taskId,
            stageId: st.stageId,
            stageAttempt: st.stageAttempt,
            index: f.index,
            partition: f.partition,
            attempt: f.attempt,
            executorId: e.id,
            host: e.host,
          });
          const desc: TaskDescription = {
            taskId: f.taskId,
            attempt: f.attempt,
            stageId: st.stageId,
            partition: f.partition,
            body: st.tasks[f.index]!.body,
          };
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

  /** Applies a batch of status updates from one executor. */
  statusUpdates(_executorId: string, updates: TaskStatus[]): void {
    for (const u of updates) this.statusUpdate(u);
    this.scheduleOffers();
  }

  private statusUpdate(u: TaskStatus): void {
    const set = this.attempts.get(u.taskId);
    if (!set) return; // attempt already ended (lost executor)
    const taskId = u.taskId;
    if (u.state !== 'RUNNING') this.taskEvents?.taskEnd(set.stageId, set.stageAttempt, u);
    const ev: TaskSetEvent =
      u.state === 'RUNNING'
        ? { type: 'Running', taskId }
        : u.state === 'FINISHED'
          ? { type: 'Finished', taskId, runMs: u.metrics?.runMs }
          : u.state === 'KILLED' || u.failure?.kind === 'Killed'
            ? { type: 'Killed', taskId }
            : { type: 'Failed', taskId, failure: u.failure };
    this.step(set, ev, u);
  }

  /** Steps a task set and carries out its effects; `u` is the status update being applied, if any. */
  private step(set: TaskSet, ev: TaskSetEvent, u?: TaskStatus): void {
    const { effects } = taskSetMachine.step(set.state, ev);
    for (const f of effects) this.apply(set, f, u);
    if (set.state.status !== 'ACTIVE') {
      const i = this.sets.indexOf(set);
      if (i >= 0) this.sets.splice(i, 1);
    }
  }

  private apply(set: TaskSet, f: TaskSetEffect, u: TaskStatus | undefined): void {
    switch (f.kind) {
      case 'Succeeded':
        this.release(f.taskId, f.executorId);
        log.debug(
          { taskId: f.taskId, stageId: set.stageId, partition: f.partition, executorId: f.executorId },
          'task finished',
        );
        set.cb.onSuccess(f.partition, u?.result ?? new Uint8Array(), u!, f.executorId);
        return;
      case 'Ended':
        this.release(f.taskId, f.executorId);
        return;
      case 'Retry':
        log.warn(
          { stage: set.stageId, partition: f.partition, attempt: f.attempt, err: f.message },
          'task failed; retrying',
        );
        return;
      case 'FetchFailed':
        set.cb.onFetchFailed(f.shuffleId, f.mapIndex, f.executorId, f.error);
        return;
      case 'Aborted':
        set.cb.onAbort(f.error);
        return;
      case 'KillTasks':
        if (!this.stopped)
          this.executors.get(f.executorId)?.conn.send({ type: 'KillTasks', taskIds: f.taskIds, reason: f.reason });
        return;
      case 'Launch':
      case 'WaitForLocality':
        return; // only answers to offers, handled in offer()
    }
  }

  private release(taskId: number, executorId: string): void {
    this.attempts.delete(taskId);
    const e = this.executors.get(executorId);
    if (e) e.freeCores++;
  }

  stop(): void {
    this.stopped = true;
    if (this.localityTimer) clearTimeout(this.localityTimer);
    for (const s of [...this.sets]) this.kill(s, 'scheduler stopped');
  }
}
