/**
 * RDD<T>: the typed dataset API, mirroring PySpark's RDD (same method names, argument order and
 * semantics). Transformations are lazy and synchronous and return new RDDs over immutable lineage;
 * actions are async. Functions passed in are shipped to executors (see src/api/closure.ts): an
 * optional trailing plain object lists the outer values they use, e.g. `rdd.map((x) => x * k, { k })`.
 *
 * Owns: lineage construction, plan nodes, driver-side parts of actions. Must not schedule (the
 * context's DAG scheduler does) nor compute partitions (executors do).
 */
import { CinderError } from '../common/errors.js';
import { mapKey } from '../common/map-key.js';
import { rng } from '../common/random.js';
import type { StatCounterData } from '../common/stats.js';
import { type BuiltinOpName, isBuiltinOp, type StreamingBuiltinOpName } from '../plan/builtins.js';
import type { EngineHelpers } from '../plan/fn-wire.js';
import type { LineageNode } from '../plan/lineage.js';
import type { NodeSpec, OpSpec, PlanNode, ResultOp, ShuffleDepSpec } from '../plan/plan.js';
import type { StorageLevelName } from '../plan/storage-level.js';
import { compareKeys, type PartitionerSpec, portableHash, rangeBounds } from '../shuffle/partitioner.js';
import { type Captures, captureFn, type FnRef } from './closure.js';
import type { CinderContext } from './context.js';
import { StatCounter } from './stat-counter.js';

export type { Captures } from './closure.js';

/** A key-value pair: a 2-tuple, mutable or readonly (`[k, v] as const`). */
export type Pair<K, V> = [K, V] | readonly [K, V];

/**
 * A literal type widened to its primitive (`1` → number, `'a'` → string): pairs written `as const` infer
 * their values as literals, and a reduce function over them returns the primitive.
 */
export type Widen<T> = T extends number
  ? number
  : T extends string
    ? string
    : T extends boolean
      ? boolean
      : T extends bigint
        ? bigint
        : T;

function isCaps(v: unknown): v is Captures {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;
}

function checkPartitions(n: number | undefined, what: string): void {
  if (n === undefined || n === null) return;
  if (!Number.isInteger(n) || n <= 0)
    throw new CinderError(
      'BAD_ARGUMENT',
      `${what}: numPartitions must be a positive integer, got ${String(n)}`,
      'pass a number >= 1 or leave it out',
    );
}

interface RddInit {
  spec: NodeSpec;
  numPartitions: number;
  parents?: RDD<any>[];
  deps?: Array<{ spec: ShuffleDepSpec; rdd: RDD<any> }>;
  slices?: unknown[][];
  partitioner?: PartitionerSpec | undefined;
  prepare?: () => Promise<void>;
}

export class RDD<T> implements LineageNode {
  readonly id: number;
  /** @internal */ spec: NodeSpec;
  /** @internal */ parents: RDD<any>[];
  /** @internal */ deps: Array<{ spec: ShuffleDepSpec; rdd: RDD<any> }>;
  /** @internal */ readonly slices: unknown[][] | undefined;
  /** @internal */ prepareHook: (() => Promise<void>) | undefined;
  readonly numPartitions: number;
  /** How the RDD's keys are partitioned, when known (after a shuffle). */
  readonly partitioner: PartitionerSpec | undefined;
  storageLevel: StorageLevelName | undefined;
  /** @internal */ checkpointRequested = false;
  /** @internal */ checkpointDir: string | undefined;
  /** @internal */ locallyCheckpointed = false;
  private rddName: string | undefined;

  /** @internal use the context's and RDD's methods to make RDDs */
  constructor(
    readonly context: CinderContext,
    init: RddInit,
  ) {
    this.id = context._newRddId();
    this.spec = init.spec;
    this.numPartitions = init.numPartitions;
    this.parents = init.parents ?? [];
    this.deps = init.deps ?? [];
    this.slices = init.slices;
    this.partitioner = init.partitioner;
    this.prepareHook = init.prepare;
  }

  // ---------------------------------------------------------------- LineageNode (internal)
  /** @internal */
  planNode(): PlanNode {
    return {
      ...this.spec,
      id: this.id,
      numPartitions: this.numPartitions,
      storageLevel: this.storageLevel,
    } as PlanNode;
  }
  /** @internal */
  narrowParents(): RDD<any>[] {
    return this.parents;
  }
  /** @internal */
  shuffleDeps(): Array<{ spec: ShuffleDepSpec; rdd: RDD<any> }> {
    return this.deps;
  }
  /** @internal */
  slice(p: number): unknown[] | undefined {
    return this.slices?.[p];
  }
  /** @internal */
  narrowInputs(p: number): Array<[RDD<any>, number]> {
    const s = this.spec;
    switch (s.kind) {
      case 'narrow':
      case 'pipe':
        return [[this.parents[0]!, p]];
      case 'union': {
        let q = p;
        for (let i = 0; i < s.counts.length; i++) {
          if (q < s.counts[i]!) return [[this.parents[i]!, q]];
          q -= s.counts[i]!;
        }
        return [];
      }
      case 'coalesce':
        return (s.groups[p] ?? []).map((q) => [this.parents[0]!, q] as [RDD<any>, number]);
      case 'cartesian':
        return [
          [this.parents[0]!, Math.floor(p / s.nb)],
          [this.parents[1]!, p % s.nb],
        ];
      case 'zip':
        return [
          [this.parents[0]!, p],
          [this.parents[1]!, p],
        ];
      default:
        return [];
    }
  }

  private fn(f: unknown, caps: Captures | undefined, what: string): FnRef {
    return captureFn(f, caps, what);
  }

  /** @internal a narrow per-record operator, fused with the parent's operators when possible */
  _narrow<U>(op: OpSpec, preservesPartitioning = false): RDD<U> {
    const fusable = this.spec.kind === 'narrow' && !this.storageLevel && !this.checkpointRequested;
    const spec: NodeSpec =
      fusable && this.spec.kind === 'narrow'
        ? { kind: 'narrow', parent: this.spec.parent, ops: [...this.spec.ops, op] }
        : { kind: 'narrow', parent: this.id, ops: [op] };
    return new RDD<U>(this.context, {
      spec,
      numPartitions: this.numPartitions,
      parents: fusable ? this.parents : [this],
      partitioner: preservesPartitioning ? this.partitioner : undefined,
    });
  }

  private builtin<U>(
    name: BuiltinOpName | StreamingBuiltinOpName,
    args: unknown,
    preservesPartitioning = false,
  ): RDD<U> {
    if (!isBuiltinOp(name)) throw new Error(`unknown builtin ${name}`);
    return this._narrow<U>({ op: 'builtin', name, args }, preservesPartitioning);
  }

  // ---------------------------------------------------------------- basic transformations
  /**
   * The number of partitions.
   * @example sc.parallelize([1, 2, 3, 4], 2).getNumPartitions() // 2
   */
  getNumPartitions(): number {
    return this.numPartitions;
  }

  /**
   * Names this RDD (shown in toDebugString).
   * @example sc.parallelize([1, 2]).setName('RDD1').name() // 'RDD1'
   */
  setName(name: string): this {
    this.rddName = name;
    return this;
  }

  /** The name given with setName, or undefined. */
  name(): string | undefined {
    return this.rddName;
  }

  /** Returns a new RDD by applying a function to each element. */
  map<U>(f: (x: T) => U, caps?: Captures): RDD<U> {
    return this._narrow({ op: 'map', f: this.fn(f, caps, 'map(f)') });
  }

  /** Applies f to each element and flattens the results (f returns an array or iterable). */
  flatMap<U>(f: (x: T) => Iterable<U>, caps?: Captures): RDD<U> {
    return this._narrow({ op: 'flatMap', f: this.fn(f, caps, 'flatMap(f)') });
  }

  /**
   * The elements for which `f` is truthy.
   * @example await sc.parallelize([1, 2, 3, 4, 5]).filter((x) => x % 2 === 0).collect() // [2, 4]
   */
  filter(f: (x: T) => unknown, caps?: Captures): RDD<T> {
    return this._narrow({ op: 'filter', f: this.fn(f, caps, 'filter(f)') }, true);
  }

