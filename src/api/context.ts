/**
 * CinderContext: the entry point of an application (PySpark's SparkContext). It connects to the
 * cluster manager (or starts local executor processes), owns the schedulers, and creates RDDs.
 *
 * Inside `cinder submit` the master, app name and conf come from the submit environment
 * (CINDER_SUBMIT_CONF), so the same app file runs unchanged in local, client and cluster mode.
 */

import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Conf, DEFAULTS } from '../common/conf.js';
import { checkConf } from '../common/conf-keys.js';
import { CinderError } from '../common/errors.js';
import { localAppId } from '../common/ids.js';
import { holdProcess } from '../common/keep-alive.js';
import { logger, rootLogger } from '../common/log.js';
import { checkSerializable, encode } from '../common/serde.js';
import { remapStack } from '../common/stack.js';
import { tracePhase } from '../common/startup-trace.js';
import { VERSION } from '../common/version.js';
import { Driver } from '../driver/driver.js';
import { submitEnv } from '../driver/submit-env.js';
import { abortJob, commitJob, prepareOutput } from '../io/output.js';
import { planTextSplitsSync, planWholeFilesSync } from '../io/splits-sync.js';
import { collectFnRefs } from '../plan/fn-refs.js';
import { walkLineage } from '../plan/lineage.js';
import type { ResultOp, ShuffleDepSpec } from '../plan/plan.js';
import type { ExecutorBackend } from '../scheduler/backend.js';
import { classBundleIds } from './class-bundles.js';
import { getBundle } from './closure.js';
import { changeLocalProps, checkTag, jobCancelled, jobProps, localProps } from './job-props.js';
import { type Captures, RDD } from './rdd.js';
import { Accumulator, type AccumulatorParam, Broadcast } from './shared-vars.js';

const log = logger('context');

export interface ContextOptions {
  master?: string;
  appName?: string;
  conf?: Conf;
}

let active: CinderContext | undefined;
let activeStarting: Promise<CinderContext> | undefined;

export class CinderContext {
  readonly master: string;
  readonly appName: string;
  readonly conf: Readonly<Conf>;
  readonly startTime = Date.now();
  readonly version = VERSION;
  /** @internal */ _checkpointDir: string | undefined;
  private nextRddId = 0;
  private nextShuffleId = 0;
  private nextBroadcastId = 0;
  private nextAccumulatorId = 0;
  private readonly broadcasts = new Map<number, Uint8Array>();
  private readonly files = new Map<string, string>();
  /** drops driver-side state of broadcasts and accumulators the app can no longer reach */
  private readonly varCleaner = new FinalizationRegistry<{ kind: 'b' | 'a'; id: number }>((v) => {
    if (v.kind === 'b') this.broadcasts.delete(v.id);
    else this.accumulatorRefs.delete(v.id);
  });
  private readonly accumulatorRefs = new Map<number, WeakRef<Accumulator<unknown>>>();
  private stopped = false;
  private stopping: Promise<void> | undefined;
  private readonly stoppedWaiters: Array<() => void> = [];
  /** assembly, lifecycle and signals of the driver (src/driver) */
  private readonly driver: Driver;

  private constructor(opts: ContextOptions) {
    const env = submitEnv();
    this.master = env?.master ?? opts.master ?? 'local[*]';
    // `cinder submit --name` (or cinder.app.name in its conf) wins over the code's appName: the cluster
    // records the submitted name, and the driver's UI and event log must say the same
    this.appName =
      env?.conf?.['cinder.app.name'] ?? opts.appName ?? opts.conf?.['cinder.app.name'] ?? env?.appName ?? 'cinder-app';
    if (opts.conf)
      checkConf(opts.conf, 'CinderContext.getOrCreate conf', { unknown: 'warn', warn: (m) => log.warn(m) });
    this.conf = Object.freeze({ ...DEFAULTS, ...(env?.conf ?? {}), ...(opts.conf ?? {}) });
    this.driver = new Driver(
      {
        master: this.master,
        appName: this.appName,
        conf: this.conf,
        startTime: this.startTime,
        getBroadcast: (id) => this.broadcasts.get(id),
        serveFile: (name) => this.serveFile(name),
        mergeAccumulators: (updates) => {
          for (const [id, v] of updates) this.accumulatorRefs.get(id)?.deref()?.merge(v);
        },
        classBundles: classBundleIds,
        stop: () => this.stop(),
        endedOnCluster: (e) => CinderContext._onEndedOnCluster?.(e, this),
      },
      env?.appId ?? localAppId(this.startTime),
    );
  }

