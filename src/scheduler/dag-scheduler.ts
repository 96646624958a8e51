/**
 * DAG scheduler shell: turns an action on an RDD into stages cut at shuffle dependencies and lets the
 * DAG machine (dag-machine.ts: jobs, stages and the map-output registry as pure tables) decide
 * everything else. This shell only
 *   - walks the lineage to name the stages of a job (shuffle stages are reused across jobs),
 *   - turns task-scheduler callbacks, executor loss, the shuffle cleaner and stop() into events,
 *   - carries out the machine's effects: build and submit task sets, kill them, merge accumulators,
 *     note cached blocks, settle job promises, emit listener events for the UI and progress bar.
 * Owns: the lineage objects of live stages, cached-block locations, the job promises.
 *
 *   job ──> ResultStage ──needs──> ShuffleMapStage(s) ──needs──> ...
 *   stage: IDLE ─submit─> WAITING ─parents complete─> RUNNING ─all tasks ok─> AVAILABLE
 *                           ^ parent output lost / fetch failed (max 4) ─┘   └ maxFailures ─> job aborted
 */
import { EventEmitter } from 'node:events';
import { CinderError } from '../common/errors.js';
import { logger } from '../common/log.js';
import { decode } from '../common/serde.js';
import type { ResultOp, ShuffleDepSpec } from '../plan/plan.js';
import type { TaskStatus } from '../protocol/executor.js';
import { stepDag } from './dag-machine.js';
import {
  type DagConf,
  type DagEffect,
  type DagEvent,
  type DagState,
  newDagState,
  type StageSpec,
} from './dag-state.js';
import type { MapOutputRegistry, MapStatus } from './map-outputs.js';
import { type StageDescription, stageRdds, userCallSite } from './stage-info.js';
import { buildTasks, type LineageNode } from './stage-tasks.js';
import type { TaskScheduler, TaskSet, TaskSetCallbacks } from './task-scheduler.js';

export type { DagConf } from './dag-state.js';
export type { MapStatus } from './map-outputs.js';
export type { LineageNode } from './stage-tasks.js';

/** 'jobLineage' event: emitted just before a job's 'jobStart' when someone listens. */
export interface JobLineage {
  jobId: number;
  callSite: string | undefined;
  stages: StageDescription[];
}

const log = logger('dag-scheduler');

export interface DagHooks {
  appId: string;
  mergeAccumulators(updates: Array<[number, unknown]>): void;
  /** executor host/port for its block server */
  executorAddress(id: string): { host: string; port: number } | undefined;
  /** bundles of the modules that registered classes, for every stage */
  classBundles?(): string[];
}

/** What a job was started with (PySpark's local properties): matched by cancelJobs(). */
export interface JobProps {
  group?: string | undefined;
  tags?: readonly string[] | undefined;
}

interface StageRdd {
  rdd: LineageNode;
  kind: { resultOp?: ResultOp; shuffleDep?: ShuffleDepSpec };
}

interface JobWaiter {
  stageId: number;
  resolve(results: Uint8Array[]): void;
  reject(e: Error): void;
}

export class DAGScheduler extends EventEmitter {
  private readonly state: DagState;
  private nextStageId = 0;
  private nextJobId = 0;
  /** shuffle id -> its map stage's id (mirrors the machine's; removed on RemoveShuffle) */
  private readonly shuffleStageIds = new Map<number, number>();
  /** the lineage of every stage the machine knows */
  private readonly stageRdds = new Map<number, StageRdd>();
  private readonly waiters = new Map<number, JobWaiter>();
  /** the props of every job not yet settled */
  private readonly activeJobs = new Map<number, JobProps>();
  /** the running task set of each stage */
  private readonly taskSets = new Map<number, TaskSet>();
  private readonly launchedAt = new Map<number, number>();
  /** a failed job's error, from its JobFailed effect to its jobEnd event */
  private readonly jobErrors = new Map<number, string>();
  readonly blockLocations = new Map<string, Set<string>>();
  /** Spark's ContextCleaner for shuffles: forgets map outputs and asks executors to delete the files. */
  private readonly cleaner = new FinalizationRegistry<number>((shuffleId) => this.removeShuffle(shuffleId));
  private readonly queue: DagEvent[] = [];
  private draining = false;