  /** f receives the partition's elements as an iterable and returns an iterable (e.g. a generator). */
  mapPartitions<U>(
    f: (it: Iterable<T>) => Iterable<U>,
    preservesPartitioning?: boolean | Captures,
    caps?: Captures,
  ): RDD<U> {
    if (isCaps(preservesPartitioning)) [caps, preservesPartitioning] = [preservesPartitioning, false];
    return this._narrow(
      { op: 'mapPartitions', f: this.fn(f, caps, 'mapPartitions(f)'), withIndex: false },
      !!preservesPartitioning,
    );
  }

  /**
   * Like mapPartitions, and `f` also receives the partition's index.
   * @example await sc.parallelize([1, 2, 3, 4], 4).mapPartitionsWithIndex(function* (i, it) { yield i; }).sum() // 6
   */
  mapPartitionsWithIndex<U>(
    f: (index: number, it: Iterable<T>) => Iterable<U>,
    preservesPartitioning?: boolean | Captures,
    caps?: Captures,
  ): RDD<U> {
    if (isCaps(preservesPartitioning)) [caps, preservesPartitioning] = [preservesPartitioning, false];
    return this._narrow(
      { op: 'mapPartitions', f: this.fn(f, caps, 'mapPartitionsWithIndex(f)'), withIndex: true },
      !!preservesPartitioning,
    );
  }

  /** Deprecated in PySpark: mapPartitionsWithIndex under its old name. */
  mapPartitionsWithSplit<U>(
    f: (index: number, it: Iterable<T>) => Iterable<U>,
    preservesPartitioning?: boolean | Captures,
    caps?: Captures,
  ): RDD<U> {
    return this.mapPartitionsWithIndex(f, preservesPartitioning, caps);
  }

  /** One array per partition. */
  glom(): RDD<T[]> {
    return this.builtin('glom', null);
  }

  /**
   * Pairs each element with the key `f` gives it.
   * @example await sc.parallelize([0, 1, 2]).keyBy((x) => x * x).collect() // [[0, 0], [1, 1], [4, 2]]
   */
  keyBy<K>(f: (x: T) => K, caps?: Captures): RDD<[K, T]> {
    return this._narrow({ op: 'keyBy', f: this.fn(f, caps, 'keyBy(f)') });
  }

  /**
   * The elements of both RDDs (duplicates kept).
   * @example await sc.parallelize([1, 1, 2, 3]).union(sc.parallelize([1, 1, 2, 3])).collect() // [1, 1, 2, 3, 1, 1, 2, 3]
   */
  union(other: RDD<T>): RDD<T> {
    return this.context.union([this, other]);
  }

  /**
   * The distinct elements (compared by value: arrays and objects by content).
   * @example (await sc.parallelize([1, 1, 2, 3]).distinct().collect()).sort() // [1, 2, 3]
   */
  distinct(numPartitions?: number): RDD<T> {
    return this.map((x) => [x, null] as [T, null])
      .reduceByKey((x) => x, numPartitions)
      .map((kv) => kv[0]);
  }

  /**
   * The distinct elements present in both RDDs.
   * @example (await sc.parallelize([1, 10, 2, 3, 4, 5]).intersection(sc.parallelize([1, 6, 2, 3, 7, 8])).collect()).sort() // [1, 2, 3]
   */
  intersection(other: RDD<T>): RDD<T> {
    return this.map((v) => [v, null] as [T, null])
      .cogroup(other.map((v) => [v, null] as [T, null]))
      .filter((kv) => kv[1][0].length > 0 && kv[1][1].length > 0)
      .keys();
  }

  /**
   * The elements of this RDD not in `other`.
   * @example await sc.parallelize([['a', 1], ['b', 4], ['b', 5], ['a', 3]]).subtract(sc.parallelize([['a', 3], ['c', null]])).collect() // [['a', 1], ['b', 4], ['b', 5]] in some order
   */
  subtract(other: RDD<T>, numPartitions?: number): RDD<T> {
    return this.map((x) => [x, true] as [T, boolean])
      .subtractByKey(
        other.map((x) => [x, true] as [T, boolean]),
        numPartitions,
      )
      .keys();
  }

  /**
   * Every pair of an element of this RDD and one of `other`.
   * @example await sc.parallelize([1, 2]).cartesian(sc.parallelize([1, 2])).collect() // [[1, 1], [1, 2], [2, 1], [2, 2]]
   */
  cartesian<U>(other: RDD<U>): RDD<[T, U]> {
    return new RDD<[T, U]>(this.context, {
      spec: { kind: 'cartesian', a: this.id, b: other.id, nb: other.numPartitions },
      numPartitions: this.numPartitions * other.numPartitions,
      parents: [this, other],
    });
  }

  /** A sampled subset (fraction is the expected size ratio; with replacement it is the expected count per element). */
  sample(withReplacement: boolean, fraction: number, seed?: number): RDD<T> {
    if (!(fraction >= 0)) throw new CinderError('BAD_ARGUMENT', `sample: fraction must be >= 0, got ${fraction}`);
    return this.builtin('sample', { withReplacement, fraction, seed: seed ?? randomSeed() }, true);
  }

  /**
   * A sample of each key's records with its own fraction (PySpark's sampleByKey): `fractions` maps every
   * key to its fraction (an object for string keys, or a Map).
   * @example sc.parallelize([['a', 1], ['b', 2]]).sampleByKey(false, { a: 1, b: 0 }, 7) // only 'a' records
   */
  sampleByKey<K, V>(
    this: RDD<Pair<K, V>>,
    withReplacement: boolean,
    fractions: Record<string, number> | Map<K, number>,
    seed?: number,
  ): RDD<[K, V]> {
    const entries: Array<[unknown, number]> =
      fractions instanceof Map ? [...fractions] : Object.entries(fractions as Record<string, number>);
    for (const [k, f] of entries)
      if (!(typeof f === 'number' && f >= 0))
        throw new CinderError('BAD_ARGUMENT', `sampleByKey: the fraction of key ${String(k)} must be >= 0, got ${f}`);
    return this.builtin(
      'sampleByKey',
      { withReplacement, fractions: entries.map(([k, f]) => [mapKey(k), f]), seed: seed ?? randomSeed() },
      true,
    );
  }

  /**
   * Splits the RDD randomly by `weights` (normalized to sum 1).
   * @example const [a, b] = sc.range(500).randomSplit([2, 3], 17); // about 200 and 300 elements
   */
  randomSplit(weights: number[], seed?: number): RDD<T>[] {
    const total = weights.reduce((a, b) => a + b, 0);
    if (!(total > 0) || weights.some((w) => w < 0))
      throw new CinderError('BAD_ARGUMENT', 'randomSplit: weights must be non-negative and sum to more than 0');
    const s = seed ?? randomSeed();
    const out: RDD<T>[] = [];
    let acc = 0;
    for (const w of weights) {
      const lb = acc / total;
      acc += w;
      out.push(this.builtin('sampleRange', { lb, ub: acc / total, seed: s }, true));
    }
    return out;
  }

  /**
   * Sorts by the key `keyfunc` gives each element.
   * @example await sc.parallelize([['a', 1], ['b', 2], ['1', 3], ['d', 4], ['2', 5]]).sortBy((x) => x[1]).collect() // sorted by the number
   */
  sortBy<K>(
    keyfunc: (x: T) => K,
    ascending?: boolean | Captures,
    numPartitions?: number | Captures,
    caps?: Captures,
  ): RDD<T> {
    if (isCaps(ascending)) [caps, ascending] = [ascending, true];
    if (isCaps(numPartitions)) [caps, numPartitions] = [numPartitions, undefined];
    return this.keyBy(keyfunc, caps)
      .sortByKey(ascending ?? true, numPartitions)
      .values();
  }

  /**
   * Groups the elements by the key `f` gives them.
   * @example await sc.parallelize([1, 1, 2, 3, 5, 8]).groupBy((x) => x % 2).collect() // [[0, [2, 8]], [1, [1, 1, 3, 5]]] in some order
   */
  groupBy<K>(f: (x: T) => K, numPartitions?: number | Captures, caps?: Captures): RDD<[K, T[]]> {
    if (isCaps(numPartitions)) [caps, numPartitions] = [numPartitions, undefined];
    return this.keyBy(f, caps).groupByKey(numPartitions);
  }