  /** The application's id (the cluster's, once the context runs on one). */
  get applicationId(): string {
    return this.driver.appId;
  }

  /** Returns the running context, or starts one. `master` defaults to local[*]. */
  static async getOrCreate(opts: ContextOptions = {}): Promise<CinderContext> {
    if (active && !active.stopped) return active;
    if (activeStarting) return activeStarting;
    activeStarting = (async () => {
      const sc = new CinderContext(opts);
      try {
        await sc.driver.start();
      } catch (e) {
        await sc.stop();
        throw e;
      }
      active = sc;
      return sc;
    })().finally(() => {
      activeStarting = undefined;
    });
    return activeStarting;
  }

  /**
   * @internal `cinder submit` sets this: the application ended on the cluster (killed, failed, or the RM
   * gone for good) while this driver ran, so the driver stops and the process exits non-zero.
   */
  static _onEndedOnCluster: ((e: Error, sc: CinderContext) => void) | undefined;

  /**
   * The driver's status UI (Spark's tracking URL), if enabled (cinder.ui.enabled). In local mode plain
   * HTTP; on a cluster an HTTPS address keyed by the app's secret that only the ResourceManager's web
   * proxy can open: browse the app at `<RM web address>/proxy/<applicationId>/` instead.
   */
  get uiWebUrl(): string | undefined {
    return this.driver.uiUrl;
  }

  /** Number of task slots: the default number of partitions for parallelize/range. */
  get defaultParallelism(): number {
    const explicit = this.conf['cinder.default.parallelism'];
    if (explicit) return Number(explicit);
    return Math.max(2, this.driver.cores || 2);
  }

  /** @internal used by the test harness and fault injection */
  get _backend(): ExecutorBackend {
    return this.driver.backend!;
  }

  /** @internal */ _newRddId(): number {
    return this.nextRddId++;
  }
  /** @internal */ _newShuffleId(): number {
    return this.nextShuffleId++;
  }
  /** @internal */ _defaultShufflePartitions(rdd: RDD<unknown>): number {
    const explicit = this.conf['cinder.default.parallelism'];
    return explicit ? Number(explicit) : rdd.numPartitions;
  }

  private checkLive(what: string): void {
    if (this.stopped)
      throw new CinderError(
        'CONTEXT_STOPPED',
        `${what}: the context has been stopped`,
        'create a new one with CinderContext.getOrCreate()',
      );
  }

  // ------------------------------------------------------------------ creating RDDs
  /** Distributes a local array to form an RDD. */
  parallelize<T>(data: Iterable<T>, numSlices?: number): RDD<T> {
    this.checkLive('parallelize');
    if (data === null || data === undefined || typeof (data as Iterable<T>)[Symbol.iterator] !== 'function')
      throw new CinderError(
        'BAD_ARGUMENT',
        `parallelize: data must be an array or iterable, got ${data === null ? 'null' : typeof data}`,
      );
    const arr = Array.from(data);
    checkSerializable(arr, 'parallelize() data');
    const n = numSlices ?? this.defaultParallelism;
    checkSlices(n, 'parallelize');
    const slices: T[][] = [];
    for (let i = 0; i < n; i++)
      slices.push(arr.slice(Math.floor((i * arr.length) / n), Math.floor(((i + 1) * arr.length) / n)));
    return new RDD<T>(this, { spec: { kind: 'parallel', numSlices: n }, numPartitions: n, slices });
  }

