/**
 * Runs one task: decodes its body, loads the functions it ships, computes the partition and either
 * writes shuffle output (map task) or runs the result operation. Turns every failure into a
 * TaskFailure the scheduler can act on. Runs inside a task worker thread (src/executor/worker.ts),
 * never on the thread that talks to the driver.
 */
import fs from 'node:fs';
import path from 'node:path';
import { toWireError } from '../common/errors.js';
import { decode, encode, registeredClassCount } from '../common/serde.js';
import type { FnRef } from '../plan/fn-ref.js';
import { collectFnRefs } from '../plan/fn-refs.js';
import type { StageBody, TaskBody } from '../plan/plan.js';
import { parseStageBody } from '../plan/schema.js';
import type { TaskDescription, TaskStatus } from '../protocol/executor.js';
import { BlockFetcher } from '../shuffle/block-fetcher.js';
import { partitionFn } from '../shuffle/partitioner.js';
import { FetchFailedError } from '../shuffle/reader.js';
import { writeShuffleOutput } from '../shuffle/writer.js';
import { BlockStore } from '../storage/block-store.js';
import { TaskAccumulator } from './accumulate.js';
import { aggregatorOf, type ComputeEnv, compute, computeInto } from './compute.js';
import { compileFn, type FnEnv, prepareBundles, prepareFns } from './fn-loader.js';
import { killedStatus } from './killed.js';
import { runResultOp } from './result-ops.js';
import { TaskMetrics } from './task-metrics.js';

const afterNothing = async (): Promise<void> => {};

export interface RunnerOptions {
  executorId: string;
  appId: string;
  secret: string;
  workDir: string;
  /** executor-wide shuffle output dir (served by the block server) */
  shuffleDir: string;
  /** execution memory: shuffle sorts and aggregations spill past it (by estimate) */
  memoryLimitBytes: number;
  /** storage memory: cached partitions past it go to disk */
  storageMemoryBytes: number;
  /** asks the executor's main thread (which asks the driver) */
  fetchFile(name: string): Promise<Uint8Array>;
  getBroadcast(id: number): Promise<Uint8Array>;
}

function broadcastIds(refs: FnRef[]): number[] {
  const ids = new Set<number>();
  for (const r of refs) for (const c of Object.values(r.caps)) if (c.t === 'b') ids.add(c.id);
  return [...ids];
}

/** Thrown at the running task's next batch once it was asked to stop. */
class TaskKilledError extends Error {
  constructor(readonly reason: string) {
    super(`task killed: ${reason}`);
  }
}

export class TaskRunner {
  /** the running task, and why it must stop if it was asked to */
  private current: { taskId: number; killed?: string | undefined } | undefined;
  private readonly stages = new Map<number, { bytes: Uint8Array; body: StageBody; refs: FnRef[] }>();
  private readonly broadcasts = new Map<number, { id: number; value: unknown }>();
  readonly blockStore: BlockStore;
  readonly fetcher: BlockFetcher;
  readonly shuffleDir: string;
  readonly spillDir: string;
  readonly codeDir: string;

  constructor(private readonly o: RunnerOptions) {
    this.shuffleDir = o.shuffleDir;
    this.spillDir = path.join(o.workDir, 'spill');
    this.codeDir = path.join(o.workDir, 'code');
    for (const d of [this.shuffleDir, this.spillDir, this.codeDir]) fs.mkdirSync(d, { recursive: true });
    this.blockStore = new BlockStore({
      dir: path.join(o.workDir, 'blocks'),
      memoryLimitBytes: o.storageMemoryBytes,
    });
    this.fetcher = new BlockFetcher({ principal: o.appId, secret: o.secret });
  }

  private stage(desc: TaskDescription, bytes: Uint8Array): { body: StageBody; refs: FnRef[] } {
    const hit = this.stages.get(desc.stageId);
    if (
      hit &&
      Buffer.compare(
        Buffer.from(hit.bytes.buffer, hit.bytes.byteOffset, hit.bytes.byteLength),
        Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
      ) === 0
    )
      return hit;
    const body = parseStageBody(decode(bytes));
    const refs = collectFnRefs([body.nodes, body.resultOp, body.shuffleDep]);
    const entry = { bytes, body, refs };
    this.stages.set(desc.stageId, entry);
    if (this.stages.size > 64) this.stages.delete(this.stages.keys().next().value!);
    return entry;
  }

  /**
   * Asks the running task to stop: it ends at its next batch (and reports KILLED whatever it returns).
   * A task that does not get there (user code in a loop) is stopped by the main thread replacing this thread.
   */
  kill(taskId: number, reason: string): void {
    if (this.current?.taskId === taskId) this.current.killed = reason;
  }

  async run(desc: TaskDescription): Promise<TaskStatus> {
    const current: { taskId: number; killed?: string | undefined } = { taskId: desc.taskId };
    this.current = current;
    try {
      const status = await this.runTask(desc, current);
      return current.killed === undefined ? status : killedStatus(desc.taskId, current.killed, status.metrics?.runMs);
    } finally {
      this.current = undefined;
    }
  }