  /**
   * Pipes each partition through an external command (argv split like a shell, no shell run). As in
   * PySpark, the command's exit code is ignored unless `checkCode` is true (then non-zero fails the task).
   * @example await sc.parallelize(['1', '2', '', '3']).pipe('cat').collect() // ['1', '2', '', '3']
   */
  pipe(command: string, env?: Record<string, string>, checkCode = false): RDD<string> {
    return new RDD<string>(this.context, {
      spec: { kind: 'pipe', parent: this.id, command: splitCommand(command), env: env ?? {}, checkCode },
      numPartitions: this.numPartitions,
      parents: [this],
    });
  }

  /**
   * Fewer partitions without a shuffle (or with one when `shuffle`).
   * @example await sc.parallelize([1, 2, 3, 4, 5], 3).coalesce(1).glom().collect() // [[1, 2, 3, 4, 5]]
   */
  coalesce(numPartitions: number, shuffle = false): RDD<T> {
    checkPartitions(numPartitions, 'coalesce');
    if (shuffle) return this.repartition(numPartitions);
    const n = Math.min(numPartitions, this.numPartitions);
    const groups: number[][] = Array.from({ length: n }, () => []);
    for (let q = 0; q < this.numPartitions; q++) groups[Math.floor((q * n) / this.numPartitions)]!.push(q);
    return new RDD<T>(this.context, {
      spec: { kind: 'coalesce', parent: this.id, groups },
      numPartitions: n,
      parents: [this],
    });
  }

  /**
   * Exactly `numPartitions` partitions, through a shuffle.
   * @example sc.parallelize([1, 2, 3, 4, 5, 6, 7], 4).repartition(2).getNumPartitions() // 2
   */
  repartition(numPartitions: number): RDD<T> {
    checkPartitions(numPartitions, 'repartition');
    return this.mapPartitionsWithIndex(function* (i, it) {
      let k = i;
      for (const x of it) yield [k++, x] as [number, T];
    })
      .partitionBy(numPartitions, (k: number) => k)
      .values();
  }

  /**
   * Pairs the i-th element of this RDD with the i-th of `other` (same partitions, same sizes).
   * @example await sc.range(0, 5).zip(sc.range(1000, 1005)).collect() // [[0, 1000], [1, 1001], ...]
   */
  zip<U>(other: RDD<U>): RDD<[T, U]> {
    if (other.numPartitions !== this.numPartitions)
      throw new CinderError(
        'ZIP_MISMATCH',
        `zip: the RDDs have ${this.numPartitions} and ${other.numPartitions} partitions`,
        'zip needs the same number of partitions (and of elements in each)',
      );
    return new RDD<[T, U]>(this.context, {
      spec: { kind: 'zip', a: this.id, b: other.id },
      numPartitions: this.numPartitions,
      parents: [this, other],
    });
  }

  /**
   * Pairs each element with its index (runs a job to count the partitions first).
   * @example await sc.parallelize(['a', 'b', 'c', 'd'], 3).zipWithIndex().collect() // [['a', 0], ['b', 1], ['c', 2], ['d', 3]]
   */
  zipWithIndex(): RDD<[T, number]> {
    const args = { offsets: [0] as number[] };
    const out = this.builtin<[T, number]>('zipWithIndex', args);
    out.prepareHook = async () => {
      if (this.numPartitions <= 1) return;
      const counts = (await this.context._runJob(
        this,
        { op: 'count' },
        [...Array(this.numPartitions - 1).keys()],
        'zipWithIndex',
      )) as number[];
      let acc = 0;
      args.offsets = [0, ...counts.map((c) => (acc += c))];
    };
    return out;
  }

  /**
   * Pairs each element with a unique id (k, n+k, 2n+k, ... in partition k of n); no job needed.
   * @example await sc.parallelize(['a', 'b', 'c', 'd', 'e'], 3).zipWithUniqueId().collect() // [['a', 0], ['b', 1], ['c', 4], ['d', 2], ['e', 5]]
   */
  zipWithUniqueId(): RDD<[T, number]> {
    return this.builtin('zipWithUniqueId', { n: this.numPartitions });
  }

  // ---------------------------------------------------------------- persistence
  /**
   * Keeps the RDD's partitions in executor memory after they are first computed (MEMORY_ONLY).
   * @example const rdd = sc.parallelize(['b', 'a', 'c']).cache(); rdd.isCached() // true
   */
  cache(): this {
    return this.persist('MEMORY_ONLY');
  }

  /**
   * Keeps the RDD's partitions after they are first computed, at `storageLevel`.
   * @example sc.parallelize(['b', 'a', 'c']).persist('MEMORY_AND_DISK').getStorageLevel() // 'MEMORY_AND_DISK'
   */
  persist(storageLevel: StorageLevelName = 'MEMORY_ONLY'): this {
    if (this.storageLevel && this.storageLevel !== storageLevel)
      throw new CinderError(
        'BAD_ARGUMENT',
        `persist: RDD ${this.id} already has storage level ${this.storageLevel}`,
        'unpersist() it first',
      );
    this.storageLevel = storageLevel;
    return this;
  }

  /**
   * Drops the RDD's kept partitions.
   * @example rdd.cache(); rdd.unpersist().isCached() // false
   */
  unpersist(_blocking = false): this {
    if (this.storageLevel) this.context._unpersist(this.id);
    this.storageLevel = undefined;
    return this;
  }

  /**
   * The storage level set with persist/cache, if any.
   * @example sc.parallelize([1, 2]).cache().getStorageLevel() // 'MEMORY_ONLY'
   */
  getStorageLevel(): StorageLevelName | undefined {
    return this.storageLevel;
  }

  /**
   * Whether persist/cache was called.
   * @example sc.parallelize([1]).cache().isCached() // true
   */
  isCached(): boolean {
    return this.storageLevel !== undefined;
  }

  /** Marks the RDD for checkpointing; it is saved (and its lineage truncated) after the next action on it. */
  checkpoint(): void {
    if (!this.context._checkpointDir)
      throw new CinderError(
        'NO_CHECKPOINT_DIR',
        'checkpoint(): no checkpoint directory',
        'call sc.setCheckpointDir(dir) first',
      );
    this.checkpointRequested = true;
  }

  /**
   * Whether the RDD was checkpointed (after an action following checkpoint()).
   * @example rdd.checkpoint(); await rdd.count(); rdd.isCheckpointed() // true
   */
  isCheckpointed(): boolean {
    return this.checkpointDir !== undefined;
  }

  /**
   * Marks the RDD for local checkpointing (PySpark's localCheckpoint): after the next job that computes it,
   * its partitions are kept on the executors (a level with disk: MEMORY_AND_DISK unless DISK_ONLY was set)
   * and its lineage is cut, so long lineages (iterative jobs) stop growing and are not recomputed. Fast,
   * but not fault-tolerant: a partition whose executor is lost (or the RDD unpersisted) cannot be
   * recomputed, and a job that needs it fails saying so; use checkpoint() for data that must survive.
   * @example
   * const rdd = sc.parallelize([1, 2, 3], 2).map((x) => x * 2).map((x) => x + 1);
   * rdd.localCheckpoint();
   * await rdd.count(); // 3, and the lineage is cut
   * rdd.toDebugString() // '(2) localCheckpointed#2 [MEMORY_AND_DISK] (local checkpoint)'
   */
  localCheckpoint(): void {
    if (this.storageLevel !== 'DISK_ONLY') this.storageLevel = 'MEMORY_AND_DISK';
    this.locallyCheckpointed = true;
  }

  /** @internal true once localCheckpoint() cut the lineage: the partitions exist only as cached blocks */
  get cachedOnly(): boolean {
    return this.spec.kind === 'localCheckpointed';
  }

  /** @internal cuts the lineage of a locally checkpointed RDD whose partitions are all cached */
  _localCheckpointed(): void {
    this.spec = { kind: 'localCheckpointed' };
    this.parents = [];
    this.deps = [];
    this.prepareHook = undefined;
  }

  /**
   * Whether localCheckpoint() was called (PySpark's isLocallyCheckpointed).
   * @example rdd.localCheckpoint(); rdd.isLocallyCheckpointed() // true
   */
  isLocallyCheckpointed(): boolean {
    return this.locallyCheckpointed;
  }