  /** Like Python's range: range(end) or range(start, end, step). */
  range(start: number, end?: number, step = 1, numSlices?: number): RDD<number> {
    this.checkLive('range');
    if (end === undefined || end === null) [start, end] = [0, start];
    if (step === 0) throw new CinderError('BAD_ARGUMENT', 'range: step must not be 0');
    const n = numSlices ?? this.defaultParallelism;
    checkSlices(n, 'range');
    return new RDD<number>(this, { spec: { kind: 'range', start, end, step, numSlices: n }, numPartitions: n });
  }

  /** Reads text files (a file, a directory, a glob, or a comma-separated list; .gz is decompressed) as lines. */
  textFile(name: string, minPartitions?: number): RDD<string> {
    this.checkLive('textFile');
    const splits = planTextSplitsSync(name, minPartitions ?? this.defaultMinPartitions);
    return new RDD<string>(this, { spec: { kind: 'text', splits }, numPartitions: splits.length });
  }

  /** Reads whole files as [path, content] pairs. */
  wholeTextFiles(path: string, minPartitions?: number): RDD<[string, string]> {
    this.checkLive('wholeTextFiles');
    const splits = planWholeFilesSync(path, minPartitions ?? this.defaultMinPartitions);
    return new RDD<[string, string]>(this, { spec: { kind: 'wholeText', splits }, numPartitions: splits.length });
  }

  /**
   * Reads binary files (a file, a directory, a glob, or a comma-separated list) as [path, Buffer] pairs,
   * one per file, not decompressed.
   */
  binaryFiles(path: string, minPartitions?: number): RDD<[string, Buffer]> {
    this.checkLive('binaryFiles');
    const splits = planWholeFilesSync(path, minPartitions ?? this.defaultMinPartitions);
    return new RDD<[string, Buffer]>(this, { spec: { kind: 'binaryFiles', splits }, numPartitions: splits.length });
  }

  /** Reads binary files as records of `recordLength` bytes each (a file must be a whole number of records). */
  binaryRecords(path: string, recordLength: number): RDD<Buffer> {
    this.checkLive('binaryRecords');
    if (!Number.isInteger(recordLength) || recordLength <= 0)
      throw new CinderError(
        'BAD_ARGUMENT',
        `binaryRecords: recordLength must be a positive integer, got ${String(recordLength)}`,
      );
    const splits = planWholeFilesSync(path, this.defaultMinPartitions);
    return new RDD<Buffer>(this, {
      spec: { kind: 'binaryFiles', splits, recordLength },
      numPartitions: splits.length,
    });
  }

  /**
   * Runs `partitionFunc` on the given partitions (default: all) and returns its results, flattened, in
   * partition order (PySpark's runJob).
   * @example await sc.runJob(sc.parallelize([0, 1, 2, 3, 4, 5], 3), (part) => [...part].map((x) => x * x), [0, 2]) // [0, 1, 16, 25]
   */
  async runJob<T, U>(
    rdd: RDD<T>,
    partitionFunc: (it: Iterable<T>) => Iterable<U>,
    partitions?: number[],
    allowLocal?: boolean | Captures,
    caps?: Captures,
  ): Promise<U[]> {
    if (allowLocal !== null && typeof allowLocal === 'object') caps = allowLocal;
    for (const p of partitions ?? [])
      if (!Number.isInteger(p) || p < 0 || p >= rdd.numPartitions)
        throw new CinderError(
          'BAD_ARGUMENT',
          `runJob: partition ${String(p)} does not exist (the RDD has ${rdd.numPartitions} partitions)`,
        );
    const mapped = rdd.mapPartitions(partitionFunc, caps ?? {});
    const parts = (await this._runJob(mapped, { op: 'collect' }, partitions, 'runJob')) as U[][];
    return parts.flat(1) as U[];
  }

  /** Default minimum number of partitions for file input: min(defaultParallelism, 2). */
  get defaultMinPartitions(): number {
    return Math.min(this.defaultParallelism, 2);
  }

  /** A copy of the context's configuration (PySpark's getConf). */
  getConf(): Conf {
    return { ...this.conf };
  }

  /** The checkpoint directory set with setCheckpointDir, if any. */
  getCheckpointDir(): string | undefined {
    return this._checkpointDir;
  }