  constructor(
    private readonly ts: TaskScheduler,
    conf: DagConf,
    private readonly hooks: DagHooks,
  ) {
    super();
    this.state = newDagState(conf);
  }

  /** The map-output registry (read-only use: tests and diagnostics). */
  get mapOutputs(): MapOutputRegistry {
    return this.state.outputs;
  }

  /**
   * Runs `op` on the given partitions of `rdd` and returns one decoded result per partition. `props`
   * (job group, tags) are what cancelJobs() matches on; `callStack` (the action's) names the job in the UI.
   */
  async runJob(
    rdd: LineageNode,
    op: ResultOp,
    partitions?: number[],
    description = 'job',
    props: JobProps = {},
    callStack?: string,
  ): Promise<unknown[]> {
    if (this.state.status === 'STOPPED')
      throw new CinderError('CONTEXT_STOPPED', 'the context is stopped', 'create a new context');
    const parts = partitions ?? [...Array(rdd.numPartitions).keys()];
    const jobId = this.nextJobId++;
    const stages: StageSpec[] = [];
    const parents = this.parentStages(rdd, stages);
    const stageId = this.nextStageId++;
    this.stageRdds.set(stageId, { rdd, kind: { resultOp: op } });
    const done = new Promise<Uint8Array[]>((resolve, reject) => this.waiters.set(jobId, { stageId, resolve, reject }));
    this.activeJobs.set(jobId, props);
    // the UI and event log: the job's stages and the user's line that ran the action (once per job)
    if (this.listenerCount('jobLineage') > 0)
      this.emit('jobLineage', {
        jobId,
        callSite: userCallSite(callStack ?? new Error().stack),
        stages: this.describeStages(stageId),
      } satisfies JobLineage);
    this.post({ type: 'JobSubmitted', jobId, description, partitions: parts, stageId, parents, stages });
    try {
      const results = await done;
      return results.map((b) => decode(b));
    } finally {
      this.activeJobs.delete(jobId);
    }
  }

  /** Cancels every running job whose props match; each fails with why(jobId). Returns their ids. */
  cancelJobs(match: (p: JobProps) => boolean, why: (jobId: number, p: JobProps) => Error): number[] {
    const ids = [...this.activeJobs].filter(([, p]) => match(p)).map(([id]) => id);
    for (const id of ids) this.cancelJob(id, why(id, this.activeJobs.get(id)!));
    return ids;
  }

  /** Cancels a running job: it fails with `error`; stages no other job needs stop. */
  cancelJob(jobId: number, error: Error): void {
    this.post({ type: 'JobCancelled', jobId, error });
  }

  /** Forgets map outputs and cached blocks that lived on a lost executor. */
  executorLost(executorId: string): void {
    this.forgetBlocksOn(executorId);
    this.post({ type: 'ExecutorLost', executorId });
  }

  /** Forgets a shuffle that no live RDD can read any more (emits 'shuffleRemoved' for the executors). */
  removeShuffle(shuffleId: number): void {
    this.post({ type: 'ShuffleUnreachable', shuffleId });
  }

  blockRemoved(executorId: string, blocks: string[]): void {
    for (const b of blocks) {
      const s = this.blockLocations.get(b);
      s?.delete(executorId);
      if (s && s.size === 0) this.blockLocations.delete(b);
    }
  }

  forgetRdd(rddId: number): void {
    for (const b of [...this.blockLocations.keys()]) if (b.startsWith(`rdd_${rddId}_`)) this.blockLocations.delete(b);
  }

  stop(reason: Error): void {
    this.post({ type: 'Stop', error: reason });
  }

  // ------------------------------------------------------------------ events in

