/**
 * The DAG scheduler's state, events and effects: plain data shared by the job, stage and DAG tables
 * (job-machine.ts, stage-machine.ts, dag-machine.ts) and the shell that carries the effects out
 * (dag-scheduler.ts). Nothing here does I/O or reads a clock.
 */
import type { TaskStatus } from '../protocol/executor.js';
import { type MapLocation, MapOutputRegistry, type MapStatus } from './map-outputs.js';

export interface DagConf {
  /** fetch-failed attempts of one stage before its jobs abort (spark.stage.maxConsecutiveAttempts) */
  maxStageAttempts: number;
  /** total result bytes of one job (spark.driver.maxResultSize) */
  maxResultSize: number;
}

/**
 * IDLE: known, no active job waits for it (a shuffle stage may hold some or all outputs; see AVAILABLE).
 * WAITING: an active job needs it and some parent shuffle is incomplete; those parents are submitted.
 * RUNNING: one task set (attempt `attempt`) computes the `pending` partitions.
 * AVAILABLE: a shuffle stage whose outputs are all registered, or a result stage with every result in.
 */
export type StageStatus = 'IDLE' | 'WAITING' | 'RUNNING' | 'AVAILABLE';

export interface Stage {
  readonly id: number;
  /** the shuffle this stage writes; undefined for a result stage */
  readonly shuffleId: number | undefined;
  /** the job of a result stage */
  readonly jobId: number | undefined;
  /** parent stages: the shuffle map stages whose output this stage reads */
  readonly parents: readonly number[];
  readonly children: Set<number>;
  status: StageStatus;
  /** the latest launched attempt (-1 before the first) */
  attempt: number;
  /** consecutive attempts ended by a fetch failure */
  failedAttempts: number;
  /** active jobs that need this stage's output */
  readonly jobs: Set<number>;
  /** partitions of the running attempt without an accepted result */
  readonly pending: Set<number>;
}

export type JobStatus = 'NEW' | 'RUNNING' | 'SUCCEEDED' | 'FAILED';

export interface Job {
  readonly id: number;
  readonly description: string;
  /** its result stage */
  readonly stageId: number;
  readonly partitions: readonly number[];
  status: JobStatus;
  /** encoded result per partition */
  readonly results: Map<number, Uint8Array>;
  resultBytes: number;
  /** every stage submitted for this job (told when it ends) */
  readonly stages: Set<number>;
}

export interface DagState {
  status: 'ACTIVE' | 'STOPPED';
  readonly conf: DagConf;
  readonly jobs: Map<number, Job>;
  readonly stages: Map<number, Stage>;
  /** shuffle id -> the stage that writes it */
  readonly shuffleStages: Map<number, number>;
  readonly outputs: MapOutputRegistry;
}

export function newDagState(conf: DagConf): DagState {
  return {
    status: 'ACTIVE',
    conf,
    jobs: new Map(),
    stages: new Map(),
    shuffleStages: new Map(),
    outputs: new MapOutputRegistry(),
  };
}

/** A shuffle map stage as the shell found it in the lineage (stage ids are the shell's). */
export interface StageSpec {
  stageId: number;
  shuffleId: number;
  numMaps: number;
  /** parent stage ids; each is in the same JobSubmitted event or already known */
  parents: number[];
}

// ------------------------------------------------------------------ events from the shell
export type TaskSucceededEvent = {
  type: 'TaskSucceeded';
  stageId: number;
  attempt: number;
  partition: number;
  executorId: string;
  /** shuffle map task: where its output is; undefined when the executor is already gone (output lost) */
  mapStatus?: MapStatus | undefined;
  /** result task: the encoded result */
  result?: Uint8Array | undefined;
  /** the executor's report, passed through to the TaskDone effect (accumulators, cached blocks) */
  status?: TaskStatus | undefined;
};
export type FetchFailedEvent = {
  type: 'FetchFailed';
  stageId: number;
  attempt: number;
  shuffleId: number;
  mapIndex: number;
  /** the executor that held the map output */
  executorId: string;
  message: string;
};
export type TaskSetFailedEvent = { type: 'TaskSetFailed'; stageId: number; attempt: number; error: Error };