  /** Names of the files added with addFile. */
  listFiles(): string[] {
    return [...this.files.values()];
  }

  /**
   * The driver's log level (PySpark's names: ALL, DEBUG, ERROR, FATAL, INFO, OFF, TRACE, WARN; any case).
   * Executors keep theirs (CINDER_LOG_LEVEL).
   * @example sc.setLogLevel('WARN')
   */
  setLogLevel(logLevel: string): void {
    const level = LOG_LEVELS[String(logLevel).toUpperCase()];
    if (!level)
      throw new CinderError(
        'BAD_ARGUMENT',
        `setLogLevel: '${logLevel}' is not a log level`,
        `use one of ${Object.keys(LOG_LEVELS).join(', ')}`,
      );
    rootLogger.level = level;
  }

  /** The user running this driver. */
  sparkUser(): string {
    return process.env.CINDER_USER ?? os.userInfo().username;
  }

  /**
   * An RDD with no partitions and no elements.
   * @example await sc.emptyRDD().isEmpty() // true
   */
  emptyRDD<T>(): RDD<T> {
    return new RDD<T>(this, { spec: { kind: 'empty' }, numPartitions: 0 });
  }

  /**
   * The elements of every RDD in `rdds` (duplicates kept), their partitions one after the other.
   * @example await sc.union([sc.parallelize([1, 2]), sc.parallelize([3])]).collect() // [1, 2, 3]
   */
  union<T>(rdds: RDD<T>[]): RDD<T> {
    this.checkLive('union');
    return new RDD<T>(this, {
      spec: { kind: 'union', parents: rdds.map((r) => r.id), counts: rdds.map((r) => r.numPartitions) },
      numPartitions: rdds.reduce((a, r) => a + r.numPartitions, 0),
      parents: rdds,
    });
  }

  /** A read-only value sent once to each executor; use it inside functions through a capture: `{ lookup }`. */
  broadcast<T>(value: T): Broadcast<T> {
    this.checkLive('broadcast');
    checkSerializable(value, 'broadcast() value');
    const id = this.nextBroadcastId++;
    this.broadcasts.set(id, encode(value));
    const b = new Broadcast(id, value, (bid) => this.broadcasts.delete(bid));
    this.varCleaner.register(b, { kind: 'b', id });
    return b;
  }

  /**
   * A variable that tasks add to; read the total on the driver with `.value` (reading it inside a task
   * throws). Numbers, BigInts and strings add, arrays concatenate, plain objects merge key-wise; any other
   * type takes an `accumParam` ({ zero, addInPlace }, PySpark's AccumulatorParam), applied on the driver
   * to every term the tasks added.
   * @example const acc = sc.accumulator(new Set<string>(), { zero: () => new Set(), addInPlace: (a, b) => new Set([...a, ...b]) });
   */
  accumulator<T>(value: T, accumParam?: AccumulatorParam<T>): Accumulator<T> {
    if (accumParam && (typeof accumParam.addInPlace !== 'function' || typeof accumParam.zero !== 'function'))
      throw new CinderError(
        'BAD_ARGUMENT',
        'accumulator: accumParam must have zero(value) and addInPlace(a, b) functions',
      );
    const a = new Accumulator<T>(this.nextAccumulatorId++, value, accumParam);
    this.accumulatorRefs.set(a.id, new WeakRef(a as Accumulator<unknown>));
    this.varCleaner.register(a, { kind: 'a', id: a.id });
    return a;
  }

  /**
   * The directory checkpoint() writes to (a subdirectory per application is made in it). On a cluster it
   * must be a path every node can reach.
   * @example sc.setCheckpointDir('/shared/ckpt'); rdd.checkpoint(); await rdd.count();
   */
  setCheckpointDir(dirName: string): void {
    fs.mkdirSync(dirName, { recursive: true });
    this._checkpointDir = path.join(dirName, `${this.applicationId}-${randomBytes(4).toString('hex')}`);
    fs.mkdirSync(this._checkpointDir, { recursive: true });
  }

