/**
 * Evaluates a plan (src/api/plan.ts) for one partition on an executor, as an async stream of record
 * batches. Narrow operators are fused into plain loops over each batch (no per-record promise).
 * Owns: partition computation, cache reads/writes. Must not talk to the driver (task-runner does).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CinderError } from '../common/errors.js';
import { readTextSplit, readWholeFiles } from '../io/text-reader.js';
import type { FnRef } from '../plan/fn-ref.js';
import type { OpSpec, PlanNode, ShuffleDepSpec, StageBody } from '../plan/plan.js';
import type { Aggregator } from '../shuffle/aggregator.js';
import type { BlockFetcher } from '../shuffle/block-fetcher.js';
import { compareKeys } from '../shuffle/partitioner.js';
import { readShuffle } from '../shuffle/reader.js';
import { readBatches } from '../storage/batch-file.js';
import type { BlockStore } from '../storage/block-store.js';
import { BUILTIN_AGGREGATORS, BUILTINS, STREAMING_BUILTINS } from './builtins.js';
import { bufferPartition } from './partition-input.js';
import type { TaskMetrics } from './task-metrics.js';

export type Batches = AsyncIterable<unknown[]>;
const BATCH = 4096;

export interface ComputeEnv {
  executorId: string;
  stage: StageBody;
  nodes: Map<number, PlanNode>;
  slices: Record<number, Record<number, unknown[]>> | undefined;
  /** compiles a shipped function (bound to this task's accumulators) */
  fn: <F extends (...a: any[]) => any>(ref: FnRef) => F;
  blockStore: BlockStore;
  fetcher: BlockFetcher;
  shuffleDir: string;
  spillDir: string;
  memoryLimitBytes: number;
  blocksAdded: string[];
  /** lets other work (I/O, heartbeats) run between batches */
  yieldNow: () => Promise<void>;
  /** the task's metrics (src/executor/task-metrics.ts), counted per batch */
  metrics?: TaskMetrics | undefined;
}

export function node(env: ComputeEnv, id: number): PlanNode {
  const n = env.nodes.get(id);
  if (!n) throw new Error(`plan node ${id} missing from stage ${env.stage.stageId}`);
  return n;
}

export function compute(env: ComputeEnv, id: number, p: number): Batches {
  const n = node(env, id);
  if (n.storageLevel) return cached(env, n, p);
  return computeUncached(env, n, p);
}

async function* cached(env: ComputeEnv, n: PlanNode, p: number): Batches {
  const blockId = `rdd_${n.id}_${p}`;
  const hit = await env.blockStore.get(blockId);
  if (hit) {
    yield* chunk(hit);
    return;
  }
  const all: unknown[] = [];
  for await (const b of computeUncached(env, n, p)) for (const r of b) all.push(r);
  if (await env.blockStore.put(blockId, all, n.storageLevel!)) env.blocksAdded.push(blockId);
  yield* chunk(all);
}

function* chunk(all: unknown[]): Iterable<unknown[]> {
  if (all.length <= BATCH) {
    if (all.length) yield all;
    return;
  }
  for (let i = 0; i < all.length; i += BATCH) yield all.slice(i, i + BATCH);
}

