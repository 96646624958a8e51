/**
 * DAG scheduler: turns an action on an RDD into stages cut at shuffle dependencies, runs missing
 * parent stages first (independent ones in parallel), reuses finished shuffle outputs across jobs,
 * and recovers from lost map outputs (executor loss, fetch failure) by recomputing them from lineage.
 * Owns: stages, the map output registry, cached-block locations. Hands task sets to the TaskScheduler.
 *
 *   job ──> ResultStage ──needs──> ShuffleMapStage(s) ──needs──> ...
 *   stage attempt: WAITING ─parents ready─> RUNNING ─all tasks ok─> DONE
 *                                            │ fetch failed ─> (parent re-run) ─> RUNNING (attempt+1, max 4)
 *                                            └ task failed maxFailures times ─> FAILED (job aborted)
 */
import { EventEmitter } from 'node:events';
import type { PlanNode, ResultOp, ShuffleDepSpec, StageBody, TaskBody } from '../api/plan.js';
import { CinderError, type WireError } from '../common/errors.js';
import { logger } from '../common/log.js';
import { decode, encode } from '../common/serde.js';
import type { TaskStatus } from '../protocol/executor.js';
import type { TaskScheduler, TaskSpec } from './task-scheduler.js';

const log = logger('dag-scheduler');

/** What the DAG scheduler needs from an RDD (implemented by src/api/rdd.ts). */
export interface LineageNode {
  readonly id: number;
  readonly numPartitions: number;
  readonly storageLevel: string | undefined;
  planNode(): PlanNode;
  /** RDDs read through narrow dependencies, with the parent partitions partition p reads */
  narrowInputs(p: number): Array<[LineageNode, number]>;
  narrowParents(): LineageNode[];
  shuffleDeps(): Array<{ spec: ShuffleDepSpec; rdd: LineageNode }>;
  /** parallelize() data of partition p, if this is a parallel collection */
  slice(p: number): unknown[] | undefined;
}

export interface MapStatus {
  executorId: string;
  host: string;
  port: number;
  sizes: number[];
}

interface ShuffleStage {
  id: number;
  dep: ShuffleDepSpec;
  rdd: LineageNode;
  parents: ShuffleStage[];
  inflight: Promise<void> | undefined;
}

class FetchFailedSignal extends Error {
  constructor(
    readonly shuffleId: number,
    readonly mapIndex: number,
    readonly executorId: string,
    readonly wire: WireError,
  ) {
    super(`fetch failed: shuffle ${shuffleId} map ${mapIndex} on executor ${executorId}: ${wire.message}`);
  }
}

export interface DagConf {
  maxStageAttempts: number;
  maxResultSize: number;
}

export interface DagHooks {
  appId: string;
  mergeAccumulators(updates: Array<[number, unknown]>): void;
  /** executor host/port for its block server */
  executorAddress(id: string): { host: string; port: number } | undefined;
  remapError(e: Error): Error;
}

export class DAGScheduler extends EventEmitter {
  private nextStageId = 0;
  private nextJobId = 0;
  readonly mapOutputs = new Map<number, Array<MapStatus | undefined>>();
  private readonly shuffleStages = new Map<number, ShuffleStage>();
  readonly blockLocations = new Map<string, Set<string>>();
  private stopped = false;
  /** Spark's ContextCleaner for shuffles: forgets map outputs and asks executors to delete the files. */
  private readonly cleaner = new FinalizationRegistry<number>((shuffleId) => this.removeShuffle(shuffleId));
  private readonly active = new Set<(e: Error) => void>();

  constructor(
    private readonly ts: TaskScheduler,
    private readonly conf: DagConf,
    private readonly hooks: DagHooks,
  ) {
    super();
  }

