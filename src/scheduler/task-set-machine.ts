/**
 * The task-set lifecycle (src/common/machine.ts): one stage attempt's tasks, from pending to launched
 * attempts to one accepted result per partition. Decides which pending task an offered slot gets
 * (cached-input locality with a wait), counts failures against maxFailures, requeues the tasks of lost
 * executors and killed tasks without counting them, and ignores what a set that is no longer ACTIVE
 * still hears from its running attempts (zombie results after a kill or a fetch failure).
 *
 *              Offer    Running  Finished             Failed                      Killed    ExecutorLost   Kill
 *   ACTIVE     launch?  note     accept;all→SUCCEEDED  fetch→ZOMBIE|retry|→ABORTED  requeue   requeue its    kill running→ZOMBIE
 *   ZOMBIE     ✗        note     drain                drain                       drain     drain          kill running
 *   SUCCEEDED  ✗        note     drain                drain                       drain     drain          kill running
 *   ABORTED    ✗        note     drain                drain                       drain     drain          kill running
 *
 * (✗ = InvalidTransition, drain = the attempt ends and frees its slot, nothing else; kill running = ask
 * the executors to stop the running attempts, whose KILLED reports drain them.)
 * Every attempt that ends yields exactly one Succeeded or Ended effect: the shell frees its slot there.
 * Time comes in Offer events (`now`); no I/O, no clock. State is updated in place.
 */
import { CinderError, fromWireError, type WireError } from '../common/errors.js';
import { defineMachine, type Transition } from '../common/machine.js';
import type { TaskFailure } from '../protocol/executor.js';
import { stepTask, type TaskState } from './task-state.js';

export interface TaskSpec {
  partition: number;
  body: Uint8Array;
  /** executor ids that hold this task's cached input */
  preferred: string[];
  /** the input exists only where it is cached (a locally checkpointed RDD): the task runs on a preferred
   * executor while one lives, however long the locality wait */
  localOnly?: boolean;
}

export type TaskSetStatus = 'ACTIVE' | 'ZOMBIE' | 'SUCCEEDED' | 'ABORTED';

export interface RunningTask {
  readonly taskId: number;
  /** index into `tasks` */
  readonly index: number;
  readonly attempt: number;
  readonly executorId: string;
  state: TaskState;
}

export interface TaskSetConf {
  maxFailures: number;
  localityWaitMs: number;
}

export interface TaskSetState {
  status: TaskSetStatus;
  readonly jobId: number;
  readonly stageId: number;
  readonly stageAttempt: number;
  readonly tasks: readonly TaskSpec[];
  readonly conf: TaskSetConf;
  /** task indexes waiting for a slot, next first */
  readonly pending: number[];
  /** per task index: attempts launched, failures counted, accepted */
  readonly attempts: number[];
  readonly failures: number[];
  readonly done: Uint8Array;
  numDone: number;
  /** live attempts by task id */
  readonly running: Map<number, RunningTask>;
  /** whether any task prefers particular executors (cached input); if not, offers skip locality scans */
  readonly hasPreferences: boolean;
  lastLocalLaunch: number;
  /** set once finished tasks show this set's tasks are short: their launches may be prefetched */
  shortTasks: boolean;
  runMsTotal: number;
  runMsCount: number;
}

export function newTaskSetState(
  ids: { jobId: number; stageId: number; stageAttempt: number },
  tasks: readonly TaskSpec[],
  conf: TaskSetConf,
  now: number,
): TaskSetState {
  const n = tasks.length;
  return {
    status: 'ACTIVE',
    ...ids,
    tasks,
    conf,
    pending: Array.from({ length: n }, (_, i) => i),
    attempts: new Array<number>(n).fill(0),
    failures: new Array<number>(n).fill(0),
    done: new Uint8Array(n),
    numDone: 0,
    running: new Map(),
    hasPreferences: tasks.some((t) => t.preferred.length > 0),
    lastLocalLaunch: now,
    shortTasks: false,
    runMsTotal: 0,
    runMsCount: 0,
  };
}

export type TaskSetEvent =
  /** a slot on `executorId`; `taskId` is the id to use if a task is launched; `alive` = live executors */
  | { type: 'Offer'; executorId: string; taskId: number; now: number; alive: ReadonlyMap<string, unknown> }
  | { type: 'Running'; taskId: number }
  | { type: 'Finished'; taskId: number; runMs: number | undefined }
  | { type: 'Failed'; taskId: number; failure: TaskFailure | undefined }
  /** the executor reports the attempt killed: not the task's fault */
  | { type: 'Killed'; taskId: number }
  | { type: 'ExecutorLost'; executorId: string }
  | { type: 'Kill'; reason: string };