  /**
   * The directory the RDD was checkpointed to, if any.
   * @example rdd.getCheckpointFile() // '/ckpt/app-…/rdd-3'
   */
  getCheckpointFile(): string | undefined {
    return this.checkpointDir;
  }

  /** @internal turns this RDD into a reader of its checkpoint files */
  _checkpointed(dir: string): void {
    this.checkpointDir = dir;
    this.checkpointRequested = false;
    this.spec = { kind: 'checkpointed', dir };
    this.parents = [];
    this.deps = [];
  }

  // ---------------------------------------------------------------- pair transformations
  /**
   * The keys of a pair RDD.
   * @example await sc.parallelize([[1, 2], [3, 4]]).keys().collect() // [1, 3]
   */
  keys<K>(this: RDD<Pair<K, unknown>>): RDD<K> {
    return this.map((kv) => kv[0]);
  }

  /**
   * The values of a pair RDD.
   * @example await sc.parallelize([[1, 2], [3, 4]]).values().collect() // [2, 4]
   */
  values<V>(this: RDD<Pair<unknown, V>>): RDD<V> {
    return this.map((kv) => kv[1]);
  }

  /**
   * Applies `f` to each value, keeping the keys (and the partitioning).
   * @example await sc.parallelize([['a', ['apple', 'banana', 'lemon']], ['b', ['grapes']]]).mapValues((v) => v.length).collect() // [['a', 3], ['b', 1]]
   */
  mapValues<K, V, U>(this: RDD<Pair<K, V>>, f: (v: V) => U, caps?: Captures): RDD<[K, U]> {
    return this._narrow({ op: 'mapValues', f: captureFn(f, caps, 'mapValues(f)') }, true);
  }

  /**
   * Applies `f` to each value and pairs the key with each of its results.
   * @example await sc.parallelize([['a', ['x', 'y', 'z']], ['b', ['p', 'r']]]).flatMapValues((v) => v).collect() // [['a', 'x'], ['a', 'y'], ['a', 'z'], ['b', 'p'], ['b', 'r']]
   */
  flatMapValues<K, V, U>(this: RDD<Pair<K, V>>, f: (v: V) => Iterable<U>, caps?: Captures): RDD<[K, U]> {
    return this._narrow({ op: 'flatMapValues', f: captureFn(f, caps, 'flatMapValues(f)') }, true);
  }

  /** @internal */
  _shuffle<R>(init: {
    partitioner: PartitionerSpec;
    aggregator?: ShuffleDepSpec['aggregator'];
    builtinAggregator?: string;
    mapSideCombine: boolean;
    sort?: { ascending: boolean };
    keyFunc?: FnRef;
    partitionFunc?: FnRef;
    prepare?: () => Promise<void>;
  }): RDD<R> {
    const dep: ShuffleDepSpec = {
      shuffleId: this.context._newShuffleId(),
      parent: this.id,
      numMaps: this.numPartitions,
      partitioner: init.partitioner,
      aggregator: init.aggregator,
      builtinAggregator: init.builtinAggregator,
      mapSideCombine: init.mapSideCombine,
      keyFunc: init.keyFunc,
      partitionFunc: init.partitionFunc,
    };
    return new RDD<R>(this.context, {
      spec: { kind: 'shuffled', dep, sort: init.sort },
      numPartitions: init.partitioner.numPartitions,
      deps: [{ spec: dep, rdd: this }],
      partitioner: init.partitioner,
      ...(init.prepare ? { prepare: init.prepare } : {}),
    });
  }

  private hash(numPartitions: number | undefined, what: string): PartitionerSpec {
    checkPartitions(numPartitions, what);
    return { kind: 'hash', numPartitions: numPartitions ?? this.context._defaultShufflePartitions(this) };
  }

  /**
   * Combines each key's values into a C: createCombiner for its first value, mergeValue for the others, mergeCombiners across partitions.
   * @example await sc.parallelize([['a', 1], ['b', 1], ['a', 2]]).combineByKey((v) => [v], (c, v) => [...c, v], (a, b) => [...a, ...b]).collect() // [['a', [1, 2]], ['b', [1]]]
   */
  combineByKey<K, V, C>(
    this: RDD<Pair<K, V>>,
    createCombiner: (v: V) => C,
    mergeValue: (c: C, v: V) => C,
    mergeCombiners: (a: C, b: C) => C,
    numPartitions?: number | Captures,
    caps?: Captures,
  ): RDD<[K, C]> {
    if (isCaps(numPartitions)) [caps, numPartitions] = [numPartitions, undefined];
    return this._shuffle({
      partitioner: this.hash(numPartitions, 'combineByKey'),
      aggregator: {
        createCombiner: captureFn(createCombiner, caps, 'combineByKey(createCombiner)'),
        mergeValue: captureFn(mergeValue, caps, 'combineByKey(mergeValue)'),
        mergeCombiners: captureFn(mergeCombiners, caps, 'combineByKey(mergeCombiners)'),
      },
      mapSideCombine: true,
    });
  }

  /**
   * Merges the values of each key with `f` (associative and commutative), combining on the map side first.
   * @example await sc.parallelize([['a', 1], ['b', 1], ['a', 1]] as const).reduceByKey((a, b) => a + b).collect() // [['a', 2], ['b', 1]]
   */
  reduceByKey<K, V>(
    this: RDD<Pair<K, V>>,
    f: (a: Widen<V>, b: Widen<V>) => Widen<V>,
    numPartitions?: number | Captures,
    caps?: Captures,
  ): RDD<[K, Widen<V>]> {
    if (isCaps(numPartitions)) [caps, numPartitions] = [numPartitions, undefined];
    const ref = captureFn(f, caps, 'reduceByKey(f)');
    return this._shuffle({
      partitioner: this.hash(numPartitions, 'reduceByKey'),
      aggregator: {
        createCombiner: captureFn((v: V) => v, undefined, 'reduceByKey'),
        mergeValue: ref,
        mergeCombiners: ref,
        reduce: true,
      },
      mapSideCombine: true,
    });
  }

  /**
   * Aggregates each key's values from `zeroValue`: seqFunc within a partition, combFunc across.
   * @example await sc.parallelize([['a', 1], ['b', 1], ['a', 2]]).aggregateByKey([0, 0], (a, v) => [a[0] + v, a[1] + 1], (a, b) => [a[0] + b[0], a[1] + b[1]]).collect() // [['a', [3, 2]], ['b', [1, 1]]]
   */
  aggregateByKey<K, V, U>(
    this: RDD<Pair<K, V>>,
    zeroValue: U,
    seqFunc: (acc: U, v: V) => U,
    combFunc: (a: U, b: U) => U,
    numPartitions?: number | Captures,
    caps?: Captures,
  ): RDD<[K, U]> {
    if (isCaps(numPartitions)) [caps, numPartitions] = [numPartitions, undefined];
    const seq = captureFn(seqFunc, caps, 'aggregateByKey(seqFunc)');
    return this._shuffle({
      partitioner: this.hash(numPartitions, 'aggregateByKey'),
      aggregator: {
        createCombiner: captureFn(
          (v: V) => seqFunc(structuredClone(zeroValue), v),
          { ...caps, seqFunc, zeroValue },
          'aggregateByKey',
        ),
        mergeValue: seq,
        mergeCombiners: captureFn(combFunc, caps, 'aggregateByKey(combFunc)'),
      },
      mapSideCombine: true,
    });
  }

  /**
   * Folds each key's values with `func` from `zeroValue`.
   * @example await sc.parallelize([['a', 1], ['b', 1], ['a', 1]]).foldByKey(0, (a, b) => a + b).collect() // [['a', 2], ['b', 1]]
   */
  foldByKey<K, V>(
    this: RDD<Pair<K, V>>,
    zeroValue: Widen<V>,
    func: (a: Widen<V>, b: Widen<V>) => Widen<V>,
    numPartitions?: number | Captures,
    caps?: Captures,
  ): RDD<[K, Widen<V>]> {
    if (isCaps(numPartitions)) [caps, numPartitions] = [numPartitions, undefined];
    return (this as RDD<Pair<K, Widen<V>>>).aggregateByKey(zeroValue, func, func, numPartitions, caps);
  }