  /** Adds a file that tasks can fetch (served by the driver). */
  addFile(p: string): void {
    if (!fs.existsSync(p)) throw new CinderError('INPUT_NOT_FOUND', `addFile: ${p} does not exist`);
    this.files.set(path.basename(p), path.resolve(p));
  }

  private async serveFile(name: string): Promise<Uint8Array> {
    if (name.startsWith('code/') && name.endsWith('.mjs')) {
      const code = getBundle(name.slice(5, -4));
      if (code !== undefined) return Buffer.from(code);
    }
    if (name.startsWith('files/')) {
      const p = this.files.get(name.slice(6));
      if (p) return fs.promises.readFile(p);
    }
    throw new CinderError('NO_SUCH_FILE', `the driver does not serve '${name}'`);
  }

  // ------------------------------------------------------------------ internals used by RDD
  /** @internal */
  _cogroup(rdds: RDD<any>[], numPartitions: number | undefined): RDD<unknown> {
    const n = numPartitions ?? Math.max(...rdds.map((r) => r.numPartitions), 1);
    checkSlices(n, 'cogroup');
    const deps = rdds.map((r) => {
      const spec: ShuffleDepSpec = {
        shuffleId: this._newShuffleId(),
        parent: r.id,
        numMaps: r.numPartitions,
        partitioner: { kind: 'hash', numPartitions: n },
        builtinAggregator: 'groupByKey',
        mapSideCombine: false,
      };
      return { spec, rdd: r };
    });
    return new RDD<unknown>(this, {
      spec: { kind: 'cogroup', deps: deps.map((d) => d.spec) },
      numPartitions: n,
      deps,
      partitioner: { kind: 'hash', numPartitions: n },
    });
  }

  /** @internal */
  _unpersist(rddId: number): void {
    this.driver.unpersist(rddId);
  }

  /** Runs the prepare hooks of the lineage (e.g. zipWithIndex's count), parents before children. */
  private async prepareLineage(rdd: RDD<any>): Promise<void> {
    for (const r of lineageOf(rdd).reverse()) {
      // read at its turn: a hook's own job may have prepared an ancestor already
      const h = r.prepareHook;
      if (!h) continue;
      r.prepareHook = undefined;
      try {
        await h();
      } catch (e) {
        r.prepareHook = h;
        throw e;
      }
    }
  }

  /** @internal runs a job and returns per-partition results */
  async _runJob(rdd: RDD<any>, op: ResultOp, partitions: number[] | undefined, what: string): Promise<unknown[]> {
    this.checkLive(what);
    if (this.driver.fatal) throw this.driver.fatal;
    // the user's line that ran the action, taken before the first await (the UI names the job by it)
    const callStack = new Error().stack;
    // a running job is work of the app's: it keeps the process alive (src/common/keep-alive.ts)
    const release = holdProcess();
    try {
      await this.prepareLineage(rdd);
      const out = await this.driver.runJob(rdd, op, partitions, what, jobProps(), callStack);
      await this.checkpointAfterJob(rdd);
      return out;
    } catch (e) {
      throw this.remap(e as Error, rdd);
    } finally {
      release();
    }
  }

  private remap(e: Error, rdd: RDD<any>): Error {
    const refs = collectFnRefs(lineageOf(rdd).map((r) => r.planNode()));
    const remote = (e as { remoteStack?: string }).remoteStack;
    const cause = e.cause as Error | undefined;
    if (cause && remote) {
      cause.stack = remapStack(remote, refs);
      e.stack = `${e.name}: ${e.message}\nCaused by: ${cause.stack}`;
    }
    return e;
  }

  private async checkpointAfterJob(rdd: RDD<any>): Promise<void> {
    await this.localCheckpointAfterJob(rdd);
    for (const r of lineageOf(rdd).filter((n) => n.checkpointRequested)) {
      const dir = path.join(this._checkpointDir!, `rdd-${r.id}`);
      fs.mkdirSync(dir, { recursive: true });
      await this.driver.runJob(r, { op: 'checkpoint', dir }, undefined, 'checkpoint', jobProps());
      r._checkpointed(dir);
    }
  }

