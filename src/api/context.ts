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
import v8 from 'node:v8';
import vm from 'node:vm';
import { boolConf, type Conf, DEFAULTS, intConf, parseBytes, parseMaster, parseMb, strConf } from '../common/conf.js';
import { checkConf } from '../common/conf-keys.js';
import { CinderError } from '../common/errors.js';
import { localAppId } from '../common/ids.js';
import { holdProcess, own } from '../common/keep-alive.js';
import { logger, rootLogger } from '../common/log.js';
import { checkSerializable, encode } from '../common/serde.js';
import { remapStack } from '../common/stack.js';
import { tracePhase } from '../common/startup-trace.js';
import { VERSION } from '../common/version.js';
import { abortJob, commitJob, prepareOutput } from '../io/output.js';
import { planTextSplitsSync, planWholeFilesSync } from '../io/splits-sync.js';
import { collectFnRefs } from '../plan/fn-refs.js';
import type { ResultOp, ShuffleDepSpec } from '../plan/plan.js';
import type { PreListener } from '../rpc/index.js';
import type { ExecutorBackend } from '../scheduler/backend.js';
import { DAGScheduler, type LineageNode } from '../scheduler/dag-scheduler.js';
import { DriverEndpoint } from '../scheduler/driver-endpoint.js';
import { LocalBackend } from '../scheduler/local-backend.js';
import { attachProgressBar } from '../scheduler/progress.js';
import { TaskScheduler } from '../scheduler/task-scheduler.js';
import { AppStatus } from '../ui/app-status.js';
import { bindUiListener, type UiListener } from '../ui/listener.js';
import { getBundle } from './closure.js';
import { changeLocalProps, checkTag, jobCancelled, jobProps, localProps } from './job-props.js';
import { type Captures, RDD } from './rdd.js';
import { Accumulator, type AccumulatorParam, Broadcast } from './shared-vars.js';

const log = logger('context');
/** the driver UI's web framework loads this long after the context starts, or on its first request */
const UI_LOAD_DELAY_MS = 3000;

export interface ContextOptions {
  master?: string;
  appName?: string;
  conf?: Conf;
}

/** Set by `cinder submit` / the AM for the driver process. */
interface SubmitEnv {
  master: string;
  files?: string[];
  archives?: string[];
  appName?: string;
  conf?: Conf;
  appId?: string;
  deployMode?: 'client' | 'cluster';
}

function submitEnv(): SubmitEnv | undefined {
  const raw = process.env.CINDER_SUBMIT_CONF;
  if (!raw) return undefined;
  return JSON.parse(raw) as SubmitEnv;
}

let active: CinderContext | undefined;
let activeStarting: Promise<CinderContext> | undefined;