async function* computeUncached(env: ComputeEnv, n: PlanNode, p: number): Batches {
  switch (n.kind) {
    case 'parallel': {
      const data = env.slices?.[n.id]?.[p] ?? [];
      yield* chunk(data);
      return;
    }
    case 'range': {
      const size = Math.ceil((n.end - n.start) / n.step);
      const count = Math.max(0, size);
      const from = Math.floor((p * count) / n.numSlices);
      const to = Math.floor(((p + 1) * count) / n.numSlices);
      for (let i = from; i < to; i += BATCH) {
        const stop = Math.min(to, i + BATCH);
        const b = new Array<number>(stop - i);
        for (let j = i; j < stop; j++) b[j - i] = n.start + j * n.step;
        yield b;
      }
      return;
    }
    case 'text': {
      const split = n.splits[p];
      if (split)
        yield* env.metrics
          ? env.metrics.countInput(split.end - split.start, readTextSplit(split))
          : readTextSplit(split);
      return;
    }
    case 'wholeText': {
      const split = n.splits[p];
      if (split) yield* readWholeFiles(split);
      return;
    }
    case 'binaryFiles': {
      const split = n.splits[p];
      if (split) yield* readBinaryFiles(split, n.recordLength);
      return;
    }
    case 'empty':
      return;
    case 'narrow':
      yield* applyOps(env, n.ops, compute(env, n.parent, p), p);
      return;
    case 'union': {
      let q = p;
      for (let i = 0; i < n.parents.length; i++) {
        const c = n.counts[i]!;
        if (q < c) {
          yield* compute(env, n.parents[i]!, q);
          return;
        }
        q -= c;
      }
      return;
    }
    case 'coalesce':
      for (const q of n.groups[p] ?? []) yield* compute(env, n.parent, q);
      return;
    case 'cartesian': {
      const right = await materialize(compute(env, n.b, p % n.nb));
      for await (const batch of compute(env, n.a, Math.floor(p / n.nb))) {
        const out: unknown[] = [];
        for (const x of batch) for (const y of right) out.push([x, y]);
        if (out.length) yield out;
      }
      return;
    }
    case 'zip': {
      const a = await materialize(compute(env, n.a, p));
      const b = await materialize(compute(env, n.b, p));
      if (a.length !== b.length)
        throw new CinderError(
          'ZIP_MISMATCH',
          `zip: partition ${p} has ${a.length} elements on the left and ${b.length} on the right`,
          'zip needs both RDDs to have the same number of partitions and the same number of elements in each partition',
        );
      yield* chunk(a.map((x, i) => [x, b[i]]));
      return;
    }
    case 'shuffled':
      yield* readShuffled(env, n.dep, p, n.sort);
      return;
    case 'cogroup':
      yield* cogroup(env, n.deps, p);
      return;
    case 'pipe':
      yield* pipe(env, n.parent, p, n.command, n.env, n.checkCode === true);
      return;
    case 'checkpointed': {
      yield* readBatches(path.join(n.dir, `part-${String(p).padStart(5, '0')}`));
      return;
    }
    case 'localCheckpointed':
      // cached() found no block here: the lineage that could rebuild it is gone
      throw localCheckpointBlockLost(n.id, p);
  }
}

function localCheckpointBlockLost(rddId: number, p: number): CinderError {
  return new CinderError(
    'CHECKPOINT_BLOCK_LOST',
    `block rdd_${rddId}_${p} of locally checkpointed RDD ${rddId} is lost: the executor that held it is gone, or the RDD was unpersisted, and localCheckpoint() cut the lineage that could recompute it`,
    'use rdd.checkpoint() (after sc.setCheckpointDir(dir)) for data that must survive a lost executor: slower than localCheckpoint(), but reliable',
  );
}

export async function materialize(b: Batches): Promise<unknown[]> {
  const all: unknown[] = [];
  for await (const batch of b) for (const r of batch) all.push(r);
  return all;
}

async function* applyOps(env: ComputeEnv, ops: OpSpec[], input: Batches, p: number): Batches {
  // whole-partition operators (mapPartitions, builtins) split the op list into fused segments
  const first = ops.findIndex((o) => !fusable(o));
  if (first === -1) {
    const step = fuse(env, ops);
    for await (const b of input) {
      const out = step(b);
      if (out.length) yield out;
      await env.yieldNow();
    }
    return;
  }
  const before = first > 0 ? applyOps(env, ops.slice(0, first), input, p) : input;
  const op = ops[first]!;
  const rest = ops.slice(first + 1);
  const streaming = op.op === 'builtin' ? STREAMING_BUILTINS[op.name] : undefined;
  if (streaming && op.op === 'builtin') {
    const s = streaming(op.args, p);
    for await (const b of before) s.add(b);
    const out = batchesOf(s.end());
    yield* rest.length ? applyOps(env, rest, out, p) : out;
    return;
  }
  // the function sees the whole partition: buffered up to half the budget, then read back from disk
  const whole = await bufferPartition(before, env.memoryLimitBytes / 2, env.spillDir);
  try {
    let produced: Iterable<unknown> | AsyncIterable<unknown>;
    if (op.op === 'builtin') {
      const b = BUILTINS[op.name];
      if (!b) throw new Error(`unknown builtin ${op.name}`);
      produced = b(whole.records, op.args, p);
    } else if (op.op === 'mapPartitions') {
      const f = env.fn<(...a: unknown[]) => unknown>(op.f);
      const r = op.withIndex ? f(p, whole.records) : f(whole.records);
      produced = toIterable(r, 'mapPartitions');
    } else throw new Error('unreachable');
    const stream = batchesOf(produced);
    yield* rest.length ? applyOps(env, rest, stream, p) : stream;
  } finally {
    await whole.dispose();
  }
}