  /**
   * localCheckpoint(): after the first job that reaches a marked RDD, its partitions that job did not
   * cache (first(), take()) are computed too, then its lineage is cut: from now on it is read from the
   * executors' blocks only. As in Spark, only the nearest marked RDD of a lineage is cut (the cut hides
   * the others).
   */
  private async localCheckpointAfterJob(rdd: RDD<any>): Promise<void> {
    for (;;) {
      const r = lineageOf(rdd).find((n) => n.locallyCheckpointed && !n.cachedOnly);
      if (!r) return;
      const missing = this.driver.uncachedPartitions(r.id, r.numPartitions);
      if (missing.length > 0) await this.driver.runJob(r, { op: 'none' }, missing, 'localCheckpoint', jobProps());
      r._localCheckpointed();
    }
  }

  /** @internal */
  async _save(rdd: RDD<any>, dir: string, compress: 'gzip' | undefined, overwrite: boolean): Promise<void> {
    this.checkLive('saveAsTextFile');
    const abs = path.resolve(dir);
    // cluster mode re-runs main in each AM attempt: a later attempt takes over what an earlier one left
    // uncommitted, and keeps what an earlier one committed
    const owner = { app: this.applicationId, attempt: process.env.CINDER_ATTEMPT_ID ?? '' };
    if ((await prepareOutput(abs, overwrite, owner)) === 'committed-earlier') {
      log.warn({ dir: abs }, 'output already committed by an earlier attempt of this application; not written again');
      return;
    }
    try {
      await this._runJob(rdd, { op: 'save', dir: abs, compress, format: 'text' }, undefined, 'saveAsTextFile');
      await commitJob(abs, rdd.numPartitions, owner);
    } catch (e) {
      await abortJob(abs).catch(() => {});
      throw e;
    }
  }

  // ------------------------------------------------------------------ job groups, tags, cancellation
  /**
   * Puts the jobs this async flow starts from now on (this request's handler, this function and what it
   * awaits; PySpark: this thread) in a group, which cancelJobGroup() cancels. Running tasks of a cancelled
   * job are always interrupted (`interruptOnCancel` is kept for PySpark's signature).
   * @example sc.setJobGroup('nightly', 'nightly report'); await rdd.count(); // job in group 'nightly'
   */
  setJobGroup(groupId: string, description?: string, interruptOnCancel = false): void {
    if (typeof groupId !== 'string')
      throw new CinderError('BAD_ARGUMENT', `setJobGroup: groupId must be a string, got ${typeof groupId}`);
    changeLocalProps(() => ({ group: groupId, description, interruptOnCancel }));
  }

  /** Clears this flow's job group. */
  clearJobGroup(): void {
    changeLocalProps(() => ({ group: undefined, description: undefined, interruptOnCancel: undefined }));
  }

  /** A description for the jobs this flow starts (shown with them). */
  setJobDescription(value: string | undefined): void {
    changeLocalProps(() => ({ description: value }));
  }

  /** PySpark's setInterruptOnCancel: kept for its signature; cancelled tasks are always interrupted. */
  setInterruptOnCancel(interruptOnCancel: boolean): void {
    changeLocalProps(() => ({ interruptOnCancel }));
  }

  /** Sets a local property of this flow's jobs (PySpark's setLocalProperty); undefined removes it. */
  setLocalProperty(key: string, value: string | undefined): void {
    changeLocalProps((p) => {
      const props = { ...p.props };
      if (value === undefined || value === null) delete props[key];
      else props[key] = String(value);
      return { props };
    });
  }

  /** A local property set in this flow, or undefined. */
  getLocalProperty(key: string): string | undefined {
    if (key === 'spark.jobGroup.id' || key === 'cinder.jobGroup.id') return localProps().group;
    if (key === 'spark.job.description' || key === 'cinder.job.description') return localProps().description;
    return localProps().props[key];
  }