export type TaskSetEffect =
  | { kind: 'Launch'; taskId: number; index: number; partition: number; attempt: number; executorId: string }
  /** pending tasks prefer other (live) executors and the locality wait is not over */
  | { kind: 'WaitForLocality' }
  /** the partition's first result: forward it */
  | { kind: 'Succeeded'; taskId: number; partition: number; executorId: string }
  /** an attempt ended without a result to forward */
  | { kind: 'Ended'; taskId: number; executorId: string }
  | { kind: 'Retry'; partition: number; attempt: number; failures: number; message: string }
  | { kind: 'FetchFailed'; shuffleId: number; mapIndex: number; executorId: string; error: WireError }
  | { kind: 'Aborted'; error: Error }
  | { kind: 'KillTasks'; executorId: string; taskIds: number[]; reason: string };

type T = Transition<TaskSetState, TaskSetEffect>;
type Ev<K extends TaskSetEvent['type']> = Extract<TaskSetEvent, { type: K }>;

const offer = (s: TaskSetState, e: Ev<'Offer'>): T => {
  if (s.pending.length === 0) return { state: s, effects: [] };
  let pos = 0;
  let local = false;
  if (s.hasPreferences) {
    pos = s.pending.findIndex((i) => s.tasks[i]!.preferred.includes(e.executorId));
    local = pos >= 0;
    if (pos < 0) {
      const relax = e.now - s.lastLocalLaunch >= s.conf.localityWaitMs;
      pos = s.pending.findIndex((i) => {
        const t = s.tasks[i]!;
        const p = t.preferred;
        return (relax && !t.localOnly) || p.length === 0 || !p.some((x) => e.alive.has(x));
      });
    }
    if (pos < 0) return { state: s, effects: [{ kind: 'WaitForLocality' }] };
  }
  const index = pos === 0 ? s.pending.shift()! : s.pending.splice(pos, 1)[0]!;
  if (local) s.lastLocalLaunch = e.now;
  const attempt = s.attempts[index]!;
  s.attempts[index] = attempt + 1;
  s.running.set(e.taskId, {
    taskId: e.taskId,
    index,
    attempt,
    executorId: e.executorId,
    state: stepTask('PENDING', 'launch')!,
  });
  const partition = s.tasks[index]!.partition;
  return {
    state: s,
    effects: [{ kind: 'Launch', taskId: e.taskId, index, partition, attempt, executorId: e.executorId }],
  };
};

const running = (s: TaskSetState, e: Ev<'Running'>): T => {
  const a = s.running.get(e.taskId);
  if (a) a.state = stepTask(a.state, 'running') ?? a.state;
  return { state: s, effects: [] };
};

/** Ends attempt `taskId` with `how`; undefined if it is not a live attempt of this set. */
function end(s: TaskSetState, taskId: number, how: 'finished' | 'failed' | 'killed' | 'lost'): RunningTask | undefined {
  const a = s.running.get(taskId);
  if (!a) return undefined;
  a.state = stepTask(a.state, how) ?? a.state;
  s.running.delete(taskId);
  return a;
}

const ended = (a: RunningTask): TaskSetEffect => ({ kind: 'Ended', taskId: a.taskId, executorId: a.executorId });

const finished = (s: TaskSetState, e: Ev<'Finished'>): T => {
  const a = end(s, e.taskId, 'finished');
  if (!a) return { state: s, effects: [] };
  if (s.done[a.index]) return { state: s, effects: [ended(a)] };
  s.done[a.index] = 1;
  s.numDone++;
  if (e.runMs !== undefined) {
    s.runMsTotal += e.runMs;
    s.runMsCount++;
    s.shortTasks = s.runMsCount >= 2 && s.runMsTotal / s.runMsCount < 20;
  }
  if (s.numDone === s.tasks.length) s.status = 'SUCCEEDED';
  const partition = s.tasks[a.index]!.partition;
  return { state: s, effects: [{ kind: 'Succeeded', taskId: a.taskId, partition, executorId: a.executorId }] };
};