  /**
   * Groups each key's values into an array (reduceByKey/aggregateByKey move less data when they fit).
   * @example await sc.parallelize([['a', 1], ['b', 1], ['a', 1]]).groupByKey().mapValues((vs) => vs.length).collect() // [['a', 2], ['b', 1]]
   */
  groupByKey<K, V>(this: RDD<Pair<K, V>>, numPartitions?: number): RDD<[K, V[]]> {
    return this._shuffle({
      partitioner: this.hash(numPartitions, 'groupByKey'),
      builtinAggregator: 'groupByKey',
      mapSideCombine: false,
    });
  }

  /** partitionFunc maps a key to an integer; the partition is partitionFunc(key) mod numPartitions. */
  partitionBy<K, V>(
    this: RDD<Pair<K, V>>,
    numPartitions: number,
    partitionFunc?: (k: K) => number,
    caps?: Captures,
  ): RDD<[K, V]> {
    checkPartitions(numPartitions, 'partitionBy');
    return this._shuffle({
      partitioner: { kind: 'hash', numPartitions },
      mapSideCombine: false,
      ...(partitionFunc ? { partitionFunc: captureFn(partitionFunc, caps, 'partitionBy(partitionFunc)') } : {}),
    });
  }

  /**
   * Sorts a pair RDD by key (range-partitioned: partition i holds keys before partition i+1's).
   * @example await sc.parallelize([['a', 1], ['b', 2], ['1', 3], ['d', 4], ['2', 5]]).sortByKey().first() // ['1', 3]
   */
  sortByKey<K, V>(
    this: RDD<Pair<K, V>>,
    ascending = true,
    numPartitions?: number,
    keyfunc?: (k: K) => unknown,
    caps?: Captures,
  ): RDD<[K, V]> {
    checkPartitions(numPartitions, 'sortByKey');
    const n = numPartitions ?? this.numPartitions;
    const partitioner: PartitionerSpec = { kind: 'range', numPartitions: n, bounds: [], ascending };
    const kf = keyfunc ? captureFn(keyfunc, caps, 'sortByKey(keyfunc)') : undefined;
    return this._shuffle({
      partitioner,
      mapSideCombine: false,
      sort: { ascending },
      ...(kf ? { keyFunc: kf } : {}),
      prepare: async () => {
        if (n <= 1) return;
        const perPartition = Math.ceil((20 * n) / Math.max(1, this.numPartitions)) + 20;
        const sampled = this.builtin<unknown>('sampleKeys', { perPartition, seed: 17 });
        let keys = (
          (await this.context._runJob(sampled, { op: 'collect' }, undefined, 'sortByKey sampling')) as unknown[][]
        ).flat();
        if (keyfunc) keys = keys.map((k) => keyfunc(k as K));
        partitioner.bounds = rangeBounds(keys, n);
      },
    });
  }

  /**
   * Repartitions by partitionFunc (default: the key's portable hash) and sorts each partition by key,
   * in one shuffle.
   * @example sc.parallelize([[0, 5], [3, 8], [2, 6], [0, 8], [3, 8], [1, 3]]).repartitionAndSortWithinPartitions(2, (k) => k % 2).glom()
   *   // [[[0, 5], [0, 8], [2, 6]], [[1, 3], [3, 8], [3, 8]]]
   */
  repartitionAndSortWithinPartitions<K, V>(
    this: RDD<Pair<K, V>>,
    numPartitions?: number,
    partitionFunc?: (k: K) => number,
    ascending = true,
    keyfunc?: (k: K) => unknown,
    caps?: Captures,
  ): RDD<[K, V]> {
    checkPartitions(numPartitions, 'repartitionAndSortWithinPartitions');
    const n = numPartitions ?? this.context._defaultShufflePartitions(this);
    return this._shuffle({
      partitioner: { kind: 'hash', numPartitions: n },
      mapSideCombine: false,
      sort: { ascending },
      ...(partitionFunc
        ? { partitionFunc: captureFn(partitionFunc, caps, 'repartitionAndSortWithinPartitions(partitionFunc)') }
        : {}),
      ...(keyfunc ? { keyFunc: captureFn(keyfunc, caps, 'repartitionAndSortWithinPartitions(keyfunc)') } : {}),
    });
  }

  /**
   * For each key in either RDD, the arrays of its values in each.
   * @example await sc.parallelize([['a', 1], ['b', 4]]).cogroup(sc.parallelize([['a', 2]])).collect() // [['a', [[1], [2]]], ['b', [[4], []]]]
   */
  cogroup<K, V, W>(this: RDD<Pair<K, V>>, other: RDD<Pair<K, W>>, numPartitions?: number): RDD<[K, [V[], W[]]]> {
    return this.context._cogroup([this, other], numPartitions) as RDD<[K, [V[], W[]]]>;
  }

  /**
   * cogroup with any number of RDDs.
   * @example await w.groupWith(x, y, z).collect() // [['a', [[5], [1], [2], []]], ...]
   */
  groupWith<K>(this: RDD<Pair<K, unknown>>, ...others: RDD<Pair<K, unknown>>[]): RDD<[K, unknown[][]]> {
    return this.context._cogroup([this, ...others], undefined) as RDD<[K, unknown[][]]>;
  }

  /**
   * Inner join on keys: every pair of values with the same key.
   * @example await sc.parallelize([['a', 1], ['b', 4]]).join(sc.parallelize([['a', 2], ['a', 3]])).collect() // [['a', [1, 2]], ['a', [1, 3]]]
   */
  join<K, V, W>(this: RDD<Pair<K, V>>, other: RDD<Pair<K, W>>, numPartitions?: number): RDD<[K, [V, W]]> {
    return this.cogroup(other, numPartitions).flatMapValues(function* (g) {
      for (const v of g[0]) for (const w of g[1]) yield [v, w] as [V, W];
    });
  }

  /**
   * Left outer join: keys of this RDD missing from `other` get null.
   * @example await sc.parallelize([['a', 1], ['b', 4]]).leftOuterJoin(sc.parallelize([['a', 2]])).collect() // [['a', [1, 2]], ['b', [4, null]]]
   */
  leftOuterJoin<K, V, W>(
    this: RDD<Pair<K, V>>,
    other: RDD<Pair<K, W>>,
    numPartitions?: number,
  ): RDD<[K, [V, W | null]]> {
    return this.cogroup(other, numPartitions).flatMapValues(function* (g) {
      for (const v of g[0]) {
        if (g[1].length === 0) yield [v, null] as [V, W | null];
        else for (const w of g[1]) yield [v, w] as [V, W | null];
      }
    });
  }

  /**
   * Right outer join: keys of `other` missing here get null.
   * @example await sc.parallelize([['a', 2]]).rightOuterJoin(sc.parallelize([['a', 1], ['b', 4]])).collect() // [['a', [2, 1]], ['b', [null, 4]]]
   */
  rightOuterJoin<K, V, W>(
    this: RDD<Pair<K, V>>,
    other: RDD<Pair<K, W>>,
    numPartitions?: number,
  ): RDD<[K, [V | null, W]]> {
    return this.cogroup(other, numPartitions).flatMapValues(function* (g) {
      for (const w of g[1]) {
        if (g[0].length === 0) yield [null, w] as [V | null, W];
        else for (const v of g[0]) yield [v, w] as [V | null, W];
      }
    });
  }

  /**
   * Full outer join: a key missing on either side gets null there.
   * @example await sc.parallelize([['a', 1], ['b', 4]]).fullOuterJoin(sc.parallelize([['a', 2], ['c', 8]])).collect() // [['a', [1, 2]], ['b', [4, null]], ['c', [null, 8]]]
   */
  fullOuterJoin<K, V, W>(
    this: RDD<Pair<K, V>>,
    other: RDD<Pair<K, W>>,
    numPartitions?: number,
  ): RDD<[K, [V | null, W | null]]> {
    return this.cogroup(other, numPartitions).flatMapValues(function* (g) {
      const vs = g[0].length ? g[0] : [null];
      const ws = g[1].length ? g[1] : [null];
      for (const v of vs) for (const w of ws) yield [v, w] as [V | null, W | null];
    });
  }

