/**
 * The DAG scheduler's decisions as one pure step: `stepDag(state, event) -> { state, effects }`.
 * The scheduler-level table below routes each event from the shell to the job or stage it concerns;
 * their own tables (job-machine.ts, stage-machine.ts) answer with effects for the shell and follow-ups
 * for other entities, which are run here in order (breadth first, like dask's recommendations) until
 * none is left. Only DagEffects come out. No I/O, no clock; state is updated in place.
 *
 *              JobSubmitted  TaskSucceeded/FetchFailed/TaskSetFailed  ExecutorLost  JobCancelled  ShuffleUnreachable  Stop
 *   ACTIVE     new job+stages  → the stage                          drop outputs  → job Fail    forget if unused    jobs Fail →STOPPED
 *   STOPPED    ✗               ·                                    ·             ·             ·                   ·
 *
 * Events for a job or stage that no longer exists (ended, cleaned) are ignored.
 */
import { defineMachine, IGNORE, InvalidTransition, type Transition } from '../common/machine.js';
import {
  type DagEffect,
  type DagEvent,
  type DagFx,
  type DagState,
  type FollowUp,
  outputsLost,
  type Stage,
  toJob,
  toStage,
} from './dag-state.js';
import { jobMachine } from './job-machine.js';
import { stageMachine } from './stage-machine.js';

type T = Transition<DagState, DagFx>;

function newStage(id: number, shuffleId: number | undefined, jobId: number | undefined, parents: number[]): Stage {
  return {
    id,
    shuffleId,
    jobId,
    parents,
    children: new Set(),
    status: 'IDLE',
    attempt: -1,
    failedAttempts: 0,
    jobs: new Set(),
    pending: new Set(),
  };
}

const jobSubmitted = (dag: DagState, e: Extract<DagEvent, { type: 'JobSubmitted' }>): T => {
  if (dag.jobs.has(e.jobId) || dag.stages.has(e.stageId))
    throw new InvalidTransition('dag', dag.status, e.type, `job ${e.jobId} / stage ${e.stageId} (already known)`);
  const added: Stage[] = [];
  for (const s of e.stages) {
    if (dag.shuffleStages.has(s.shuffleId)) continue;
    const st = newStage(s.stageId, s.shuffleId, undefined, s.parents);
    dag.stages.set(st.id, st);
    dag.shuffleStages.set(s.shuffleId, st.id);
    dag.outputs.add(s.shuffleId, s.numMaps);
    if (s.numMaps === 0) st.status = 'AVAILABLE';
    added.push(st);
  }
  const result = newStage(e.stageId, undefined, e.jobId, e.parents);
  dag.stages.set(result.id, result);
  added.push(result);
  for (const st of added) for (const p of st.parents) dag.stages.get(p)?.children.add(st.id);
  dag.jobs.set(e.jobId, {
    id: e.jobId,
    description: e.description,
    stageId: e.stageId,
    partitions: e.partitions,
    status: 'NEW',
    results: new Map(),
    resultBytes: 0,
    stages: new Set(),
  });
  return { state: dag, effects: [toJob(e.jobId, { type: 'Start' })] };
};

const toItsStage = (dag: DagState, e: Extract<DagEvent, { stageId: number; attempt: number }>): T => ({
  state: dag,
  effects: [toStage(e.stageId, e)],
});

const executorLost = (dag: DagState, e: { executorId: string }): T => {
  const effects: DagFx[] = [];
  for (const sid of dag.outputs.removeExecutor(e.executorId)) effects.push(...outputsLost(dag, sid));
  return { state: dag, effects };
};

const shuffleUnreachable = (dag: DagState, e: { shuffleId: number }): T => {
  const id = dag.shuffleStages.get(e.shuffleId);
  const s = id === undefined ? undefined : dag.stages.get(id);
  if (!s || s.jobs.size > 0 || s.status === 'RUNNING' || s.status === 'WAITING') return { state: dag, effects: [] };
  dag.stages.delete(s.id);
  dag.shuffleStages.delete(e.shuffleId);
  dag.outputs.remove(e.shuffleId);
  for (const p of s.parents) dag.stages.get(p)?.children.delete(s.id);
  return { state: dag, effects: [{ kind: 'RemoveShuffle', shuffleId: e.shuffleId }] };
};

const stop = (dag: DagState, e: { error: Error }): T => {
  dag.status = 'STOPPED';
  const effects: DagFx[] = [];
  for (const j of dag.jobs.keys()) effects.push(toJob(j, { type: 'Fail', error: e.error }));
  return { state: dag, effects };
};

export const dagMachine = defineMachine<DagState['status'], DagState, DagEvent, DagFx>({
  name: 'dag',
  statuses: ['ACTIVE', 'STOPPED'],
  status: (d) => d.status,
  moveTo: (d, k) => {
    d.status = k;
    return d;
  },
  table: {
    ACTIVE: {
      JobSubmitted: jobSubmitted,
      TaskSucceeded: toItsStage,
      FetchFailed: toItsStage,
      TaskSetFailed: toItsStage,
      ExecutorLost: executorLost,
      JobCancelled: (dag, e) => ({ state: dag, effects: [toJob(e.jobId, { type: 'Fail', error: e.error })] }),
      ShuffleUnreachable: shuffleUnreachable,
      Stop: stop,
    },
    // a stopped scheduler takes no job; what its executors still report changes nothing
    STOPPED: {
      TaskSucceeded: IGNORE,
      FetchFailed: IGNORE,
      TaskSetFailed: IGNORE,
      ExecutorLost: IGNORE,
      JobCancelled: IGNORE,
      ShuffleUnreachable: IGNORE,
      Stop: IGNORE,
    },
  },
});

function isFollowUp(f: DagFx): f is FollowUp {
  return f.kind === 'ToStage' || f.kind === 'ToJob';
}

/**
 * One event in, every decision out. Throws InvalidTransition (state untouched) when the event is not
 * valid for the scheduler's status; follow-ups between entities are legal by construction.
 */
export function stepDag(dag: DagState, event: DagEvent): Transition<DagState, DagEffect> {
  const out: DagEffect[] = [];
  const queue: FollowUp[] = [];
  const take = (fx: DagFx[]) => {
    for (const f of fx)
      if (isFollowUp(f)) queue.push(f);
      else out.push(f);
  };
  take(dagMachine.step(dag, event).effects);
  for (let i = 0; i < queue.length; i++) {
    const f = queue[i]!;
    if (f.kind === 'ToStage') {
      const stage = dag.stages.get(f.stageId);
      if (stage) take(stageMachine.step({ dag, stage }, f.event).effects);
    } else {
      const job = dag.jobs.get(f.jobId);
      if (job) take(jobMachine.step({ dag, job }, f.event).effects);
    }
  }
  return { state: dag, effects: out };
}