  /** Cancels the running jobs of a group (their running tasks are killed); they fail with JOB_CANCELLED. */
  cancelJobGroup(groupId: string): void {
    this.driver.cancelJobs(
      (p) => p.group === groupId,
      (id) => jobCancelled(id, `as part of cancelled job group '${groupId}'`),
    );
  }

  /** Cancels every job that is running or waiting. */
  cancelAllJobs(): void {
    this.driver.cancelJobs(
      () => true,
      (id) => jobCancelled(id, 'as part of cancellation of all jobs'),
    );
  }

  /** Adds a tag to the jobs this flow starts from now on (cancelJobsWithTag cancels them). */
  addJobTag(tag: string): void {
    checkTag(tag, 'addJobTag');
    changeLocalProps((p) => ({ tags: new Set([...p.tags, tag]) }));
  }

  /** Removes a tag from the jobs this flow starts from now on. */
  removeJobTag(tag: string): void {
    checkTag(tag, 'removeJobTag');
    changeLocalProps((p) => ({ tags: new Set([...p.tags].filter((t) => t !== tag)) }));
  }

  /** The tags of the jobs this flow starts. */
  getJobTags(): Set<string> {
    return new Set(localProps().tags);
  }

  /** Removes every tag of this flow. */
  clearJobTags(): void {
    changeLocalProps(() => ({ tags: new Set() }));
  }

  /** Cancels the running jobs that carry `tag`. */
  cancelJobsWithTag(tag: string): void {
    checkTag(tag, 'cancelJobsWithTag');
    this.driver.cancelJobs(
      (p) => p.tags?.includes(tag) ?? false,
      (id) => jobCancelled(id, `as part of cancelled job tag '${tag}'`),
    );
  }

  /** Stops executors and frees every resource (ports, processes, temp files). Idempotent. */
  stop(outcome: { succeeded: boolean; diagnostics: string } = { succeeded: true, diagnostics: '' }): Promise<void> {
    this.stopping ??= (async () => {
      tracePhase('driver', 'stop requested');
      this.stopped = true;
      for (const w of this.stoppedWaiters.splice(0)) w();
      const release = holdProcess();
      try {
        await this.driver.stop(outcome);
        if (active === this) active = undefined;
        tracePhase('driver', 'stopped');
        log.info({ appId: this.applicationId }, 'context stopped');
      } finally {
        release();
      }
    })();
    return this.stopping;
  }

  /** @internal the running context, if any */
  static _active(): CinderContext | undefined {
    return active && !active.stopped ? active : undefined;
  }

  /** @internal resolves once stop() has finished (whoever called it) */
  _whenStopped(): Promise<void> {
    if (this.stopping) return this.stopping;
    return new Promise<void>((resolve) => this.stoppedWaiters.push(resolve)).then(() => this.stopping);
  }

  /** @internal stops the running context, if any (used when a submitted app's main returns) */
  static async _stopActive(finalStatus: 'SUCCEEDED' | 'FAILED', diagnostics = ''): Promise<void> {
    if (active) await active.stop({ succeeded: finalStatus === 'SUCCEEDED', diagnostics });
  }

  /** Whether stop() was called (or the context stopped on a signal or on the cluster's end of the app). */
  get isStopped(): boolean {
    return this.stopped;
  }
}

/** PySpark's log level names -> pino's */
const LOG_LEVELS: Record<string, string> = {
  ALL: 'trace',
  DEBUG: 'debug',
  ERROR: 'error',
  FATAL: 'fatal',
  INFO: 'info',
  OFF: 'silent',
  TRACE: 'trace',
  WARN: 'warn',
};

function checkSlices(n: number, what: string): void {
  if (!Number.isInteger(n) || n <= 0)
    throw new CinderError(
      'BAD_ARGUMENT',
      `${what}: numSlices must be a positive integer, got ${String(n)}`,
      'pass a number >= 1',
    );
}

/** Every RDD of rdd's lineage (through narrow parents and shuffle dependencies), each once, rdd first. */
function lineageOf(rdd: RDD<any>): RDD<any>[] {
  return walkLineage<RDD<any>>(rdd, (r) => [...r.parents, ...r.deps.map((d) => d.rdd)]);
}