function toIterable(r: unknown, what: string): Iterable<unknown> | AsyncIterable<unknown> {
  if (
    r != null &&
    (typeof (r as any)[Symbol.iterator] === 'function' || typeof (r as any)[Symbol.asyncIterator] === 'function')
  )
    return r as Iterable<unknown>;
  throw new CinderError(
    'NOT_ITERABLE',
    `${what}: the function must return an iterable (an array or a generator), got ${r === null ? 'null' : typeof r}`,
    'return an array, or write the function as a generator: function* (it) { for (const x of it) yield x }',
  );
}

async function* batchesOf(src: Iterable<unknown> | AsyncIterable<unknown>): Batches {
  let b: unknown[] = [];
  if (Symbol.asyncIterator in (src as object)) {
    for await (const r of src as AsyncIterable<unknown>) {
      b.push(r);
      if (b.length >= BATCH) {
        yield b;
        b = [];
      }
    }
  } else {
    if (Array.isArray(src)) {
      yield* chunk(src);
      return;
    }
    for (const r of src as Iterable<unknown>) {
      b.push(r);
      if (b.length >= BATCH) {
        yield b;
        b = [];
      }
    }
  }
  if (b.length) yield b;
}

function fusable(o: OpSpec): boolean {
  return o.op !== 'mapPartitions' && o.op !== 'builtin';
}

/**
 * Pushes every record of partition p of node `id` into `push`, and awaits `afterBatch` after each
 * input batch. A narrow node of per-record operators is fused straight into `push` (Spark's
 * pipelining into the shuffle writer): the records between its operators are never collected into
 * arrays, so they die young.
 */
export async function computeInto(
  env: ComputeEnv,
  id: number,
  p: number,
  push: (x: unknown) => void,
  afterBatch: () => Promise<void>,
): Promise<void> {
  const n = node(env, id);
  const fused = !n.storageLevel && n.kind === 'narrow' && n.ops.every(fusable);
  const head = fused ? fuseTo(env, n.ops, push) : push;
  for await (const b of fused ? compute(env, n.parent, p) : compute(env, id, p)) {
    for (let i = 0; i < b.length; i++) head(b[i]);
    await afterBatch();
    if (fused) await env.yieldNow();
  }
}

/**
 * Fuses a run of per-record operators into one pass over a batch: each operator pushes its output
 * straight into the next one (no intermediate array per operator), and the last appends to the
 * output batch.
 */
function fuse(env: ComputeEnv, ops: OpSpec[]): (b: unknown[]) => unknown[] {
  let out: unknown[] = [];
  const head = fuseTo(env, ops, (x) => {
    out.push(x);
  });
  return (b) => {
    out = [];
    for (let i = 0; i < b.length; i++) head(b[i]);
    return out;
  };
}