const failed = (s: TaskSetState, e: Ev<'Failed'>): T => {
  const a = end(s, e.taskId, 'failed');
  if (!a) return { state: s, effects: [] };
  const effects: TaskSetEffect[] = [ended(a)];
  if (s.done[a.index]) return { state: s, effects };
  const f = e.failure;
  const partition = s.tasks[a.index]!.partition;
  if (f?.kind === 'FetchFailed') {
    // the stage attempt is over: the DAG scheduler recomputes the map output and starts a new one
    s.status = 'ZOMBIE';
    s.pending.length = 0;
    effects.push({
      kind: 'FetchFailed',
      shuffleId: f.shuffleId,
      mapIndex: f.mapIndex,
      executorId: f.executorId,
      error: f.error,
    });
    return { state: s, effects };
  }
  if (f?.kind === 'Killed') {
    s.pending.unshift(a.index);
    return { state: s, effects };
  }
  const n = s.failures[a.index]! + (f?.kind === 'Exception' && !f.countsTowardFailures ? 0 : 1);
  s.failures[a.index] = n;
  const err: WireError = f?.kind === 'Exception' ? f.error : { name: 'Error', message: 'task failed' };
  if (n >= s.conf.maxFailures) {
    s.status = 'ABORTED';
    s.pending.length = 0;
    const error = new CinderError(
      'JOB_ABORTED',
      `Job aborted: task ${partition} in stage ${s.stageId} failed ${n} times; most recent failure on executor ${a.executorId}: ${err.name}: ${err.message}`,
    );
    error.cause = fromWireError(err);
    (error as { remoteStack?: string }).remoteStack = err.stack;
    effects.push({ kind: 'Aborted', error });
    return { state: s, effects };
  }
  s.pending.push(a.index);
  effects.push({ kind: 'Retry', partition, attempt: a.attempt, failures: n, message: err.message });
  return { state: s, effects };
};

const killed = (s: TaskSetState, e: Ev<'Killed'>): T => {
  const a = end(s, e.taskId, 'killed');
  if (!a) return { state: s, effects: [] };
  if (!s.done[a.index]) s.pending.unshift(a.index);
  return { state: s, effects: [ended(a)] };
};

/** A lost executor's attempts end; in an ACTIVE set their tasks go back to the front, not counted as failures. */
const executorLost = (s: TaskSetState, e: Ev<'ExecutorLost'>): T => {
  const effects: TaskSetEffect[] = [];
  for (const a of s.running.values()) {
    if (a.executorId !== e.executorId) continue;
    end(s, a.taskId, 'lost');
    effects.push(ended(a));
    if (s.status === 'ACTIVE' && !s.done[a.index]) s.pending.unshift(a.index);
  }
  return { state: s, effects };
};

/** Late reports of a set that is over: the attempt ends (its slot is freed), its outcome is ignored. */
const drain =
  (how: 'finished' | 'failed' | 'killed') =>
  (s: TaskSetState, e: { taskId: number }): T => {
    const a = end(s, e.taskId, how);
    return { state: s, effects: a ? [ended(a)] : [] };
  };

const kill = (s: TaskSetState, e: Ev<'Kill'>): T => {
  s.status = 'ZOMBIE';
  s.pending.length = 0;
  return killRunning(s, e);
};

/** Asks the executors to stop this set's running attempts (their KILLED reports then free the slots). */
const killRunning = (s: TaskSetState, e: Ev<'Kill'>): T => {
  const byExecutor = new Map<string, number[]>();
  for (const a of s.running.values()) {
    let ids = byExecutor.get(a.executorId);
    if (!ids) byExecutor.set(a.executorId, (ids = []));
    ids.push(a.taskId);
  }
  const effects: TaskSetEffect[] = [];
  for (const [executorId, taskIds] of byExecutor)
    effects.push({ kind: 'KillTasks', executorId, taskIds, reason: e.reason });
  return { state: s, effects };
};

const over = {
  Running: running,
  Finished: drain('finished'),
  Failed: drain('failed'),
  Killed: drain('killed'),
  ExecutorLost: executorLost,
  // a set that is over (aborted, zombie after a fetch failure) may still have attempts running
  Kill: killRunning,
} as const;

export const taskSetMachine = defineMachine<TaskSetStatus, TaskSetState, TaskSetEvent, TaskSetEffect>({
  name: 'task set',
  statuses: ['ACTIVE', 'ZOMBIE', 'SUCCEEDED', 'ABORTED'],
  status: (s) => s.status,
  moveTo: (s, k) => {
    s.status = k;
    return s;
  },
  subject: (s) => `${s.stageId}.${s.stageAttempt}`,
  table: {
    ACTIVE: {
      Offer: offer,
      Running: running,
      Finished: finished,
      Failed: failed,
      Killed: killed,
      ExecutorLost: executorLost,
      Kill: kill,
    },
    ZOMBIE: over,
    SUCCEEDED: over,
    ABORTED: over,
  },
});