  /** Runs `op` on the given partitions of `rdd` and returns one decoded result per partition. */
  async runJob(rdd: LineageNode, op: ResultOp, partitions?: number[], description = 'job'): Promise<unknown[]> {
    if (this.stopped) throw new CinderError('CONTEXT_STOPPED', 'the context is stopped', 'create a new context');
    const parts = partitions ?? [...Array(rdd.numPartitions).keys()];
    const jobId = this.nextJobId++;
    const results = new Map<number, unknown>();
    const parents = this.parentStages(rdd);
    const stageId = this.nextStageId++;
    let resultBytes = 0;
    this.emit('jobStart', { jobId, description, stageId, numTasks: parts.length });
    let cancel!: (e: Error) => void;
    const cancelled = new Promise<never>((_, reject) => (cancel = reject));
    cancelled.catch(() => {});
    this.active.add(cancel);
    try {
      for (let attempt = 0; ; attempt++) {
        await Promise.race([Promise.all(parents.map((s) => this.ensure(s, jobId))), cancelled]);
        const missing = parts.filter((p) => !results.has(p));
        if (missing.length === 0) break;
        try {
          await Promise.race([
            this.runTasks(jobId, stageId, attempt, rdd, missing, { resultOp: op }, (p, bytes) => {
              resultBytes += bytes.length;
              if (resultBytes > this.conf.maxResultSize)
                throw new CinderError(
                  'RESULT_TOO_LARGE',
                  `${description}: total size of results (${resultBytes} bytes) exceeds cinder.driver.maxResultSize (${this.conf.maxResultSize})`,
                  'reduce the data on the executors first (take, reduce, saveAsTextFile) or raise cinder.driver.maxResultSize',
                );
              results.set(p, decode(bytes));
            }),
            cancelled,
          ]);
        } catch (e) {
          if (e instanceof FetchFailedSignal && attempt + 1 < this.conf.maxStageAttempts) {
            this.onFetchFailed(e);
            continue;
          }
          throw e instanceof FetchFailedSignal ? this.fetchAbort(e, stageId) : e;
        }
      }
      this.emit('jobEnd', { jobId, ok: true });
      return parts.map((p) => results.get(p));
    } catch (e) {
      this.emit('jobEnd', { jobId, ok: false });
      throw this.hooks.remapError(e as Error);
    } finally {
      this.active.delete(cancel);
    }
  }

  private fetchAbort(e: FetchFailedSignal, stageId: number): Error {
    return new CinderError(
      'JOB_ABORTED',
      `Job aborted: stage ${stageId} could not fetch shuffle data after ${this.conf.maxStageAttempts} attempts: ${e.message}`,
    );
  }

  private onFetchFailed(e: FetchFailedSignal): void {
    log.warn(
      { shuffleId: e.shuffleId, mapIndex: e.mapIndex, executorId: e.executorId },
      'fetch failed; recomputing map output',
    );
    const outs = this.mapOutputs.get(e.shuffleId);
    if (outs) outs[e.mapIndex] = undefined;
    // like Spark without an external shuffle service: the executor's shuffle files are presumed lost
    // (it may be gone, or its files removed), so drop all its map outputs instead of finding them one
    // stage attempt at a time
    for (const o of this.mapOutputs.values())
      for (let i = 0; i < o.length; i++) if (o[i]?.executorId === e.executorId) o[i] = undefined;
    if (!this.hooks.executorAddress(e.executorId)) this.executorLost(e.executorId);
  }

  /** Forgets map outputs and cached blocks that lived on a lost executor. */
  executorLost(executorId: string): void {
    for (const outs of this.mapOutputs.values())
      for (let i = 0; i < outs.length; i++) if (outs[i]?.executorId === executorId) outs[i] = undefined;
    for (const [block, execs] of this.blockLocations) {
      execs.delete(executorId);
      if (execs.size === 0) this.blockLocations.delete(block);
    }
  }