  /** Steps the machine for `e` and carries out its effects; events posted meanwhile run after. */
  private post(e: DagEvent): void {
    this.queue.push(e);
    if (this.draining) return;
    this.draining = true;
    try {
      for (let ev = this.queue.shift(); ev; ev = this.queue.shift())
        for (const f of stepDag(this.state, ev).effects) this.apply(f);
    } catch (err) {
      // a scheduler bug: fail the jobs rather than leave them hanging
      log.error({ err: (err as Error).message, stack: (err as Error).stack }, 'DAG scheduler step failed');
      this.queue.length = 0;
      for (const [jobId, w] of this.waiters) {
        this.waiters.delete(jobId);
        w.reject(err as Error);
      }
    } finally {
      this.draining = false;
    }
  }

  private callbacks(stageId: number, attempt: number, shuffle: boolean): TaskSetCallbacks {
    return {
      onSuccess: (partition, bytes, status, executorId) =>
        this.post({
          type: 'TaskSucceeded',
          stageId,
          attempt,
          partition,
          executorId,
          mapStatus: shuffle ? this.mapStatus(bytes, executorId) : undefined,
          result: shuffle ? undefined : bytes,
          status,
        }),
      onAbort: (error) => this.post({ type: 'TaskSetFailed', stageId, attempt, error }),
      onFetchFailed: (shuffleId, mapIndex, executorId, err) => {
        log.warn({ stageId, shuffleId, mapIndex, executorId }, 'fetch failed; recomputing map output');
        if (!this.hooks.executorAddress(executorId)) this.forgetBlocksOn(executorId);
        this.post({ type: 'FetchFailed', stageId, attempt, shuffleId, mapIndex, executorId, message: err.message });
      },
      onTaskStart: () => this.emit('taskStart', { stageId }),
    };
  }

  /** Where a finished map task's output is; undefined if its executor is already gone (output lost). */
  private mapStatus(bytes: Uint8Array, executorId: string): MapStatus | undefined {
    const addr = this.hooks.executorAddress(executorId);
    if (!addr) return undefined;
    return { executorId, host: addr.host, port: addr.port, sizes: decode<{ sizes: number[] }>(bytes).sizes };
  }

  // ------------------------------------------------------------------ effects out

  private apply(f: DagEffect): void {
    switch (f.kind) {
      case 'SubmitTaskSet': {
        const s = this.stageRdds.get(f.stageId)!;
        const tasks = buildTasks(
          { appId: this.hooks.appId, ...f, rdd: s.rdd, kind: s.kind, classBundles: this.hooks.classBundles?.() },
          this.blockLocations,
        );
        const set = this.ts.newTaskSet(
          f.jobId,
          f.stageId,
          f.attempt,
          tasks,
          this.callbacks(f.stageId, f.attempt, !!s.kind.shuffleDep),
        );
        this.taskSets.set(f.stageId, set);
        this.launchedAt.set(f.stageId, performance.now());
        this.ts.submit(set);
        return;
      }
      case 'KillTaskSet': {
        const set = this.taskSets.get(f.stageId);
        if (set?.stageAttempt !== f.attempt) return;
        this.taskSets.delete(f.stageId);
        this.ts.kill(set, f.reason);
        return;
      }
      case 'TaskDone':
        this.taskDone(f.status, f.executorId);
        this.emit('taskEnd', { stageId: f.stageId, partition: f.partition });
        return;
      case 'JobSucceeded':
      case 'JobFailed': {
        if (f.kind === 'JobFailed') this.jobErrors.set(f.jobId, f.error.message);
        const w = this.waiters.get(f.jobId);
        if (!w) return;
        this.waiters.delete(f.jobId);
        this.stageRdds.delete(w.stageId);
        if (f.kind === 'JobSucceeded') w.resolve(f.results);
        else w.reject(f.error);
        return;
      }
      case 'RemoveShuffle': {
        const id = this.shuffleStageIds.get(f.shuffleId);
        this.shuffleStageIds.delete(f.shuffleId);
        if (id !== undefined) this.stageRdds.delete(id);
        this.emit('shuffleRemoved', { shuffleId: f.shuffleId });
        return;
      }
      case 'Emit':
        if (f.event === 'stageCompleted') this.stageCompleted(f.payload.stageId, f.payload.attempt);
        if (f.event === 'jobEnd' && !f.payload.ok) {
          // listeners (UI, event log) get the failed job's error with its end
          this.emit('jobEnd', { ...f.payload, error: this.jobErrors.get(f.payload.jobId) });
          this.jobErrors.delete(f.payload.jobId);
          return;
        }
        this.emit(f.event, f.payload);
        return;
    }
  }