export class CinderContext {
  readonly master: string;
  readonly appName: string;
  readonly conf: Readonly<Conf>;
  readonly startTime = Date.now();
  readonly version = VERSION;
  applicationId: string;
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
  private secret = randomBytes(32).toString('hex');
  /** temp dir of local executors (local masters only) */
  private workDir: string | undefined;
  private ts!: TaskScheduler;
  private dag!: DAGScheduler;
  private endpoint!: DriverEndpoint;
  private backend!: ExecutorBackend;
  private fatal: Error | undefined;
  private gcTimer: NodeJS.Timeout | undefined;
  private uiListener: UiListener | undefined;
  private uiLoading: Promise<{ close(): Promise<unknown> } | undefined> | undefined;
  private status: AppStatus | undefined;
  private readonly signalHandler = (sig: NodeJS.Signals) => {
    // an app that handles the signal itself decides when to stop the context
    if (process.listenerCount(sig) > 1) return;
    log.warn({ signal: sig }, 'stopping the context on signal');
    void this.stop().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
  };

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
    this.applicationId = env?.appId ?? localAppId(this.startTime);
  }

  /** Returns the running context, or starts one. `master` defaults to local[*]. */
  static async getOrCreate(opts: ContextOptions = {}): Promise<CinderContext> {
    if (active && !active.stopped) return active;
    if (activeStarting) return activeStarting;
    activeStarting = (async () => {
      const sc = new CinderContext(opts);
      try {
        await sc.start();
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

  private async start(): Promise<void> {
    tracePhase('driver', 'app loaded (transpile, imports, main up to the context)');
    const master = parseMaster(this.master);
    const conf = this.conf;
    this.ts = new TaskScheduler({
      maxFailures:
        master.kind === 'local' && master.maxFailures ? master.maxFailures : intConf(conf, 'cinder.task.maxFailures'),
      localityWaitMs: intConf(conf, 'cinder.locality.wait'),
      prefetchPerCore: intConf(conf, 'cinder.scheduler.prefetchPerCore'),
    });
    const self = this;
    this.dag = new DAGScheduler(
      this.ts,
      {
        maxStageAttempts: intConf(conf, 'cinder.stage.maxConsecutiveAttempts'),
        maxResultSize: parseBytes(strConf(conf, 'cinder.driver.maxResultSize')!, 'cinder.driver.maxResultSize'),
      },
      {
        get appId() {
          return self.applicationId;
        },
        mergeAccumulators: (updates) => {
          for (const [id, v] of updates) this.accumulatorRefs.get(id)?.deref()?.merge(v);
        },
        executorAddress: (id) => {
          const e = this.ts.executors.get(id);
          return e ? { host: e.host, port: e.blockPort } : undefined;
        },
      },
    );
    if (boolConf(conf, 'cinder.ui.showConsoleProgress')) attachProgressBar(this.dag, process.stderr);
    // the UI and the event log listen to the schedulers; with both off nothing is recorded
    if (boolConf(conf, 'cinder.ui.enabled') || boolConf(conf, 'cinder.eventLog.enabled'))
      this.status = new AppStatus(this.dag, this.ts, conf);
    this.dag.on('shuffleRemoved', (e: { shuffleId: number }) =>
      this.endpoint?.broadcastToExecutors({ type: 'RemoveShuffle', shuffleId: e.shuffleId }),
    );
    this.endpoint = new DriverEndpoint(
      this.ts,
      {
        get appId() {
          return self.applicationId;
        },
        get secret() {
          return self.secret;
        },
        conf: {},
        getBroadcast: (id) => this.broadcasts.get(id),
        getFile: (name) => this.serveFile(name),
        executorAdded: (id) => this.status?.executorAdded(id),
        executorLost: (id, reason) => {
          this.status?.executorRemoved(id, reason);
          this.dag.executorLost(id);
          if (!this.stopped) this.backend.executorLost(id, reason);
        },
        blocksRemoved: (id, blocks) => this.dag.blockRemoved(id, blocks),
      },
      intConf(conf, 'cinder.network.timeout'),
    );
    let host = strConf(conf, 'cinder.driver.host') ?? '127.0.0.1';
    const memoryMb = parseMb(strConf(conf, 'cinder.executor.memory')!, 'cinder.executor.memory');
    if (master.kind === 'local') {
      this.workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-driver-'));
      // an app that exits without stop() (uncaught error, process.exit) still leaves no temp files;
      // its executor processes are killed by the local backend's own exit hook
      const dir = this.workDir;
      process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
      const b = new LocalBackend({
        executors: master.executors,
        coresPerExecutor: intConf(conf, 'cinder.executor.cores'),
        memoryMb,
        workDir: this.workDir,
        heartbeatMs: intConf(conf, 'cinder.executor.heartbeatInterval'),
        maxExecutorFailures: intConf(conf, 'cinder.executor.maxFailures'),
      });
      b.onFatal = (e) => this.abort(e);
      this.backend = b;
    } else {
      const { createClusterBackend } = await import('../deploy/driver/backends.js');
      const env = submitEnv();
      this.backend = createClusterBackend({
        master,
        conf,
        appName: this.appName,
        files: env?.files ?? [],
        archives: env?.archives ?? [],
        onFatal: (e) => this.abort(e),
      });
    }
    let listener: PreListener | undefined;
    if (this.backend.prepare) {
      const p = await this.backend.prepare();
      this.applicationId = p.appId;
      this.secret = p.secret;
      if ('driverHost' in p && typeof p.driverHost === 'string' && !conf['cinder.driver.host']) host = p.driverHost;
      listener = p.listener;
    }
    await this.endpoint.start(
      strConf(conf, 'cinder.driver.bindAddress') ?? host,
      intConf({ p: conf['cinder.driver.port'] ?? '0' }, 'p'),
      listener,
    );
    tracePhase('driver', 'driver endpoint listening');
    for (const s of ['SIGINT', 'SIGTERM'] as const) process.on(s, this.signalHandler);
    this.startPeriodicGc(intConf(conf, 'cinder.cleaner.periodicGC.interval'));
    // the UI's port is bound now (node:http, cheap) and reported as the tracking URL; its web framework
    // loads on the first request or a few seconds after start, not while the executors start
    if (boolConf(conf, 'cinder.ui.enabled')) {
      try {
        this.uiListener = await bindUiListener(
          strConf(conf, 'cinder.driver.bindAddress') ?? host,
          intConf(conf, 'cinder.ui.port'),
        );
        own(this.uiListener.server);
        // its connections too (a browser's keep-alive must not hold a finished app)
        this.uiListener.server.on('connection', (sock) => own(sock));
      } catch (e) {
        log.warn({ err: (e as Error).message }, 'the driver UI did not start');
      }
    }
    this.status?.start({
      appId: this.applicationId,
      appName: this.appName,
      startTime: this.startTime,
      master: this.master,
      conf,
      driverHost: host,
      sparkVersion: VERSION,
      mirrorEventLog: this.backend.mirrorEventLog?.bind(this.backend),
    });
    this.backend.onAmRegistered = (am) => this.status?.recorder.amRegistered(am.host, am.attemptId);
    await this.backend.start(
      {
        host,
        port: this.endpoint.port,
        appId: this.applicationId,
        secret: this.secret,
        // the AM registers with it, so the app has its tracking address from its first report
        ...(this.uiListener ? { uiUrl: this.uiListener.url } : {}),
      },
      (n, t) => this.endpoint.waitForExecutors(n, t),
    );
    tracePhase('driver', 'executors registered');
    if (this.uiListener) {
      this.backend.setUiUrl?.(this.uiListener.url);
      this.scheduleUiLoad(this.uiListener);
    }
    log.info({ appId: this.applicationId, master: this.master }, 'context started');
  }

  /** Loads the UI's request handler on its first request, or UI_LOAD_DELAY_MS after start. */
  private scheduleUiLoad(listener: UiListener): void {
    const status = this.status!;
    const load = (): void => {
      if (this.uiLoading || this.stopped) return;
      clearTimeout(timer);
      this.uiLoading = status
        .serve(listener, {
          maxMemory: parseMb(strConf(this.conf, 'cinder.executor.memory')!, 'cinder.executor.memory') * 1024 * 1024,
          // on a cluster the UI is reached through the RM's web proxy only (src/web/proxy-auth.ts)
          proxySecret: this.master.startsWith('local') ? undefined : this.secret,
        })
        .catch((e: Error) => {
          log.warn({ err: e.message }, 'the driver UI could not load; its port answers 503');
          // held and later requests get the 503 at once instead of waiting for the driver to stop
          listener.attach((_req, res) => {
            res.statusCode = 503;
            res.setHeader('content-type', 'text/plain; charset=utf-8');
            res.end(`the driver UI could not load: ${e.message}\n`);
          });
          return undefined;
        });
    };
    const timer = setTimeout(load, UI_LOAD_DELAY_MS);
    timer.unref();
    listener.onFirstRequest(load);
  }

  /**
   * Shuffle files, broadcasts and accumulators are released when the RDDs and variables that use them
   * are garbage collected (Spark's ContextCleaner); a long-lived driver with a small heap may go a long
   * time without a full GC, so one is run periodically, like spark.cleaner.periodicGC.interval.
   */
  private startPeriodicGc(intervalMs: number): void {
    if (!(intervalMs > 0)) return;
    let gc = (globalThis as { gc?: () => void }).gc;
    if (!gc) {
      v8.setFlagsFromString('--expose-gc');
      gc = vm.runInNewContext('gc') as () => void;
    }
    this.gcTimer = setInterval(() => gc(), intervalMs);
    this.gcTimer.unref();
  }

  private abort(e: Error): void {
    this.fatal = e;
    this.dag.stop(e);
    if (ENDED_ON_CLUSTER.has((e as CinderError).code)) CinderContext._onEndedOnCluster?.(e, this);
  }

  /**
   * @internal `cinder submit` sets this: the application ended on the cluster (killed, failed, or the RM
   * gone for good) while this driver ran, so the driver stops and the process exits non-zero.
   */
  static _onEndedOnCluster: ((e: Error, sc: CinderContext) => void) | undefined;

  /** The driver's status UI (Spark's tracking URL), if enabled (cinder.ui.enabled). */
  get uiWebUrl(): string | undefined {
    return this.uiListener?.url;
  }

  /** Number of task slots: the default number of partitions for parallelize/range. */
  get defaultParallelism(): number {
    const explicit = this.conf['cinder.default.parallelism'];
    if (explicit) return Number(explicit);
    return Math.max(2, this.ts?.totalCores || this.backend?.targetCores || 2);
  }

  /** @internal used by the test harness and fault injection */
  get _backend(): ExecutorBackend {
    return this.backend;
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
    this.dag?.forgetRdd(rddId);
    this.status?.unpersistRdd(rddId);
    this.endpoint?.broadcastToExecutors({ type: 'RemoveRdd', rddId });
  }

  private async prepareLineage(rdd: RDD<any>, seen = new Set<number>()): Promise<void> {
    if (seen.has(rdd.id)) return;
    seen.add(rdd.id);
    for (const p of rdd.parents) await this.prepareLineage(p, seen);
    for (const d of rdd.deps) await this.prepareLineage(d.rdd, seen);
    if (rdd.prepareHook) {
      const h = rdd.prepareHook;
      rdd.prepareHook = undefined;
      try {
        await h();
      } catch (e) {
        rdd.prepareHook = h;
        throw e;
      }
    }
  }

  /** @internal runs a job and returns per-partition results */
  async _runJob(rdd: RDD<any>, op: ResultOp, partitions: number[] | undefined, what: string): Promise<unknown[]> {
    this.checkLive(what);
    if (this.fatal) throw this.fatal;
    // the user's line that ran the action, taken before the first await (the UI names the job by it)
    const callStack = new Error().stack;
    // a running job is work of the app's: it keeps the process alive (src/common/keep-alive.ts)
    const release = holdProcess();
    try {
      await this.prepareLineage(rdd);
      const out = await this.dag.runJob(rdd as LineageNode, op, partitions, what, jobProps(), callStack);
      await this.checkpointAfterJob(rdd);
      return out;
    } catch (e) {
      throw this.remap(e as Error, rdd);
    } finally {
      release();
    }
  }

  private remap(e: Error, rdd: RDD<any>): Error {
    const refs = collectFnRefs(allPlanNodes(rdd));
    const remote = (e as { remoteStack?: string }).remoteStack;
    const cause = e.cause as Error | undefined;
    if (cause && remote) {
      cause.stack = remapStack(remote, refs);
      e.stack = `${e.name}: ${e.message}\nCaused by: ${cause.stack}`;
    }
    return e;
  }

  private async checkpointAfterJob(rdd: RDD<any>): Promise<void> {
    const marked: RDD<any>[] = [];
    const seen = new Set<number>();
    const visit = (r: RDD<any>) => {
      if (seen.has(r.id)) return;
      seen.add(r.id);
      if (r.checkpointRequested) marked.push(r);
      for (const p of r.parents) visit(p);
      for (const d of r.deps) visit(d.rdd);
    };
    visit(rdd);
    for (const r of marked) {
      const dir = path.join(this._checkpointDir!, `rdd-${r.id}`);
      fs.mkdirSync(dir, { recursive: true });
      await this.dag.runJob(r as LineageNode, { op: 'checkpoint', dir }, undefined, 'checkpoint', jobProps());
      r._checkpointed(dir);
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
    this.dag?.cancelJobs(
      (p) => p.group === groupId,
      (id) => jobCancelled(id, `as part of cancelled job group '${groupId}'`),
    );
  }

  /** Cancels every job that is running or waiting. */
  cancelAllJobs(): void {
    this.dag?.cancelJobs(
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
    this.dag?.cancelJobs(
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
        if (this.gcTimer) clearInterval(this.gcTimer);
        for (const s of ['SIGINT', 'SIGTERM'] as const) process.off(s, this.signalHandler);
        this.dag?.stop(new CinderError('CONTEXT_STOPPED', 'the context was stopped while the job was running'));
        this.ts?.stop();
        // the event log ends with the app's jobs, before executors are let go (they are not removed, as in Spark)
        this.status?.end();
        await this.endpoint?.stop().catch(() => {});
        const ui = await this.uiLoading;
        await ui?.close().catch(() => {});
        await this.uiListener?.close().catch(() => {});
        await this.backend?.stop(outcome).catch(() => {});
        if (this.workDir) fs.rmSync(this.workDir, { recursive: true, force: true });
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

/** errors of the cluster backend that mean the application is over on the cluster */
const ENDED_ON_CLUSTER = new Set(['APP_ENDED', 'RM_LOST', 'REPORT_FAILED']);

function checkSlices(n: number, what: string): void {
  if (!Number.isInteger(n) || n <= 0)
    throw new CinderError(
      'BAD_ARGUMENT',
      `${what}: numSlices must be a positive integer, got ${String(n)}`,
      'pass a number >= 1',
    );
}

function allPlanNodes(rdd: RDD<any>): unknown[] {
  const out: unknown[] = [];
  const seen = new Set<number>();
  const visit = (r: RDD<any>) => {
    if (seen.has(r.id)) return;
    seen.add(r.id);
    out.push(r.planNode());
    for (const p of r.parents) visit(p);
    for (const d of r.deps) visit(d.rdd);
  };
  visit(rdd);
  return out;
}