  private parentStages(rdd: LineageNode): ShuffleStage[] {
    const out = new Map<number, ShuffleStage>();
    const seen = new Set<number>();
    const visit = (r: LineageNode) => {
      if (seen.has(r.id)) return;
      seen.add(r.id);
      for (const d of r.shuffleDeps()) {
        const s = this.shuffleStage(d.spec, d.rdd, r);
        out.set(s.dep.shuffleId, s);
      }
      for (const p of r.narrowParents()) visit(p);
    };
    visit(rdd);
    return [...out.values()];
  }

  private shuffleStage(dep: ShuffleDepSpec, rdd: LineageNode, owner: LineageNode): ShuffleStage {
    let s = this.shuffleStages.get(dep.shuffleId);
    if (!s) {
      // once the RDD that reads this shuffle is garbage, no job can need its map outputs again
      this.cleaner.register(owner, dep.shuffleId);
      s = { id: this.nextStageId++, dep, rdd, parents: [], inflight: undefined };
      this.shuffleStages.set(dep.shuffleId, s);
      this.mapOutputs.set(dep.shuffleId, new Array(dep.numMaps).fill(undefined));
      s.parents = this.parentStages(rdd);
    }
    return s;
  }

  private missingMaps(s: ShuffleStage): number[] {
    const outs = this.mapOutputs.get(s.dep.shuffleId)!;
    const m: number[] = [];
    for (let i = 0; i < s.dep.numMaps; i++) if (!outs[i]) m.push(i);
    return m;
  }

  /** Makes sure every map output of a shuffle stage exists, running it (and its parents) as needed. */
  private ensure(s: ShuffleStage, jobId: number): Promise<void> {
    if (this.missingMaps(s).length === 0) return Promise.resolve();
    if (s.inflight) return s.inflight;
    s.inflight = (async () => {
      for (let attempt = 0; ; attempt++) {
        await Promise.all(s.parents.map((p) => this.ensure(p, jobId)));
        const missing = this.missingMaps(s);
        if (missing.length === 0) return;
        try {
          await this.runTasks(jobId, s.id, attempt, s.rdd, missing, { shuffleDep: s.dep }, (p, bytes, execId) => {
            const r = decode<{ sizes: number[] }>(bytes);
            const addr = this.hooks.executorAddress(execId);
            if (!addr) return; // executor died right after finishing: output is lost, recompute
            this.mapOutputs.get(s.dep.shuffleId)![p] = {
              executorId: execId,
              host: addr.host,
              port: addr.port,
              sizes: r.sizes,
            };
          });
        } catch (e) {
          if (e instanceof FetchFailedSignal && attempt + 1 < this.conf.maxStageAttempts) {
            this.onFetchFailed(e);
            continue;
          }
          throw e instanceof FetchFailedSignal ? this.fetchAbort(e, s.id) : e;
        }
      }
    })().finally(() => {
      s.inflight = undefined;
    });
    return s.inflight;
  }

  /** Every RDD computed inside one stage (narrow closure), root first. */
  private stageNodes(rdd: LineageNode): LineageNode[] {
    const out: LineageNode[] = [];
    const seen = new Set<number>();
    const visit = (r: LineageNode) => {
      if (seen.has(r.id)) return;
      seen.add(r.id);
      out.push(r);
      for (const p of r.narrowParents()) visit(p);
    };
    visit(rdd);
    return out;
  }