  /**
   * The pairs whose key is not in `other`.
   * @example await sc.parallelize([['a', 1], ['b', 4], ['b', 5], ['a', 2]]).subtractByKey(sc.parallelize([['a', 3], ['c', null]])).collect() // [['b', 4], ['b', 5]]
   */
  subtractByKey<K, V, W>(this: RDD<Pair<K, V>>, other: RDD<Pair<K, W>>, numPartitions?: number): RDD<[K, V]> {
    return this.cogroup(other, numPartitions)
      .filter((kv) => kv[1][0].length > 0 && kv[1][1].length === 0)
      .flatMap(function* (kv) {
        for (const v of kv[1][0]) yield [kv[0], v] as [K, V];
      });
  }

  // ---------------------------------------------------------------- actions
  /** @internal */
  private run(op: ResultOp, what: string, partitions?: number[]): Promise<unknown[]> {
    return this.context._runJob(this, op, partitions, what);
  }

  /**
   * All elements, in partition order, on the driver (mind cinder.driver.maxResultSize).
   * @example await sc.parallelize([1, 2, 3]).collect() // [1, 2, 3]
   */
  async collect(): Promise<T[]> {
    const parts = (await this.run({ op: 'collect' }, 'collect')) as T[][];
    return parts.flat(1) as T[];
  }

  /**
   * The number of elements.
   * @example await sc.parallelize([2, 3, 4]).count() // 3
   */
  async count(): Promise<number> {
    const parts = (await this.run({ op: 'count' }, 'count')) as number[];
    return parts.reduce((a, b) => a + b, 0);
  }

  /** Scans partitions incrementally (1, then up to 4x more per round) until num elements are found. */
  async take(num: number): Promise<T[]> {
    const out: T[] = [];
    if (num <= 0) return out;
    let next = 0;
    let batch = 1;
    while (out.length < num && next < this.numPartitions) {
      const parts = [...Array(Math.min(batch, this.numPartitions - next)).keys()].map((i) => i + next);
      const res = (await this.run({ op: 'take', n: num - out.length }, 'take', parts)) as T[][];
      for (const r of res) for (const x of r) if (out.length < num) out.push(x);
      next += parts.length;
      batch *= 4;
    }
    return out;
  }

  /**
   * The first element; throws EMPTY_RDD on an empty RDD.
   * @example await sc.parallelize([2, 3, 4]).first() // 2
   */
  async first(): Promise<T> {
    const r = await this.take(1);
    if (r.length === 0) throw new CinderError('EMPTY_RDD', 'first(): the RDD is empty');
    return r[0]!;
  }

  /**
   * Whether the RDD has no element.
   * @example await sc.parallelize([]).isEmpty() // true
   */
  async isEmpty(): Promise<boolean> {
    return this.numPartitions === 0 || (await this.take(1)).length === 0;
  }

  /**
   * Reduces the elements with `f` (associative and commutative); throws EMPTY_RDD on an empty RDD.
   * @example await sc.parallelize([1, 2, 3, 4, 5]).reduce((a, b) => a + b) // 15
   */
  async reduce(f: (a: T, b: T) => T, caps?: Captures): Promise<T> {
    const ref = captureFn(f, caps, 'reduce(f)');
    const parts = (await this.run({ op: 'fold', f: ref, noZero: true }, 'reduce')) as Array<{
      empty?: boolean;
      value?: T;
    }>;
    const vals = parts.filter((p) => !p.empty).map((p) => p.value as T);
    if (vals.length === 0)
      throw new CinderError('EMPTY_RDD', 'reduce(): cannot reduce an empty RDD', 'use fold() with a zero value');
    return vals.reduce((a, b) => f(a, b));
  }

  /**
   * reduce (the partial results are few enough to merge on the driver; depth is accepted).
   * @example await sc.parallelize([-5, -4, -3, -2, -1, 1, 2, 3, 4], 10).treeReduce((a, b) => a + b) // -5
   */
  treeReduce(f: (a: T, b: T) => T, depth = 2, caps?: Captures): Promise<T> {
    void depth;
    return this.reduce(f, caps);
  }

  /**
   * Folds each partition from `zeroValue` with `op`, then the partitions' results.
   * @example await sc.parallelize([1, 2, 3, 4, 5]).fold(0, (a, b) => a + b) // 15
   */
  async fold(zeroValue: T, op: (a: T, b: T) => T, caps?: Captures): Promise<T> {
    const ref = captureFn(op, caps, 'fold(op)');
    const parts = (await this.run({ op: 'fold', f: ref, zero: zeroValue }, 'fold')) as Array<{ value: T }>;
    return parts.map((p) => p.value).reduce((a, b) => op(a, b), structuredClone(zeroValue));
  }

  /**
   * Aggregates each partition from `zeroValue` with seqOp, then the partitions' results with combOp.
   * @example await sc.parallelize([1, 2, 3, 4]).aggregate([0, 0], (a, x) => [a[0] + x, a[1] + 1], (a, b) => [a[0] + b[0], a[1] + b[1]]) // [10, 4]
   */
  async aggregate<U>(zeroValue: U, seqOp: (acc: U, x: T) => U, combOp: (a: U, b: U) => U, caps?: Captures): Promise<U> {
    const ref = captureFn(seqOp, caps, 'aggregate(seqOp)');
    captureFn(combOp, caps, 'aggregate(combOp)');
    const parts = (await this.run({ op: 'aggregate', zero: zeroValue, seqOp: ref }, 'aggregate')) as U[];
    return parts.reduce((a, b) => combOp(a, b), structuredClone(zeroValue));
  }

  /**
   * aggregate (depth is accepted).
   * @example await sc.parallelize([-5, -4, -3, -2, -1, 1, 2, 3, 4], 10).treeAggregate(0, (a, b) => a + b, (a, b) => a + b) // -5
   */
  treeAggregate<U>(
    zeroValue: U,
    seqOp: (acc: U, x: T) => U,
    combOp: (a: U, b: U) => U,
    depth = 2,
    caps?: Captures,
  ): Promise<U> {
    void depth;
    return this.aggregate(zeroValue, seqOp, combOp, caps);
  }

  /**
   * The sum of a numeric RDD.
   * @example await sc.parallelize([1.0, 2.0, 3.0]).sum() // 6
   */
  async sum(this: RDD<number>): Promise<number> {
    return this.fold(0, (a, b) => a + b);
  }

  /** PySpark's countApprox: Cinder waits for the job, so the count is exact (timeout and confidence are accepted). */
  async countApprox(timeout?: number, confidence = 0.95): Promise<number> {
    void timeout;
    void confidence;
    return this.count();
  }

  /** PySpark's sumApprox: the exact sum (Cinder waits for the job). */
  async sumApprox(this: RDD<number>, timeout?: number, confidence = 0.95): Promise<number> {
    void timeout;
    void confidence;
    return this.sum();
  }

  /** PySpark's meanApprox: the exact mean (Cinder waits for the job). */
  async meanApprox(this: RDD<number>, timeout?: number, confidence = 0.95): Promise<number> {
    void timeout;
    void confidence;
    return this.mean();
  }

  /**
   * The approximate number of distinct elements (HyperLogLog, relative standard deviation `relativeSD`,
   * at least 0.000017 as in PySpark); elements are told apart by value (arrays and objects by content).
   * @example await sc.parallelize([...Array(1000).keys()].map(String)).countApproxDistinct() // about 1000
   */
  async countApproxDistinct(relativeSD = 0.05): Promise<number> {
    if (!(relativeSD >= 0.000017))
      throw new CinderError(
        'BAD_ARGUMENT',
        `countApproxDistinct: relativeSD should be greater than 0.000017, got ${relativeSD}`,
      );
    const p = Math.min(18, Math.max(4, Math.ceil(2 * Math.log2(1.054 / relativeSD))));
    const parts = (await this.builtin<Uint8Array>('hllRegisters', { p }).collect()) as Uint8Array[];
    return hllEstimate(parts, p);
  }