  private taskDone(status: TaskStatus | undefined, executorId: string): void {
    if (!status) return;
    if (status.accumUpdates?.length) this.hooks.mergeAccumulators(status.accumUpdates as Array<[number, unknown]>);
    for (const b of status.blocksAdded ?? []) {
      let s = this.blockLocations.get(b);
      if (!s) this.blockLocations.set(b, (s = new Set()));
      s.add(executorId);
    }
  }

  private stageCompleted(stageId: number, attempt: number): void {
    const set = this.taskSets.get(stageId);
    if (set?.stageAttempt !== attempt) return;
    this.taskSets.delete(stageId);
    const seconds = Math.round(performance.now() - (this.launchedAt.get(stageId) ?? 0)) / 1000;
    log.info(
      { jobId: set.jobId, stageId, attempt, tasks: set.total, seconds },
      `stage ${stageId} finished in ${seconds} s`,
    );
  }

  private forgetBlocksOn(executorId: string): void {
    for (const [block, execs] of this.blockLocations) {
      execs.delete(executorId);
      if (execs.size === 0) this.blockLocations.delete(block);
    }
  }

  // ------------------------------------------------------------------ lineage -> stages

  /** The stages a job's result stage needs, parents first (for the UI). */
  private describeStages(resultStage: number): StageDescription[] {
    const out: StageDescription[] = [];
    const seen = new Set<number>();
    const visit = (id: number) => {
      if (seen.has(id)) return;
      seen.add(id);
      const s = this.stageRdds.get(id);
      if (!s) return;
      const rddInfos = stageRdds(s.rdd);
      const parentIds: number[] = [];
      const walk = new Set<number>();
      const findParents = (r: LineageNode) => {
        if (walk.has(r.id)) return;
        walk.add(r.id);
        for (const d of r.shuffleDeps()) {
          const p = this.shuffleStageIds.get(d.spec.shuffleId);
          if (p !== undefined && !parentIds.includes(p)) parentIds.push(p);
        }
        for (const p of r.narrowParents()) findParents(p);
      };
      findParents(s.rdd);
      for (const p of parentIds) visit(p);
      const dep = s.kind.shuffleDep;
      out.push({
        stageId: id,
        name: dep ? `shuffle map ${dep.shuffleId}` : `result (${s.kind.resultOp?.op ?? 'job'})`,
        numTasks: dep ? dep.numMaps : s.rdd.numPartitions,
        parentIds,
        rddInfos,
        shuffleId: dep?.shuffleId,
      });
    };
    visit(resultStage);
    return out;
  }

  /** The shuffle map stages `rdd`'s stage reads; new ones are appended to `specs` (parents first). */
  private parentStages(rdd: LineageNode, specs: StageSpec[]): number[] {
    const out = new Map<number, number>();
    const seen = new Set<number>();
    const visit = (r: LineageNode) => {
      if (seen.has(r.id)) return;
      seen.add(r.id);
      for (const d of r.shuffleDeps()) out.set(d.spec.shuffleId, this.shuffleStage(d.spec, d.rdd, r, specs));
      for (const p of r.narrowParents()) visit(p);
    };
    visit(rdd);
    return [...out.values()];
  }

  private shuffleStage(dep: ShuffleDepSpec, rdd: LineageNode, owner: LineageNode, specs: StageSpec[]): number {
    const known = this.shuffleStageIds.get(dep.shuffleId);
    if (known !== undefined) return known;
    // once the RDD that reads this shuffle is garbage, no job can need its map outputs again
    this.cleaner.register(owner, dep.shuffleId);
    const stageId = this.nextStageId++;
    this.shuffleStageIds.set(dep.shuffleId, stageId);
    this.stageRdds.set(stageId, { rdd, kind: { shuffleDep: dep } });
    const parents = this.parentStages(rdd, specs);
    specs.push({ stageId, shuffleId: dep.shuffleId, numMaps: dep.numMaps, parents });
    return stageId;
  }
}