/** The per-record operators `ops` composed in front of `terminal`. */
function fuseTo(env: ComputeEnv, ops: OpSpec[], terminal: (x: unknown) => void): (x: unknown) => void {
  let sink = terminal;
  for (let i = ops.length - 1; i >= 0; i--) {
    const o = ops[i]!;
    const next = sink;
    switch (o.op) {
      case 'map': {
        const f = env.fn<(x: unknown) => unknown>(o.f);
        sink = (x) => next(f(x));
        break;
      }
      case 'filter': {
        const f = env.fn<(x: unknown) => unknown>(o.f);
        sink = (x) => {
          if (f(x)) next(x);
        };
        break;
      }
      case 'flatMap': {
        const f = env.fn<(x: unknown) => unknown>(o.f);
        sink = (x) => {
          const r = f(x);
          if (Array.isArray(r)) for (let j = 0; j < r.length; j++) next(r[j]);
          else for (const y of toIterable(r, 'flatMap') as Iterable<unknown>) next(y);
        };
        break;
      }
      case 'mapValues': {
        const f = env.fn<(x: unknown) => unknown>(o.f);
        sink = (x) => {
          const kv = x as [unknown, unknown];
          next([kv[0], f(kv[1])]);
        };
        break;
      }
      case 'flatMapValues': {
        const f = env.fn<(x: unknown) => unknown>(o.f);
        sink = (x) => {
          const kv = x as [unknown, unknown];
          for (const v of toIterable(f(kv[1]), 'flatMapValues') as Iterable<unknown>) next([kv[0], v]);
        };
        break;
      }
      case 'keyBy': {
        const f = env.fn<(x: unknown) => unknown>(o.f);
        sink = (x) => next([f(x), x]);
        break;
      }
      default:
        throw new Error(`operator ${o.op} cannot be fused`);
    }
  }
  return sink;
}

export function aggregatorOf(env: ComputeEnv, dep: ShuffleDepSpec): Aggregator | undefined {
  if (dep.builtinAggregator) {
    const a = BUILTIN_AGGREGATORS[dep.builtinAggregator as keyof typeof BUILTIN_AGGREGATORS];
    if (!a) throw new Error(`unknown builtin aggregator ${dep.builtinAggregator}`);
    return a as unknown as Aggregator;
  }
  if (!dep.aggregator) return undefined;
  const mergeValue = env.fn<(c: unknown, v: unknown) => unknown>(dep.aggregator.mergeValue);
  return {
    createCombiner: env.fn(dep.aggregator.createCombiner),
    mergeValue,
    mergeCombiners: env.fn(dep.aggregator.mergeCombiners),
    reduce: dep.aggregator.reduce ? mergeValue : undefined,
  };
}

function readShuffled(env: ComputeEnv, dep: ShuffleDepSpec, p: number, sort?: { ascending: boolean }): Batches {
  const locations = env.stage.mapLocations[dep.shuffleId];
  if (!locations) throw new Error(`no map output locations for shuffle ${dep.shuffleId}`);
  const kf = dep.keyFunc ? env.fn<(k: unknown) => unknown>(dep.keyFunc) : undefined;
  return readShuffle({
    shuffleId: dep.shuffleId,
    reduceId: p,
    locations,
    fetcher: env.fetcher,
    local: { executorId: env.executorId, dir: env.shuffleDir },
    aggregator: aggregatorOf(env, dep),
    mapSideCombined: dep.mapSideCombine,
    sort: sort
      ? { ascending: sort.ascending, compare: kf ? (a: unknown, b: unknown) => compareKeys(kf(a), kf(b)) : undefined }
      : undefined,
    memoryLimitBytes: env.memoryLimitBytes,
    spillDir: env.spillDir,
    metrics: env.metrics?.shuffleRead,
  } as Parameters<typeof readShuffle>[0]);
}

/**
 * cogroup/join, memory-bounded: each side is read grouped by key and sorted by key (both spill past
 * the memory budget), then the sorted streams are merged; only one key's groups are in memory at once.
 */