  /**
   * Merges the values of each key with `func` and returns the result to the driver as a Map
   * (no shuffle: each partition merges its own keys, the driver merges the partitions').
   * @example await sc.parallelize([['a', 1], ['b', 1], ['a', 1]]).reduceByKeyLocally((a, b) => a + b) // Map { a => 2, b => 1 }
   */
  async reduceByKeyLocally<K, V>(
    this: RDD<Pair<K, V>>,
    func: (a: Widen<V>, b: Widen<V>) => Widen<V>,
    caps?: Captures,
  ): Promise<Map<K, Widen<V>>> {
    type W = Widen<V>;
    const pairs = this as unknown as RDD<Pair<K, W>>;
    const parts = await pairs
      .mapPartitions(
        (it) => {
          const mk = cinder$.mapKey;
          const m = new Map<unknown, [K, W]>();
          for (const [k, v] of it) {
            const key = mk(k);
            const e = m.get(key);
            if (e) e[1] = func(e[1], v);
            else m.set(key, [k, v]);
          }
          return [[...m.values()]];
        },
        { ...caps, func },
      )
      .collect();
    const out = new Map<unknown, [K, W]>();
    for (const part of parts)
      for (const [k, v] of part) {
        const key = mapKey(k);
        const e = out.get(key);
        if (e) e[1] = func(e[1], v);
        else out.set(key, [k, v]);
      }
    return new Map([...out.values()]);
  }

  /**
   * Count, mean, variance, max and min in one pass.
   * @example (await sc.parallelize([1, 2, 3]).stats()).mean() // 2
   */
  async stats(this: RDD<number>): Promise<StatCounter> {
    const parts = (await this.builtin<StatCounterData>('stats', null).collect()) as StatCounterData[];
    return StatCounter.merge(parts);
  }

  /**
   * The mean.
   * @example await sc.parallelize([1, 2, 3]).mean() // 2
   */
  async mean(this: RDD<number>): Promise<number> {
    return (await this.stats()).mean();
  }
  /**
   * The population variance.
   * @example await sc.parallelize([1, 2, 3]).variance() // 0.6666666666666666
   */
  async variance(this: RDD<number>): Promise<number> {
    return (await this.stats()).variance();
  }
  /**
   * The population standard deviation.
   * @example await sc.parallelize([1, 2, 3]).stdev() // 0.816496580927726
   */
  async stdev(this: RDD<number>): Promise<number> {
    return (await this.stats()).stdev();
  }
  /**
   * The sample variance (divides by n - 1).
   * @example await sc.parallelize([1, 2, 3]).sampleVariance() // 1
   */
  async sampleVariance(this: RDD<number>): Promise<number> {
    return (await this.stats()).sampleVariance();
  }
  /**
   * The sample standard deviation (divides by n - 1).
   * @example await sc.parallelize([1, 2, 3]).sampleStdev() // 1
   */
  async sampleStdev(this: RDD<number>): Promise<number> {
    return (await this.stats()).sampleStdev();
  }

  /**
   * The largest element (by `key` when given).
   * @example await sc.parallelize([1.0, 5.0, 43.0, 10.0]).max((x) => -x) // 1
   */
  async max(key?: (x: T) => unknown, caps?: Captures): Promise<T> {
    if (!key) return this.reduce((a, b) => (cinder$.compareKeys(a, b) >= 0 ? a : b));
    return this.reduce((a, b) => (cinder$.compareKeys(key(a), key(b)) >= 0 ? a : b), {
      key,
      ...caps,
    });
  }

  /**
   * The smallest element (by `key` when given).
   * @example await sc.parallelize([2.0, 5.0, 43.0, 10.0]).min((x) => -x) // 43
   */
  async min(key?: (x: T) => unknown, caps?: Captures): Promise<T> {
    if (!key) return this.reduce((a, b) => (cinder$.compareKeys(a, b) <= 0 ? a : b));
    return this.reduce((a, b) => (cinder$.compareKeys(key(a), key(b)) <= 0 ? a : b), {
      key,
      ...caps,
    });
  }

  /** buckets: a count of evenly spaced buckets between min and max, or sorted bucket boundaries. Returns [buckets, counts]. */
  histogram(this: RDD<number>, buckets: number | number[]): Promise<[number[], number[]]>;
  histogram(this: RDD<string>, buckets: string[]): Promise<[string[], number[]]>;
  async histogram(this: RDD<any>, buckets: number | any[]): Promise<[any[], number[]]> {
    let b: number[];
    let evenly: boolean;
    if (typeof buckets === 'number') {
      if (!Number.isInteger(buckets) || buckets < 1)
        throw new CinderError('BAD_ARGUMENT', 'histogram: number of buckets must be >= 1');
      const s = await this.stats();
      if (s.count() === 0) throw new CinderError('EMPTY_RDD', 'histogram(): cannot compute buckets of an empty RDD');
      const lo = s.min();
      const hi = s.max();
      if (lo === hi) b = [lo, hi];
      else b = Array.from({ length: buckets + 1 }, (_, i) => (i === buckets ? hi : lo + ((hi - lo) * i) / buckets));
      evenly = true;
    } else {
      b = buckets;
      if (b.length < 2) throw new CinderError('BAD_ARGUMENT', 'histogram: buckets must have at least two boundaries');
      for (let i = 1; i < b.length; i++)
        if (!(b[i]! > b[i - 1]!))
          throw new CinderError('BAD_ARGUMENT', 'histogram: buckets must be sorted and not contain duplicates');
      const w = b[1]! - b[0]!;
      evenly =
        typeof b[0] === 'number' &&
        b.every((x, i) => i === 0 || Math.abs(x - b[i - 1]! - w) < 1e-10 * Math.max(1, Math.abs(w)));
    }
    const parts = (await this.builtin<number[]>('histogram', { buckets: b, evenly }).collect()) as number[][];
    const counts = new Array<number>(b.length - 1).fill(0);
    for (const p of parts) for (let i = 0; i < counts.length; i++) counts[i]! += p[i]!;
    return [b, counts];
  }

  /**
   * How many times each element occurs, as a Map on the driver.
   * @example await sc.parallelize([1, 2, 1, 2, 2], 2).countByValue() // Map { 1 => 2, 2 => 3 }
   */
  async countByValue(): Promise<Map<T, number>> {
    const parts = (await this.builtin<[T, number]>('countByValue', null).collect()) as [T, number][];
    const m = new Map<unknown, [T, number]>();
    for (const [v, n] of parts) {
      const k = mapKey(v);
      const e = m.get(k);
      if (e) e[1] += n;
      else m.set(k, [v, n]);
    }
    return new Map([...m.values()]);
  }

  /**
   * How many pairs each key has, as a Map on the driver.
   * @example await sc.parallelize([['a', 1], ['b', 1], ['a', 1]]).countByKey() // Map { 'a' => 2, 'b' => 1 }
   */
  async countByKey<K>(this: RDD<Pair<K, unknown>>): Promise<Map<K, number>> {
    return (this as RDD<Pair<K, unknown>>).map((kv) => kv[0]).countByValue();
  }

  /**
   * The pairs as a Map on the driver (a later value of a key wins).
   * @example (await sc.parallelize([[1, 2], [3, 4]]).collectAsMap()).get(1) // 2
   */
  async collectAsMap<K, V>(this: RDD<Pair<K, V>>): Promise<Map<K, V>> {
    return new Map((await this.collect()) as [K, V][]);
  }

  /**
   * The values of `key` (only its partition is read when the RDD is hash-partitioned).
   * @example await sc.parallelize([...Array(1000).keys()]).keyBy((x) => x % 3).lookup(42) // []
   */
  async lookup<K, V>(this: RDD<Pair<K, V>>, key: K): Promise<V[]> {
    const want = mapKey(key);
    const matching = this.filter((kv) => cinder$.mapKey(kv[0]) === want, { want }).values();
    if (this.partitioner?.kind === 'hash') {
      const p = portableHash(key) % this.partitioner.numPartitions;
      const r = (await this.context._runJob(matching, { op: 'collect' }, [p], 'lookup')) as V[][];
      return r.flat(1) as V[];
    }
    return matching.collect();
  }

  /**
   * The `num` smallest elements, ascending (by `key` when given).
   * @example await sc.parallelize([10, 1, 2, 9, 3, 4, 5, 6, 7]).takeOrdered(6) // [1, 2, 3, 4, 5, 6]
   */
  async takeOrdered(num: number, key?: (x: T) => unknown, caps?: Captures): Promise<T[]> {
    return this.topN(num, key, caps, 1);
  }

  /**
   * The `num` largest elements, descending (by `key` when given).
   * @example await sc.parallelize([10, 4, 2, 12, 3]).top(1) // [12]
   */
  async top(num: number, key?: (x: T) => unknown, caps?: Captures): Promise<T[]> {
    return this.topN(num, key, caps, -1);
  }

