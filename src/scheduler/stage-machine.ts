/**
 * The stage lifecycle (one entry per status × event; src/common/machine.ts). A stage is launched only
 * from `evaluate`, and `evaluate` launches only when every parent shuffle is complete in the map-output
 * registry; otherwise the stage waits and submits the incomplete parents. Losing outputs sends the
 * stage that wrote them back to IDLE and every stage reading them back to WAITING, so a stage never
 * runs against a missing map output.
 *
 *              Submit     ParentAvailable ParentLost    OutputsLost TaskSucceeded FetchFailed  TaskSetFailed JobEnded
 *   IDLE       evaluate   ·               ·             ·           ·(late)       ·(late)      ·(late)       forget
 *   WAITING    evaluate   evaluate        evaluate      ·           ·(late)       ·(late)      ·(late)       forget→IDLE?
 *   RUNNING    add job    ·               kill→WAITING  ·(at end)   record/finish retry|abort  abort→IDLE    forget→kill,IDLE?
 *   AVAILABLE  ·          ·               ·             →IDLE       ·(late)       ·(late)      ·(late)       forget
 *
 * (· = IGNORE; "late" = from an attempt that is no longer running.) A handler also checks that a task
 * event is for the running attempt: an older attempt's events are ignored the same way.
 */
import { CinderError } from '../common/errors.js';
import { defineMachine, IGNORE, type Transition } from '../common/machine.js';
import {
  type DagFx,
  type DagState,
  type FetchFailedEvent,
  outputsLost,
  type Stage,
  type StageEvent,
  type StageStatus,
  type TaskSetFailedEvent,
  type TaskSucceededEvent,
  toJob,
  toStage,
} from './dag-state.js';
import type { MapLocation } from './map-outputs.js';

/** What a stage transition sees: the stage and the DAG around it (updated in place). */
export interface StageCursor {
  readonly dag: DagState;
  readonly stage: Stage;
}

type T = Transition<StageCursor, DagFx>;
const done = (c: StageCursor, effects: DagFx[]): T => ({ state: c, effects });

/** A stage is complete when a job need not run it: all outputs registered / all results in. */
export function isComplete(dag: DagState, stageId: number): boolean {
  const s = dag.stages.get(stageId);
  if (!s) return false;
  return s.shuffleId === undefined ? s.status === 'AVAILABLE' : dag.outputs.isComplete(s.shuffleId);
}

function addJob(dag: DagState, stage: Stage, jobId: number): void {
  stage.jobs.add(jobId);
  dag.jobs.get(jobId)?.stages.add(stage.id);
}

/** The partitions a new attempt must compute. */
function missingPartitions(dag: DagState, stage: Stage): number[] {
  if (stage.shuffleId !== undefined) return dag.outputs.missing(stage.shuffleId);
  const job = dag.jobs.get(stage.jobId!);
  if (!job) return [];
  const out: number[] = [];
  for (const p of job.partitions) if (!job.results.has(p)) out.push(p);
  return out;
}

function firstJob(stage: Stage): number {
  let min = Number.POSITIVE_INFINITY;
  for (const j of stage.jobs) if (j < min) min = j;
  return min;
}

/** Launch if every parent is complete; otherwise wait and submit the incomplete parents for our jobs. */
function evaluate(c: StageCursor, effects: DagFx[] = []): T {
  const { dag, stage } = c;
  const missing = stage.parents.filter((p) => !isComplete(dag, p));
  if (missing.length > 0) {
    stage.status = 'WAITING';
    for (const p of missing) for (const j of stage.jobs) effects.push(toStage(p, { type: 'Submit', jobId: j }));
    return done(c, effects);
  }
  const partitions = missingPartitions(dag, stage);
  if (partitions.length === 0) return becomeAvailable(c, effects);
  stage.status = 'RUNNING';
  stage.attempt++;
  stage.pending.clear();
  for (const p of partitions) stage.pending.add(p);
  const mapLocations: Record<number, MapLocation[]> = {};
  for (const p of stage.parents) {
    const sid = dag.stages.get(p)!.shuffleId!;
    mapLocations[sid] = dag.outputs.locations(sid);
  }
  const jobId = firstJob(stage);
  effects.push(
    {
      kind: 'Emit',
      event: 'stageSubmitted',
      payload: { stageId: stage.id, attempt: stage.attempt, numTasks: partitions.length, jobId },
    },
    { kind: 'SubmitTaskSet', jobId, stageId: stage.id, attempt: stage.attempt, partitions, mapLocations },
  );
  return done(c, effects);
}

