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
import { BUILTINS, mapKey, rng, STREAMING_BUILTINS, type StatCounterData } from '../executor/builtins.js';
import type { EngineHelpers } from '../plan/fn-wire.js';
import type { LineageNode } from '../plan/lineage.js';
import type { NodeSpec, OpSpec, PlanNode, ResultOp, ShuffleDepSpec } from '../plan/plan.js';
import type { StorageLevelName } from '../plan/storage-level.js';
import { compareKeys, type PartitionerSpec, portableHash, rangeBounds } from '../shuffle/partitioner.js';
import { type Captures, captureFn, type FnRef } from './closure.js';
import type { CinderContext } from './context.js';
import { StatCounter } from './stat-counter.js';

export type { Captures } from './closure.js';

type Pair<K, V> = [K, V] | readonly [K, V];

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
  name: string | undefined;

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

  private builtin<U>(name: string, args: unknown, preservesPartitioning = false): RDD<U> {
    if (!BUILTINS[name] && !STREAMING_BUILTINS[name]) throw new Error(`unknown builtin ${name}`);
    return this._narrow<U>({ op: 'builtin', name, args }, preservesPartitioning);
  }

  // ---------------------------------------------------------------- basic transformations
  getNumPartitions(): number {
    return this.numPartitions;
  }

  setName(name: string): this {
    this.name = name;
    return this;
  }

  /** Returns a new RDD by applying a function to each element. */
  map<U>(f: (x: T) => U, caps?: Captures): RDD<U> {
    return this._narrow({ op: 'map', f: this.fn(f, caps, 'map(f)') });
  }

  /** Applies f to each element and flattens the results (f returns an array or iterable). */
  flatMap<U>(f: (x: T) => Iterable<U>, caps?: Captures): RDD<U> {
    return this._narrow({ op: 'flatMap', f: this.fn(f, caps, 'flatMap(f)') });
  }

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

  /** One array per partition. */
  glom(): RDD<T[]> {
    return this.builtin('glom', null);
  }

  keyBy<K>(f: (x: T) => K, caps?: Captures): RDD<[K, T]> {
    return this._narrow({ op: 'keyBy', f: this.fn(f, caps, 'keyBy(f)') });
  }

  union(other: RDD<T>): RDD<T> {
    return this.context.union([this, other]);
  }

  distinct(numPartitions?: number): RDD<T> {
    return this.map((x) => [x, null] as [T, null])
      .reduceByKey((x) => x, numPartitions)
      .map((kv) => kv[0]);
  }

  intersection(other: RDD<T>): RDD<T> {
    return this.map((v) => [v, null] as [T, null])
      .cogroup(other.map((v) => [v, null] as [T, null]))
      .filter((kv) => kv[1][0].length > 0 && kv[1][1].length > 0)
      .keys();
  }

  subtract(other: RDD<T>, numPartitions?: number): RDD<T> {
    return this.map((x) => [x, true] as [T, boolean])
      .subtractByKey(
        other.map((x) => [x, true] as [T, boolean]),
        numPartitions,
      )
      .keys();
  }

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

  groupBy<K>(f: (x: T) => K, numPartitions?: number | Captures, caps?: Captures): RDD<[K, T[]]> {
    if (isCaps(numPartitions)) [caps, numPartitions] = [numPartitions, undefined];
    return this.keyBy(f, caps).groupByKey(numPartitions);
  }

  /** Pipes each partition through an external command (argv split like a shell, no shell run). */
  pipe(command: string, env?: Record<string, string>, checkCode?: boolean): RDD<string> {
    void checkCode;
    return new RDD<string>(this.context, {
      spec: { kind: 'pipe', parent: this.id, command: splitCommand(command), env: env ?? {} },
      numPartitions: this.numPartitions,
      parents: [this],
    });
  }

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

  repartition(numPartitions: number): RDD<T> {
    checkPartitions(numPartitions, 'repartition');
    return this.mapPartitionsWithIndex(function* (i, it) {
      let k = i;
      for (const x of it) yield [k++, x] as [number, T];
    })
      .partitionBy(numPartitions, (k: number) => k)
      .values();
  }

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

  zipWithUniqueId(): RDD<[T, number]> {
    return this.builtin('zipWithUniqueId', { n: this.numPartitions });
  }

  // ---------------------------------------------------------------- persistence
  cache(): this {
    return this.persist('MEMORY_ONLY');
  }

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

  unpersist(_blocking = false): this {
    if (this.storageLevel) this.context._unpersist(this.id);
    this.storageLevel = undefined;
    return this;
  }

  getStorageLevel(): StorageLevelName | undefined {
    return this.storageLevel;
  }

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

  isCheckpointed(): boolean {
    return this.checkpointDir !== undefined;
  }

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
  keys<K>(this: RDD<Pair<K, unknown>>): RDD<K> {
    return this.map((kv) => kv[0]);
  }

  values<V>(this: RDD<Pair<unknown, V>>): RDD<V> {
    return this.map((kv) => kv[1]);
  }

  mapValues<K, V, U>(this: RDD<Pair<K, V>>, f: (v: V) => U, caps?: Captures): RDD<[K, U]> {
    return this._narrow({ op: 'mapValues', f: captureFn(f, caps, 'mapValues(f)') }, true);
  }

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

  reduceByKey<K, V>(
    this: RDD<Pair<K, V>>,
    f: (a: V, b: V) => V,
    numPartitions?: number | Captures,
    caps?: Captures,
  ): RDD<[K, V]> {
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

  foldByKey<K, V>(
    this: RDD<Pair<K, V>>,
    zeroValue: V,
    func: (a: V, b: V) => V,
    numPartitions?: number | Captures,
    caps?: Captures,
  ): RDD<[K, V]> {
    if (isCaps(numPartitions)) [caps, numPartitions] = [numPartitions, undefined];
    return this.aggregateByKey(zeroValue, func, func, numPartitions, caps);
  }

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

  cogroup<K, V, W>(this: RDD<Pair<K, V>>, other: RDD<Pair<K, W>>, numPartitions?: number): RDD<[K, [V[], W[]]]> {
    return this.context._cogroup([this, other], numPartitions) as RDD<[K, [V[], W[]]]>;
  }

  groupWith<K>(this: RDD<Pair<K, unknown>>, ...others: RDD<Pair<K, unknown>>[]): RDD<[K, unknown[][]]> {
    return this.context._cogroup([this, ...others], undefined) as RDD<[K, unknown[][]]>;
  }

  join<K, V, W>(this: RDD<Pair<K, V>>, other: RDD<Pair<K, W>>, numPartitions?: number): RDD<[K, [V, W]]> {
    return this.cogroup(other, numPartitions).flatMapValues(function* (g) {
      for (const v of g[0]) for (const w of g[1]) yield [v, w] as [V, W];
    });
  }

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

  async collect(): Promise<T[]> {
    const parts = (await this.run({ op: 'collect' }, 'collect')) as T[][];
    return parts.flat(1) as T[];
  }

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

  async first(): Promise<T> {
    const r = await this.take(1);
    if (r.length === 0) throw new CinderError('EMPTY_RDD', 'first(): the RDD is empty');
    return r[0]!;
  }

  async isEmpty(): Promise<boolean> {
    return this.numPartitions === 0 || (await this.take(1)).length === 0;
  }

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

  treeReduce(f: (a: T, b: T) => T, depth = 2, caps?: Captures): Promise<T> {
    void depth;
    return this.reduce(f, caps);
  }

  async fold(zeroValue: T, op: (a: T, b: T) => T, caps?: Captures): Promise<T> {
    const ref = captureFn(op, caps, 'fold(op)');
    const parts = (await this.run({ op: 'fold', f: ref, zero: zeroValue }, 'fold')) as Array<{ value: T }>;
    return parts.map((p) => p.value).reduce((a, b) => op(a, b), structuredClone(zeroValue));
  }

  async aggregate<U>(zeroValue: U, seqOp: (acc: U, x: T) => U, combOp: (a: U, b: U) => U, caps?: Captures): Promise<U> {
    const ref = captureFn(seqOp, caps, 'aggregate(seqOp)');
    captureFn(combOp, caps, 'aggregate(combOp)');
    const parts = (await this.run({ op: 'aggregate', zero: zeroValue, seqOp: ref }, 'aggregate')) as U[];
    return parts.reduce((a, b) => combOp(a, b), structuredClone(zeroValue));
  }

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

  async sum(this: RDD<number>): Promise<number> {
    return this.fold(0, (a, b) => a + b);
  }

  async stats(this: RDD<number>): Promise<StatCounter> {
    const parts = (await this.builtin<StatCounterData>('stats', null).collect()) as StatCounterData[];
    return StatCounter.merge(parts);
  }

  async mean(this: RDD<number>): Promise<number> {
    return (await this.stats()).mean();
  }
  async variance(this: RDD<number>): Promise<number> {
    return (await this.stats()).variance();
  }
  async stdev(this: RDD<number>): Promise<number> {
    return (await this.stats()).stdev();
  }
  async sampleVariance(this: RDD<number>): Promise<number> {
    return (await this.stats()).sampleVariance();
  }
  async sampleStdev(this: RDD<number>): Promise<number> {
    return (await this.stats()).sampleStdev();
  }

  async max(key?: (x: T) => unknown, caps?: Captures): Promise<T> {
    if (!key) return this.reduce((a, b) => (cinder$.compareKeys(a, b) >= 0 ? a : b));
    return this.reduce((a, b) => (cinder$.compareKeys(key(a), key(b)) >= 0 ? a : b), {
      key,
      ...caps,
    });
  }

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

  async countByKey<K>(this: RDD<Pair<K, unknown>>): Promise<Map<K, number>> {
    return (this as RDD<Pair<K, unknown>>).map((kv) => kv[0]).countByValue();
  }

  async collectAsMap<K, V>(this: RDD<Pair<K, V>>): Promise<Map<K, V>> {
    return new Map((await this.collect()) as [K, V][]);
  }

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

  async takeOrdered(num: number, key?: (x: T) => unknown, caps?: Captures): Promise<T[]> {
    return this.topN(num, key, caps, 1);
  }

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

  async takeSample(withReplacement: boolean, num: number, seed?: number): Promise<T[]> {
    if (num < 0) throw new CinderError('BAD_ARGUMENT', 'takeSample: num must be >= 0');
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

  async foreach(f: (x: T) => unknown, caps?: Captures): Promise<void> {
    await this.run({ op: 'foreach', f: captureFn(f, caps, 'foreach(f)') }, 'foreach');
  }

  async foreachPartition(f: (it: Iterable<T>) => unknown, caps?: Captures): Promise<void> {
    await this.run({ op: 'foreachPartition', f: captureFn(f, caps, 'foreachPartition(f)') }, 'foreachPartition');
  }

  /**
   * Writes one `part-NNNNN` text file per partition (objects as JSON) through temporary files and a
   * `_SUCCESS` marker. Refuses an existing directory unless `overwrite` (a Cinder extension).
   */
  async saveAsTextFile(path: string, compressionCodecClass?: 'gzip' | null, overwrite = false): Promise<void> {
    await this.context._save(this, path, compressionCodecClass ?? undefined, overwrite);
  }

  /** Iterates over all elements, one partition at a time (one job per partition). */
  async *toLocalIterator(): AsyncIterable<T> {
    for (let p = 0; p < this.numPartitions; p++) {
      const [part] = (await this.run({ op: 'collect' }, 'toLocalIterator', [p])) as T[][];
      yield* part ?? [];
    }
  }

  toDebugString(): string {
    const lines: string[] = [];
    const visit = (r: RDD<any>, depth: number) => {
      lines.push(
        `${'  '.repeat(depth)}(${r.numPartitions}) ${r.spec.kind}#${r.id}${r.storageLevel ? ` [${r.storageLevel}]` : ''}`,
      );
      for (const p of r.parents) visit(p, depth + 1);
      for (const d of r.deps) visit(d.rdd, depth + 1);
    };
    visit(this, 0);
    return lines.join('\n');
  }
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