export type DagEvent =
  | {
      type: 'JobSubmitted';
      jobId: number;
      description: string;
      partitions: number[];
      /** the job's result stage id and its parents */
      stageId: number;
      parents: number[];
      /** every shuffle map stage of the lineage (known ones are skipped) */
      stages: StageSpec[];
    }
  | TaskSucceededEvent
  | FetchFailedEvent
  | TaskSetFailedEvent
  | { type: 'ExecutorLost'; executorId: string }
  | { type: 'JobCancelled'; jobId: number; error: Error }
  /** no live RDD reads this shuffle any more (the cleaner) */
  | { type: 'ShuffleUnreachable'; shuffleId: number }
  | { type: 'Stop'; error: Error };

// ------------------------------------------------------------------ effects for the shell
export type ListenerEffect =
  | {
      kind: 'Emit';
      event: 'jobStart';
      payload: { jobId: number; description: string; stageId: number; numTasks: number };
    }
  | { kind: 'Emit'; event: 'jobEnd'; payload: { jobId: number; ok: boolean } }
  | {
      kind: 'Emit';
      event: 'stageSubmitted';
      payload: { stageId: number; attempt: number; numTasks: number; jobId: number };
    }
  | { kind: 'Emit'; event: 'stageCompleted'; payload: { stageId: number; attempt: number } };

export type DagEffect =
  | {
      kind: 'SubmitTaskSet';
      jobId: number;
      stageId: number;
      attempt: number;
      partitions: number[];
      /** every shuffle the stage reads, complete (index = map index) */
      mapLocations: Record<number, MapLocation[]>;
    }
  | { kind: 'KillTaskSet'; stageId: number; attempt: number; reason: string }
  /** an accepted task result: merge its accumulators, note its cached blocks, emit 'taskEnd' */
  | { kind: 'TaskDone'; stageId: number; partition: number; executorId: string; status: TaskStatus | undefined }
  /** results in the order of the job's partitions */
  | { kind: 'JobSucceeded'; jobId: number; results: Uint8Array[] }
  | { kind: 'JobFailed'; jobId: number; error: Error }
  /** forget a shuffle (executors delete its files; emit 'shuffleRemoved') */
  | { kind: 'RemoveShuffle'; shuffleId: number }
  | ListenerEffect;

// ------------------------------------------------------------------ internal follow-ups between tables
export type StageEvent =
  | { type: 'Submit'; jobId: number }
  | { type: 'ParentAvailable' }
  | { type: 'ParentLost' }
  | { type: 'OutputsLost' }
  | { type: 'JobEnded'; jobId: number }
  | TaskSucceededEvent
  | FetchFailedEvent
  | TaskSetFailedEvent;

export type JobEvent =
  | { type: 'Start' }
  | { type: 'ResultTask'; partition: number; result: Uint8Array }
  | { type: 'Fail'; error: Error };

/** Recommendations a transition makes to other entities; the DAG step runs them in order (dask-style). */
export type FollowUp =
  | { kind: 'ToStage'; stageId: number; event: StageEvent }
  | { kind: 'ToJob'; jobId: number; event: JobEvent };

export type DagFx = DagEffect | FollowUp;

export const toStage = (stageId: number, event: StageEvent): FollowUp => ({ kind: 'ToStage', stageId, event });
export const toJob = (jobId: number, event: JobEvent): FollowUp => ({ kind: 'ToJob', jobId, event });

/** Follow-ups after some outputs of `shuffleId` were dropped: its stage, then the stages reading it. */
export function outputsLost(dag: DagState, shuffleId: number): FollowUp[] {
  const id = dag.shuffleStages.get(shuffleId);
  const s = id === undefined ? undefined : dag.stages.get(id);
  if (!s) return [];
  const out: FollowUp[] = [toStage(s.id, { type: 'OutputsLost' })];
  for (const c of s.children) out.push(toStage(c, { type: 'ParentLost' }));
  return out;
}