function becomeAvailable(c: StageCursor, effects: DagFx[]): T {
  const { stage } = c;
  stage.status = 'AVAILABLE';
  stage.failedAttempts = 0;
  stage.pending.clear();
  for (const child of stage.children) effects.push(toStage(child, { type: 'ParentAvailable' }));
  return done(c, effects);
}

function kill(stage: Stage, reason: string): DagFx {
  return { kind: 'KillTaskSet', stageId: stage.id, attempt: stage.attempt, reason };
}

/** The stage gives up: its jobs fail with `error`. */
function abort(c: StageCursor, error: Error, effects: DagFx[]): T {
  const { stage } = c;
  stage.status = 'IDLE';
  stage.failedAttempts = 0;
  stage.pending.clear();
  for (const j of stage.jobs) effects.push(toJob(j, { type: 'Fail', error }));
  return done(c, effects);
}

const submit = (c: StageCursor, e: { jobId: number }): T => {
  addJob(c.dag, c.stage, e.jobId);
  return evaluate(c);
};

const taskSucceeded = (c: StageCursor, e: TaskSucceededEvent): T => {
  const { dag, stage } = c;
  if (e.attempt !== stage.attempt || !stage.pending.delete(e.partition)) return done(c, []);
  const effects: DagFx[] = [
    { kind: 'TaskDone', stageId: stage.id, partition: e.partition, executorId: e.executorId, status: e.status },
  ];
  if (stage.shuffleId !== undefined) {
    // no map status: the executor died after finishing, its output is lost; recomputed at the attempt's end
    if (e.mapStatus) dag.outputs.register(stage.shuffleId, e.partition, e.mapStatus);
  } else {
    effects.push(toJob(stage.jobId!, { type: 'ResultTask', partition: e.partition, result: e.result ?? EMPTY }));
  }
  if (stage.pending.size > 0) return done(c, effects);
  effects.push({ kind: 'Emit', event: 'stageCompleted', payload: { stageId: stage.id, attempt: stage.attempt } });
  if (stage.shuffleId === undefined) {
    stage.status = 'AVAILABLE';
    return done(c, effects);
  }
  if (dag.outputs.isComplete(stage.shuffleId)) return becomeAvailable(c, effects);
  // outputs of this attempt were lost while it ran: a new attempt for them (not a failure)
  return evaluate(c, effects);
};
const EMPTY = new Uint8Array(0);

const fetchFailed = (c: StageCursor, e: FetchFailedEvent): T => {
  const { dag, stage } = c;
  if (e.attempt !== stage.attempt) return done(c, []);
  stage.failedAttempts++;
  const effects: DagFx[] = [kill(stage, `fetch failed: shuffle ${e.shuffleId} map ${e.mapIndex}`)];
  // like Spark without an external shuffle service: the executor's shuffle files are presumed lost
  const lost = new Set(dag.outputs.removeExecutor(e.executorId));
  if (dag.outputs.unregister(e.shuffleId, e.mapIndex, e.executorId)) lost.add(e.shuffleId);
  for (const sid of lost) effects.push(...outputsLost(dag, sid));
  if (stage.failedAttempts >= dag.conf.maxStageAttempts) {
    const why = `fetch failed: shuffle ${e.shuffleId} map ${e.mapIndex} on executor ${e.executorId}: ${e.message}`;
    return abort(
      c,
      new CinderError(
        'JOB_ABORTED',
        `Job aborted: stage ${stage.id} could not fetch shuffle data after ${dag.conf.maxStageAttempts} attempts: ${why}`,
        'the map outputs it reads kept disappearing (executors lost or shuffle files removed); see the executor logs',
      ),
      effects,
    );
  }
  stage.status = 'WAITING';
  stage.pending.clear();
  // re-evaluated once its parents are told (a lost parent of ours already tells us)
  if (!stage.parents.some((p) => lost.has(dag.stages.get(p)?.shuffleId ?? -1)))
    effects.push(toStage(stage.id, { type: 'ParentLost' }));
  return done(c, effects);
};