  private runTasks(
    jobId: number,
    stageId: number,
    attempt: number,
    rdd: LineageNode,
    partitions: number[],
    kind: { resultOp?: ResultOp; shuffleDep?: ShuffleDepSpec },
    onResult: (p: number, bytes: Uint8Array, executorId: string) => void,
  ): Promise<void> {
    const nodes = this.stageNodes(rdd);
    const mapLocations: StageBody['mapLocations'] = {};
    for (const n of nodes)
      for (const d of n.shuffleDeps()) {
        const outs = this.mapOutputs.get(d.spec.shuffleId) ?? [];
        mapLocations[d.spec.shuffleId] = outs.map((o, i) => {
          if (!o) throw new Error(`internal: map output ${i} of shuffle ${d.spec.shuffleId} missing at stage launch`);
          return { mapIndex: i, executorId: o.executorId, host: o.host, port: o.port };
        });
      }
    const body: StageBody = {
      appId: this.hooks.appId,
      stageId,
      stageAttempt: attempt,
      jobId,
      nodes: nodes.map((n) => n.planNode()),
      rootId: rdd.id,
      shuffleDep: kind.shuffleDep,
      resultOp: kind.resultOp,
      mapLocations,
    };
    const stageBytes = encode(body);
    const tasks: TaskSpec[] = partitions.map((p) => {
      const { slices, preferred } = this.taskInputs(rdd, p);
      const tb: TaskBody = { stage: stageBytes, partition: p, slices };
      return { partition: p, body: encode(tb), preferred };
    });
    this.emit('stageSubmitted', { stageId, attempt, numTasks: tasks.length, jobId });
    const started = performance.now();
    return new Promise<void>((resolve, reject) => {
      let remaining = tasks.length;
      const set = this.ts.newTaskSet(jobId, stageId, attempt, tasks, {
        onSuccess: (p, bytes, status: TaskStatus, execId) => {
          try {
            if (status.accumUpdates?.length)
              this.hooks.mergeAccumulators(status.accumUpdates as Array<[number, unknown]>);
            for (const b of status.blocksAdded ?? []) {
              let s = this.blockLocations.get(b);
              if (!s) this.blockLocations.set(b, (s = new Set()));
              s.add(execId);
            }
            onResult(p, bytes, execId);
          } catch (e) {
            this.ts.abandon(set);
            reject(e);
            return;
          }
          this.emit('taskEnd', { stageId, partition: p });
          if (--remaining === 0) {
            const seconds = Math.round(performance.now() - started) / 1000;
            log.info(
              { jobId, stageId, attempt, tasks: tasks.length, seconds },
              `stage ${stageId} finished in ${seconds} s`,
            );
            this.emit('stageCompleted', { stageId, attempt });
            resolve();
          }
        },
        onAbort: (e) => reject(e),
        onFetchFailed: (sid, mapIndex, execId, err) => reject(new FetchFailedSignal(sid, mapIndex, execId, err)),
        onTaskStart: () => this.emit('taskStart', { stageId }),
      });
      this.ts.submit(set);
    });
  }

  /** parallelize() slices and cached-block locations for partition p of a stage rooted at rdd. */
  private taskInputs(rdd: LineageNode, p: number): { slices: TaskBody['slices']; preferred: string[] } {
    let slices: TaskBody['slices'];
    const preferred = new Set<string>();
    const seen = new Set<string>();
    const visit = (r: LineageNode, q: number) => {
      const key = `${r.id}:${q}`;
      if (seen.has(key)) return;
      seen.add(key);
      if (r.storageLevel) {
        const locs = this.blockLocations.get(`rdd_${r.id}_${q}`);
        // inputs below are still shipped: the task may land elsewhere and recompute
        if (locs) for (const l of locs) preferred.add(l);
      }
      const s = r.slice(q);
      if (s) {
        slices ??= {};
        (slices[r.id] ??= {})[q] = s;
      }
      for (const [pr, pq] of r.narrowInputs(q)) visit(pr, pq);
    };
    visit(rdd, p);
    return { slices, preferred: [...preferred] };
  }

  /** Forgets a shuffle that no live RDD can read any more (emits 'shuffleRemoved' for the executors). */
  removeShuffle(shuffleId: number): void {
    const s = this.shuffleStages.get(shuffleId);
    if (!s || s.inflight || this.stopped) return;
    this.shuffleStages.delete(shuffleId);
    this.mapOutputs.delete(shuffleId);
    this.emit('shuffleRemoved', { shuffleId });
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
    this.stopped = true;
    for (const c of this.active) c(reason);
  }
}