  private async runTask(desc: TaskDescription, current: { killed?: string | undefined }): Promise<TaskStatus> {
    const metrics = new TaskMetrics();
    const accums = new Map<number, TaskAccumulator>();
    const blocksAdded: string[] = [];
    try {
      const classes = registeredClassCount();
      let task = decode<TaskBody>(desc.body);
      let { body, refs } = this.stage(desc, task.stage);
      const files = { fetchFile: (name: string) => this.o.fetchFile(name), codeDir: this.codeDir };
      // the modules that registered classes on the driver run here first: records, captures and
      // broadcasts of those classes then decode as instances
      if (body.classBundles) await prepareBundles(body.classBundles, files);
      const fnEnv: FnEnv = {
        scope: String(desc.stageId),
        ...files,
        broadcast: (id) => this.broadcasts.get(id),
        accumulator: (id, terms) => {
          let a = accums.get(id);
          if (!a) accums.set(id, (a = new TaskAccumulator(id, terms)));
          return a;
        },
      };
      await prepareFns(refs, fnEnv);
      // classes registered since the task was decoded (by the modules above, or imported by the functions):
      // its slices and the stage's captured values are decoded again, as instances
      if (registeredClassCount() !== classes) {
        task = decode<TaskBody>(desc.body);
        this.stages.delete(desc.stageId);
        ({ body, refs } = this.stage(desc, task.stage));
      }
      for (const id of broadcastIds(refs)) {
        // user code reads a broadcast as `b.value`, as on the driver
        if (!this.broadcasts.has(id))
          this.broadcasts.set(id, Object.freeze({ id, value: decode(await this.o.getBroadcast(id)) }));
      }
      const env: ComputeEnv = {
        executorId: this.o.executorId,
        stage: body,
        nodes: new Map(body.nodes.map((n) => [n.id, n])),
        slices: task.slices,
        fn: (ref) => compileFn(ref, fnEnv),
        blockStore: this.blockStore,
        fetcher: this.fetcher,
        shuffleDir: this.shuffleDir,
        spillDir: this.spillDir,
        memoryLimitBytes: this.o.memoryLimitBytes,
        blocksAdded,
        // between batches: messages from the main thread (a kill) are read here
        yieldNow: () =>
          new Promise<void>((resolve, reject) =>
            setImmediate(() =>
              current.killed === undefined ? resolve() : reject(new TaskKilledError(current.killed)),
            ),
          ),
        metrics,
      };
      let result: unknown;
      if (body.shuffleDep) {
        const dep = body.shuffleDep;
        const n = dep.partitioner.numPartitions;
        const pf = dep.partitionFunc ? compileFn<(k: unknown) => number>(dep.partitionFunc, fnEnv) : undefined;
        const part = pf ? (k: unknown) => ((Number(pf(k)) % n) + n) % n : partitionFn(dep.partitioner);
        const kf = dep.keyFunc ? compileFn<(k: unknown) => unknown>(dep.keyFunc, fnEnv) : undefined;
        const writeStart = performance.now();
        const info = await writeShuffleOutput({
          dir: this.shuffleDir,
          shuffleId: dep.shuffleId,
          mapIndex: task.partition,
          numPartitions: dep.partitioner.numPartitions,
          partition: kf ? (k) => part(kf(k)) : part,
          aggregator: dep.mapSideCombine ? aggregatorOf(env, dep) : undefined,
          input: (push, afterBatch) => computeInto(env, body.rootId, task.partition, push, afterBatch),
          memoryLimitBytes: this.o.memoryLimitBytes,
        } as Parameters<typeof writeShuffleOutput>[0]);
        metrics.recordShuffleWrite(info, performance.now() - writeStart);
        result = { sizes: info.sizes, records: info.records };
      } else {
        result = await runResultOp(
          env,
          body.resultOp!,
          compute(env, body.rootId, task.partition),
          task.partition,
          `attempt_${desc.stageId}_${task.partition}_${desc.attempt}_${desc.taskId}`,
          (push) => computeInto(env, body.rootId, task.partition, push, afterNothing),
        );
      }
      const encoded = encode(result);
      metrics.resultBytes = encoded.byteLength;
      const wire = metrics.toWire();
      if (blocksAdded.length) wire.blockSizes = blocksAdded.map((b) => this.blockStore.sizeOf(b));
      const accumUpdates = [...accums.values()]
        .filter((a) => a.partial !== undefined)
        .map((a) => [a.id, a.partial] as [number, unknown]);
      // empty lists stay off the wire (a short task's status is mostly its metrics)
      return {
        taskId: desc.taskId,
        state: 'FINISHED',
        result: encoded,
        ...(accumUpdates.length ? { accumUpdates } : {}),
        ...(blocksAdded.length ? { blocksAdded } : {}),
        metrics: wire,
      };
    } catch (e) {
      if (e instanceof FetchFailedError) {
        return {
          taskId: desc.taskId,
          state: 'FAILED',
          failure: {
            kind: 'FetchFailed',
            shuffleId: e.shuffleId,
            mapIndex: e.mapIndex,
            executorId: e.executorId,
            error: toWireError(e),
          },
          metrics: metrics.toWire(),
        };
      }
      return {
        taskId: desc.taskId,
        state: 'FAILED',
        failure: { kind: 'Exception', error: toWireError(e), countsTowardFailures: true },
        blocksAdded,
        metrics: metrics.toWire(),
      };
    }
  }

  async close(): Promise<void> {
    this.fetcher.close();
    await this.blockStore.close();
  }
}