async function* cogroup(env: ComputeEnv, deps: ShuffleDepSpec[], p: number): Batches {
  const n = deps.length;
  const its = deps.map((d) => readShuffled(env, d, p, { ascending: true })[Symbol.asyncIterator]());
  const batch: ([unknown, unknown[]][] | undefined)[] = new Array(n);
  const pos = new Array<number>(n).fill(0);
  const fill = async (i: number): Promise<void> => {
    while (batch[i] === undefined || pos[i]! >= batch[i]!.length) {
      const r = await its[i]!.next();
      if (r.done) {
        batch[i] = undefined;
        return;
      }
      batch[i] = r.value as [unknown, unknown[]][];
      pos[i] = 0;
    }
  };
  for (let i = 0; i < n; i++) await fill(i);
  let out: unknown[] = [];
  try {
    for (;;) {
      let min: [unknown, unknown[]] | undefined;
      for (let i = 0; i < n; i++) {
        const b = batch[i];
        if (!b) continue;
        const head = b[pos[i]!]!;
        if (!min || compareKeys(head[0], min[0]) < 0) min = head;
      }
      if (!min) break;
      const key = min[0];
      const groups: unknown[][] = [];
      for (let i = 0; i < n; i++) {
        const side: unknown[] = [];
        // a key may span batches of one side
        while (batch[i] && compareKeys(batch[i]![pos[i]!]![0], key) === 0) {
          for (const v of batch[i]![pos[i]!]![1]) side.push(v);
          pos[i]!++;
          if (pos[i]! >= batch[i]!.length) await fill(i);
        }
        groups.push(side);
      }
      out.push([key, groups]);
      if (out.length >= BATCH) {
        yield out;
        out = [];
        await env.yieldNow();
      }
    }
    if (out.length) yield out;
  } finally {
    await Promise.all(its.map((it) => it.return?.()));
  }
}

/** Whole files as [path, Buffer] (not decompressed), or cut into fixed-length records. */
async function* readBinaryFiles(split: { files: string[] }, recordLength: number | undefined): Batches {
  for (const file of split.files) {
    const data = await fs.promises.readFile(file);
    if (recordLength === undefined) {
      yield [[file, data]];
      continue;
    }
    if (data.length % recordLength !== 0)
      throw new CinderError(
        'BAD_RECORD_LENGTH',
        `binaryRecords: ${file} is ${data.length} bytes, not a multiple of the record length ${recordLength}`,
        'check recordLength, or the file is truncated',
      );
    let out: Buffer[] = [];
    for (let at = 0; at < data.length; at += recordLength) {
      out.push(data.subarray(at, at + recordLength));
      if (out.length >= BATCH) {
        yield out;
        out = [];
      }
    }
    if (out.length) yield out;
  }
}

async function* pipe(
  env: ComputeEnv,
  parent: number,
  p: number,
  command: string[],
  extraEnv: Record<string, string>,
  checkCode: boolean,
): Batches {
  const [cmd, ...args] = command;
  if (!cmd) throw new CinderError('BAD_ARGUMENT', 'pipe(): empty command');
  const child = spawn(cmd, args, { env: { ...process.env, ...extraEnv }, stdio: ['pipe', 'pipe', 'inherit'] });
  const failed = new Promise<never>((_, reject) =>
    child.once('error', (e) => reject(new CinderError('PIPE_FAILED', `pipe(): could not run ${cmd}: ${e.message}`))),
  );
  failed.catch(() => {});
  // a command that stops reading early (e.g. `head`) closes its stdin: stop feeding it, not an error
  let stdinClosed = false;
  child.stdin.on('error', () => {
    stdinClosed = true;
  });
  child.stdin.on('close', () => {
    stdinClosed = true;
  });
  const feed = (async () => {
    for await (const b of compute(env, parent, p)) {
      if (stdinClosed) break;
      const text = `${b.map(String).join('\n')}\n`;
      if (!child.stdin.write(text) && !stdinClosed)
        await new Promise((r) => {
          child.stdin.once('drain', r);
          child.stdin.once('close', r);
        });
    }
    if (!stdinClosed) child.stdin.end();
  })();
  feed.catch(() => child.kill());
  let tail = '';
  for await (const chunkBuf of child.stdout) {
    const s = tail + chunkBuf.toString('utf8');
    const lines = s.split('\n');
    tail = lines.pop()!;
    if (lines.length) yield lines;
  }
  if (tail) yield [tail];
  const code = await Promise.race([new Promise<number>((r) => child.once('close', (c) => r(c ?? 1))), failed]);
  await feed;
  if (code !== 0 && checkCode)
    throw new CinderError('PIPE_FAILED', `pipe(): command ${command.join(' ')} exited with code ${code}`);
}