  private async topN(
    num: number,
    key: ((x: T) => unknown) | undefined,
    caps: Captures | undefined,
    sign: 1 | -1,
  ): Promise<T[]> {
    if (num <= 0) return [];
    const k = key ?? ((x: T) => x);
    const cmp = (a: T, b: T) => sign * compareKeys(k(a), k(b));
    const parts = await this.mapPartitions(
      (it) => {
        const all = Array.from(it);
        all.sort((a, b) => sign * cinder$.compareKeys(k(a), k(b)));
        return all.slice(0, num);
      },
      { ...caps, k, sign, num },
    ).collect();
    parts.sort(cmp);
    return parts.slice(0, num);
  }

  /**
   * A random sample of exactly `num` elements (fewer if the RDD is smaller and without replacement).
   * @example (await sc.parallelize([...Array(10).keys()]).takeSample(true, 20, 1)).length // 20
   */
  async takeSample(withReplacement: boolean, num: number, seed?: number): Promise<T[]> {
    if (!(num >= 0)) throw new CinderError('BAD_ARGUMENT', `takeSample: sample size cannot be negative (got ${num})`);
    if (num === 0) return [];
    const total = await this.count();
    if (total === 0) return [];
    const s = seed ?? randomSeed();
    const rand = rng(s);
    if (!withReplacement && num >= total) return shuffleInPlace(await this.collect(), rand);
    // oversample like PySpark, then retry with a new seed if we got too few
    const q = withReplacement
      ? Math.min(1, (num + 10 * Math.sqrt(num)) / total) * 2
      : Math.min(1, (num + 10 * Math.sqrt(num) + 10) / total);
    for (let attempt = 0; attempt < 20; attempt++) {
      const got = await this.sample(
        withReplacement,
        withReplacement ? Math.max(q, num / total) * 1.5 : q,
        s + attempt,
      ).collect();
      if (got.length >= num) return shuffleInPlace(got, rand).slice(0, num);
    }
    return shuffleInPlace(await this.collect(), rand).slice(0, num);
  }

  /**
   * Runs `f` on every element, on the executors.
   * @example await sc.parallelize([1, 2, 3, 4, 5]).foreach((x) => acc.add(x), { acc })
   */
  async foreach(f: (x: T) => unknown, caps?: Captures): Promise<void> {
    await this.run({ op: 'foreach', f: captureFn(f, caps, 'foreach(f)') }, 'foreach');
  }

  /**
   * Runs `f` on every partition's elements, on the executors.
   * @example await sc.parallelize([1, 2, 3, 4, 5]).foreachPartition((it) => { for (const x of it) acc.add(x); }, { acc })
   */
  async foreachPartition(f: (it: Iterable<T>) => unknown, caps?: Captures): Promise<void> {
    await this.run({ op: 'foreachPartition', f: captureFn(f, caps, 'foreachPartition(f)') }, 'foreachPartition');
  }

  /**
   * Writes one `part-NNNNN` text file per partition (objects as JSON) through temporary files and a
   * `_SUCCESS` marker. Refuses an existing directory unless `overwrite` (a Cinder extension). Takes
   * options (`{ overwrite: true, compressionCodecClass: 'gzip' }`) or PySpark's positional form.
   * @example await rdd.saveAsTextFile('/tmp/out', { overwrite: true })
   * @example await rdd.saveAsTextFile('/tmp/out.gz', 'gzip') // PySpark's signature
   */
  async saveAsTextFile(path: string, options?: SaveTextOptions): Promise<void>;
  async saveAsTextFile(path: string, compressionCodecClass?: 'gzip' | null, overwrite?: boolean): Promise<void>;
  async saveAsTextFile(
    path: string,
    codecOrOptions?: 'gzip' | null | SaveTextOptions,
    overwrite = false,
  ): Promise<void> {
    const o = saveTextOptions(codecOrOptions, overwrite);
    await this.context._save(this, path, o.compressionCodecClass ?? undefined, o.overwrite ?? false);
  }

  /** Iterates over all elements, one partition at a time (one job per partition). */
  async *toLocalIterator(): AsyncIterable<T> {
    for (let p = 0; p < this.numPartitions; p++) {
      const [part] = (await this.run({ op: 'collect' }, 'toLocalIterator', [p])) as T[][];
      yield* part ?? [];
    }
  }

  /**
   * The RDD's lineage, one line per RDD (partitions, name, kind, storage level).
   * @example sc.parallelize([1, 2]).map((x) => x).toDebugString() // '(2) narrow#1\n  (2) parallel#0'
   */
  toDebugString(): string {
    const lines: string[] = [];
    const visit = (r: RDD<any>, depth: number) => {
      lines.push(
        `${'  '.repeat(depth)}(${r.numPartitions}) ${r.rddName ? `${r.rddName} ` : ''}${r.spec.kind}#${r.id}${r.storageLevel ? ` [${r.storageLevel}]` : ''}${r.cachedOnly ? ' (local checkpoint)' : ''}`,
      );
      for (const p of r.parents) visit(p, depth + 1);
      for (const d of r.deps) visit(d.rdd, depth + 1);
    };
    visit(this, 0);
    return lines.join('\n');
  }
}

/** HyperLogLog estimate from per-partition registers (2^p each), with the small-range correction. */
function hllEstimate(parts: Uint8Array[], p: number): number {
  const m = 1 << p;
  const reg = new Uint8Array(m);
  for (const r of parts) for (let i = 0; i < m; i++) if (r[i]! > reg[i]!) reg[i] = r[i]!;
  let sum = 0;
  let zeros = 0;
  for (let i = 0; i < m; i++) {
    sum += 2 ** -reg[i]!;
    if (reg[i] === 0) zeros++;
  }
  const alpha = m === 16 ? 0.673 : m === 32 ? 0.697 : m === 64 ? 0.709 : 0.7213 / (1 + 1.079 / m);
  const e = (alpha * m * m) / sum;
  if (e <= 2.5 * m && zeros > 0) return Math.round(m * Math.log(m / zeros));
  return Math.round(e);
}

function randomSeed(): number {
  return Math.floor(Math.random() * 0x7fffffff);
}

function shuffleInPlace<X>(a: X[], rand: () => number): X[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/** Splits a command line into argv like a POSIX shell would for simple quoting (no expansion). */
export function splitCommand(cmd: string): string[] {
  const out: string[] = [];
  let cur = '';
  let q: string | null = null;
  let any = false;
  for (let i = 0; i < cmd.length; i++) {
    const c = cmd[i]!;
    if (q) {
      if (c === q) q = null;
      else if (c === '\\' && q === '"' && i + 1 < cmd.length) cur += cmd[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      q = c;
      any = true;
    } else if (c === '\\' && i + 1 < cmd.length) {
      cur += cmd[++i];
      any = true;
    } else if (/\s/.test(c)) {
      if (cur || any) out.push(cur);
      cur = '';
      any = false;
    } else cur += c;
  }
  if (cur || any) out.push(cur);
  return out;
}

/**
 * The engine helpers engine-written functions use (max, min, lookup): this object when the driver runs
 * them (reduce merges partition results here), the executor's own when shipped (ENGINE_PARAM,
 * src/plan/fn-wire.ts, a parameter of every compiled function).
 */
const cinder$: EngineHelpers = { compareKeys, mapKey, portableHash };

/** Options of {@link RDD.saveAsTextFile}. */
export interface SaveTextOptions {
  /** 'gzip' writes `part-NNNNN.gz` files */
  compressionCodecClass?: 'gzip' | null;
  /** replace an existing output directory (default false: refuse it) */
  overwrite?: boolean;
}

const SAVE_TEXT_KEYS = ['compressionCodecClass', 'overwrite'];

function saveTextOptions(a: 'gzip' | null | SaveTextOptions | undefined, overwrite: boolean): SaveTextOptions {
  if (a === null || a === undefined || typeof a === 'string') return { compressionCodecClass: a ?? null, overwrite };
  const bad = Object.keys(a).filter((k) => !SAVE_TEXT_KEYS.includes(k));
  if (typeof a !== 'object' || bad.length)
    throw new CinderError(
      'BAD_ARGUMENT',
      `saveAsTextFile: unknown option ${bad.join(', ') || String(a)}`,
      `options are ${SAVE_TEXT_KEYS.join(', ')}, e.g. saveAsTextFile(path, { overwrite: true })`,
    );
  return a;
}
