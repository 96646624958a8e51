// In-process harness for the scheduler machines: drives stepDag with events as the shell would, keeps
// what a shell would keep (running task sets, job outcomes) from the effects, and checks invariants.
// No processes, no timers: a story runs in milliseconds.
import assert from 'node:assert/strict';
import { stepDag } from '../../src/scheduler/dag-machine.js';
import {
  type DagConf,
  type DagEffect,
  type DagEvent,
  type DagState,
  newDagState,
  type StageSpec,
} from '../../src/scheduler/dag-state.js';
import type { MapStatus } from '../../src/scheduler/map-outputs.js';

export type Submit = Extract<DagEffect, { kind: 'SubmitTaskSet' }>;

export function bytes(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}
export function text(b: Uint8Array | undefined): string {
  return new TextDecoder().decode(b);
}

export function mapStatus(executorId: string): MapStatus {
  return { executorId, host: `host-${executorId}`, port: 7000, sizes: [1, 1] };
}

export class DagDriver {
  readonly dag: DagState;
  /** every effect so far, in order */
  readonly log: DagEffect[] = [];
  /** the task sets a shell would be running: stage id -> the SubmitTaskSet that started it */
  readonly taskSets = new Map<number, Submit>();
  readonly outcomes = new Map<number, { ok: true; results: Uint8Array[] } | { ok: false; error: Error }>();
  readonly partitionsOf = new Map<number, number[]>();

  constructor(conf: Partial<DagConf> = {}) {
    this.dag = newDagState({ maxStageAttempts: 4, maxResultSize: 1 << 20, ...conf });
  }

  step(e: DagEvent): DagEffect[] {
    const { effects } = stepDag(this.dag, e);
    for (const f of effects) this.track(f);
    this.log.push(...effects);
    return effects;
  }

  private track(f: DagEffect): void {
    if (f.kind === 'SubmitTaskSet') {
      assert.ok(!this.taskSets.has(f.stageId), `stage ${f.stageId} launched twice`);
      this.taskSets.set(f.stageId, f);
    } else if (f.kind === 'KillTaskSet') {
      if (this.taskSets.get(f.stageId)?.attempt === f.attempt) this.taskSets.delete(f.stageId);
    } else if (f.kind === 'Emit' && f.event === 'stageCompleted') {
      if (this.taskSets.get(f.payload.stageId)?.attempt === f.payload.attempt) this.taskSets.delete(f.payload.stageId);
    } else if (f.kind === 'JobSucceeded') {
      assert.ok(!this.outcomes.has(f.jobId), `job ${f.jobId} ended twice`);
      this.outcomes.set(f.jobId, { ok: true, results: f.results });
    } else if (f.kind === 'JobFailed') {
      assert.ok(!this.outcomes.has(f.jobId), `job ${f.jobId} ended twice`);
      this.outcomes.set(f.jobId, { ok: false, error: f.error });
    }
  }

  submitJob(j: {
    jobId: number;
    stageId: number;
    partitions: number[];
    parents?: number[];
    stages?: StageSpec[];
    description?: string;
  }): DagEffect[] {
    this.partitionsOf.set(j.jobId, j.partitions);
    return this.step({
      type: 'JobSubmitted',
      jobId: j.jobId,
      description: j.description ?? `job ${j.jobId}`,
      partitions: j.partitions,
      stageId: j.stageId,
      parents: j.parents ?? [],
      stages: j.stages ?? [],
    });
  }

  /** the attempt the shell is running for a stage */
  attempt(stageId: number): number {
    const s = this.taskSets.get(stageId);
    assert.ok(s, `stage ${stageId} has no running task set`);
    return s.attempt;
  }

  mapDone(stageId: number, partition: number, executorId: string, attempt = this.attempt(stageId)): DagEffect[] {
    return this.step({
      type: 'TaskSucceeded',
      stageId,
      attempt,
      partition,
      executorId,
      mapStatus: mapStatus(executorId),
    });
  }

  resultDone(stageId: number, partition: number, value: string, attempt = this.attempt(stageId)): DagEffect[] {
    return this.step({ type: 'TaskSucceeded', stageId, attempt, partition, executorId: 'e1', result: bytes(value) });
  }

  fetchFailed(stageId: number, shuffleId: number, mapIndex: number, executorId: string): DagEffect[] {
    return this.step({
      type: 'FetchFailed',
      stageId,
      attempt: this.attempt(stageId),
      shuffleId,
      mapIndex,
      executorId,
      message: 'connection refused',
    });
  }

  status(stageId: number): string | undefined {
    return this.dag.stages.get(stageId)?.status;
  }
}

export function submits(effects: DagEffect[]): Array<{ stageId: number; attempt: number; partitions: number[] }> {
  return effects
    .filter((f): f is Submit => f.kind === 'SubmitTaskSet')
    .map((f) => ({ stageId: f.stageId, attempt: f.attempt, partitions: f.partitions }));
}

export function kills(effects: DagEffect[]): Array<{ stageId: number; attempt: number }> {
  return effects.flatMap((f) => (f.kind === 'KillTaskSet' ? [{ stageId: f.stageId, attempt: f.attempt }] : []));
}

export function emitted(effects: DagEffect[]): string[] {
  return effects.flatMap((f) => (f.kind === 'Emit' ? [`${f.event} ${JSON.stringify(f.payload)}`] : []));
}

/**
 * What must hold after every story:
 *  - no stage runs while an output it reads is missing,
 *  - a shuffle stage is AVAILABLE exactly when all its outputs are registered,
 *  - every RUNNING stage has a task set and only RUNNING jobs; no task set is left once its jobs ended,
 *  - every partition of a finished job has exactly one result.
 */
export function assertInvariants(d: DagDriver): void {
  const { dag } = d;
  for (const s of dag.stages.values()) {
    if (s.shuffleId !== undefined)
      assert.equal(
        s.status === 'AVAILABLE',
        dag.outputs.isComplete(s.shuffleId),
        `stage ${s.id} is ${s.status} but its outputs are ${dag.outputs.isComplete(s.shuffleId) ? '' : 'not '}complete`,
      );
    if (s.status !== 'RUNNING') continue;
    for (const p of s.parents) {
      const sid = dag.stages.get(p)?.shuffleId;
      assert.ok(sid !== undefined && dag.outputs.isComplete(sid), `stage ${s.id} runs with parent ${p} incomplete`);
    }
    const set = d.taskSets.get(s.id);
    assert.ok(set && set.attempt === s.attempt, `stage ${s.id} is RUNNING attempt ${s.attempt} without its task set`);
    assert.ok(s.jobs.size > 0, `stage ${s.id} runs for no job`);
    for (const j of s.jobs) assert.equal(dag.jobs.get(j)?.status, 'RUNNING', `stage ${s.id} runs for ended job ${j}`);
  }
  for (const [stageId, set] of d.taskSets) {
    const s = dag.stages.get(stageId);
    assert.ok(s?.status === 'RUNNING' && s.attempt === set.attempt, `task set ${stageId}.${set.attempt} left active`);
  }
  for (const [jobId, o] of d.outcomes) {
    assert.ok(!dag.jobs.has(jobId), `ended job ${jobId} still in the state`);
    if (!o.ok) continue;
    const parts = d.partitionsOf.get(jobId)!;
    assert.equal(o.results.length, parts.length, `job ${jobId}: one result per partition`);
    for (let i = 0; i < parts.length; i++) assert.ok(o.results[i] instanceof Uint8Array, `job ${jobId}: result ${i}`);
  }
}