const taskSetFailed = (c: StageCursor, e: TaskSetFailedEvent): T => {
  if (e.attempt !== c.stage.attempt) return done(c, []);
  return abort(c, e.error, [kill(c.stage, 'task set aborted')]);
};

/** A parent's outputs went missing under a running attempt: stop it and recompute the parent first. */
const parentLostWhileRunning = (c: StageCursor): T => {
  const effects = [kill(c.stage, 'a parent map output was lost')];
  c.stage.pending.clear();
  return evaluate(c, effects);
};

const reevaluate = (c: StageCursor): T => evaluate(c);

const jobEnded = (c: StageCursor, e: { jobId: number }): T => {
  const { dag, stage } = c;
  stage.jobs.delete(e.jobId);
  const effects: DagFx[] = [];
  const orphan = stage.jobs.size === 0 || stage.jobId === e.jobId;
  if (orphan && stage.status === 'RUNNING') effects.push(kill(stage, `job ${e.jobId} ended`));
  if (orphan && (stage.status === 'RUNNING' || stage.status === 'WAITING')) {
    stage.status = 'IDLE';
    stage.pending.clear();
  }
  if (stage.jobId === e.jobId) {
    // a result stage lives as long as its job
    dag.stages.delete(stage.id);
    for (const p of stage.parents) dag.stages.get(p)?.children.delete(stage.id);
  }
  return done(c, effects);
};

type Status = StageStatus;
export const stageMachine = defineMachine<Status, StageCursor, StageEvent, DagFx>({
  name: 'stage',
  statuses: ['IDLE', 'WAITING', 'RUNNING', 'AVAILABLE'],
  status: (c) => c.stage.status,
  moveTo: (c, k) => {
    c.stage.status = k;
    return c;
  },
  subject: (c) => String(c.stage.id),
  table: {
    IDLE: {
      Submit: submit,
      ParentAvailable: IGNORE,
      ParentLost: IGNORE,
      OutputsLost: IGNORE,
      TaskSucceeded: IGNORE,
      FetchFailed: IGNORE,
      TaskSetFailed: IGNORE,
      JobEnded: jobEnded,
    },
    WAITING: {
      Submit: submit,
      ParentAvailable: reevaluate,
      ParentLost: reevaluate,
      OutputsLost: IGNORE, // it is recomputed when it launches
      TaskSucceeded: IGNORE,
      FetchFailed: IGNORE,
      TaskSetFailed: IGNORE,
      JobEnded: jobEnded,
    },
    RUNNING: {
      Submit: (c, e) => {
        addJob(c.dag, c.stage, e.jobId);
        return done(c, []);
      },
      // two parents completing in one step: the first one launched us
      ParentAvailable: IGNORE,
      ParentLost: parentLostWhileRunning,
      OutputsLost: IGNORE, // checked when the attempt's last task finishes
      TaskSucceeded: taskSucceeded,
      FetchFailed: fetchFailed,
      TaskSetFailed: taskSetFailed,
      JobEnded: jobEnded,
    },
    AVAILABLE: {
      Submit: IGNORE,
      ParentAvailable: IGNORE,
      ParentLost: IGNORE, // our outputs exist; the parents matter again only if we must recompute
      OutputsLost: 'IDLE',
      TaskSucceeded: IGNORE,
      FetchFailed: IGNORE,
      TaskSetFailed: IGNORE,
      JobEnded: jobEnded,
    },
  },
});
