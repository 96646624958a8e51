/**
 * The driver (Spark's SparkContext internals): assembles the task and DAG schedulers, the driver endpoint,
 * the executor backend for the master (local processes, or src/deploy/driver/backends.ts on a cluster),
 * the UI and event log and the progress bar; owns start, stop and abort, signal handling and periodic GC.
 * CinderContext (src/api/context.ts) is the user-facing facade over it; this folder does not import the
 * API: it runs jobs on the plan's LineageNode and takes what it needs from the app through DriverApp.
 */

import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { boolConf, type Conf, intConf, parseBytes, parseMaster, parseMb, strConf } from '../common/conf.js';
import { CinderError } from '../common/errors.js';
import { holdProcess, own } from '../common/keep-alive.js';
import { logger } from '../common/log.js';
import { tracePhase } from '../common/startup-trace.js';
import { VERSION } from '../common/version.js';
import type { LineageNode } from '../plan/lineage.js';
import type { ResultOp } from '../plan/plan.js';
import type { PreListener } from '../rpc/index.js';
import type { ExecutorBackend } from '../scheduler/backend.js';
import { DAGScheduler, type JobProps } from '../scheduler/dag-scheduler.js';
import { DriverEndpoint } from '../scheduler/driver-endpoint.js';
import { LocalBackend } from '../scheduler/local-backend.js';
import { attachProgressBar } from '../scheduler/progress.js';
import { TaskScheduler } from '../scheduler/task-scheduler.js';
import { AppStatus } from '../ui/app-status.js';
import { bindUiListener, type UiListener } from '../ui/listener.js';
import { startPeriodicGc } from './periodic-gc.js';
import { stopOnSignals } from './signals.js';
import { submitEnv } from './submit-env.js';
import { type LoadedUi, scheduleUiLoad } from './ui-loader.js';

const log = logger('context');

/** errors of the cluster backend that mean the application is over on the cluster */
const ENDED_ON_CLUSTER = new Set(['APP_ENDED', 'RM_LOST', 'REPORT_FAILED']);

/** What the driver needs from the application (the context). */
export interface DriverApp {
  readonly master: string;
  readonly appName: string;
  readonly conf: Readonly<Conf>;
  readonly startTime: number;
  getBroadcast(id: number): Uint8Array | undefined;
  serveFile(name: string): Promise<Uint8Array>;
  mergeAccumulators(updates: Array<[number, unknown]>): void;
  /** bundles of the modules that registered classes (executors load them before a task) */
  classBundles?(): string[];
  /** stops the whole app (on SIGINT / SIGTERM) */
  stop(): Promise<void>;
  /** the application ended on the cluster (killed, failed, or the RM gone for good) while the driver ran */
  endedOnCluster(e: Error): void;
}

export type StopOutcome = { succeeded: boolean; diagnostics: string };

export class Driver {
  /** the application's id: local until a cluster backend reports the one the RM gave */
  appId: string;
  /** the error that ended the driver (a backend's fatal error), if any */
  fatal: Error | undefined;
  private stopped = false;
  private secret = randomBytes(32).toString('hex');
  /** temp dir of local executors (local masters only) */
  private workDir: string | undefined;
  private ts: TaskScheduler | undefined;
  private dag: DAGScheduler | undefined;
  private endpoint: DriverEndpoint | undefined;
  private backend_: ExecutorBackend | undefined;
  private status: AppStatus | undefined;
  private uiListener: UiListener | undefined;
  private uiLoading: () => Promise<LoadedUi> | undefined = () => undefined;
  private stopGc: (() => void) | undefined;
  private removeSignalHandlers: (() => void) | undefined;

  constructor(
    private readonly app: DriverApp,
    appId: string,
  ) {
    this.appId = appId;
  }

  async start(): Promise<void> {
    tracePhase('driver', 'app loaded (transpile, imports, main up to the context)');
    const app = this.app;
    const master = parseMaster(app.master);
    const conf = app.conf;
    const ts = new TaskScheduler({
      maxFailures:
        master.kind === 'local' && master.maxFailures ? master.maxFailures : intConf(conf, 'cinder.task.maxFailures'),
      localityWaitMs: intConf(conf, 'cinder.locality.wait'),
      prefetchPerCore: intConf(conf, 'cinder.scheduler.prefetchPerCore'),
    });
    this.ts = ts;
    const self = this;
    const dag = new DAGScheduler(
      ts,
      {
        maxStageAttempts: intConf(conf, 'cinder.stage.maxConsecutiveAttempts'),
        maxResultSize: parseBytes(strConf(conf, 'cinder.driver.maxResultSize')!, 'cinder.driver.maxResultSize'),
      },
      {
        get appId() {
          return self.appId;
        },
        mergeAccumulators: (updates) => app.mergeAccumulators(updates),
        classBundles: () => app.classBundles?.() ?? [],
        executorAddress: (id) => {
          const e = ts.executors.get(id);
          return e ? { host: e.host, port: e.blockPort } : undefined;
        },
      },
    );
    this.dag = dag;
    if (boolConf(conf, 'cinder.ui.showConsoleProgress')) attachProgressBar(dag, process.stderr);
    // the UI and the event log listen to the schedulers; with both off nothing is recorded
    if (boolConf(conf, 'cinder.ui.enabled') || boolConf(conf, 'cinder.eventLog.enabled'))
      this.status = new AppStatus(dag, ts, conf);
    dag.on('shuffleRemoved', (e: { shuffleId: number }) =>
      this.endpoint?.broadcastToExecutors({ type: 'RemoveShuffle', shuffleId: e.shuffleId }),
    );
    const endpoint = new DriverEndpoint(
      ts,
      {
        get appId() {
          return self.appId;
        },
        get secret() {
          return self.secret;
        },
        getBroadcast: (id) => app.getBroadcast(id),
        getFile: (name) => app.serveFile(name),
        executorAdded: (id) => this.status?.executorAdded(id),
        executorLost: (id, reason) => {
          this.status?.executorRemoved(id, reason);
          dag.executorLost(id);
          if (!this.stopped) this.backend_?.executorLost(id, reason);
        },
        blocksRemoved: (id, blocks) => dag.blockRemoved(id, blocks),
      },
      intConf(conf, 'cinder.network.timeout'),
    );
    this.endpoint = endpoint;
    let host = strConf(conf, 'cinder.driver.host') ?? '127.0.0.1';
    const backend = await this.createBackend(master);
    this.backend_ = backend;
    let listener: PreListener | undefined;
    if (backend.prepare) {
      const p = await backend.prepare();
      this.appId = p.appId;
      this.secret = p.secret;
      if ('driverHost' in p && typeof p.driverHost === 'string' && !conf['cinder.driver.host']) host = p.driverHost;
      listener = p.listener;
    }
    const bindAddress = strConf(conf, 'cinder.driver.bindAddress') ?? host;
    await endpoint.start(bindAddress, intConf({ p: conf['cinder.driver.port'] ?? '0' }, 'p'), listener);
    tracePhase('driver', 'driver endpoint listening');
    this.removeSignalHandlers = stopOnSignals(() => app.stop());
    this.stopGc = startPeriodicGc(intConf(conf, 'cinder.cleaner.periodicGC.interval'));
    if (boolConf(conf, 'cinder.ui.enabled')) {
      try {
        // on a cluster: HTTPS keyed by the app secret, for the RM's web proxy (src/web/ui-tls.ts)
        this.uiListener = await bindUiListener(
          bindAddress,
          intConf(conf, 'cinder.ui.port'),
          app.master.startsWith('local') ? undefined : this.secret,
        );
        own(this.uiListener.server);
        // its connections too (a browser's keep-alive must not hold a finished app)
        this.uiListener.server.on('connection', (sock) => own(sock));
      } catch (e) {
        log.warn({ err: (e as Error).message }, 'the driver UI did not start');
      }
    }
    this.status?.start({
      appId: this.appId,
      appName: app.appName,
      startTime: app.startTime,
      master: app.master,
      conf,
      driverHost: host,
      sparkVersion: VERSION,
      mirrorEventLog: backend.mirrorEventLog?.bind(backend),
    });
    backend.onAmRegistered = (am) => this.status?.recorder.amRegistered(am.host, am.attemptId);
    await backend.start(
      {
        host,
        port: endpoint.port,
        appId: this.appId,
        secret: this.secret,
        // the AM registers with it, so the app has its tracking address from its first report
        ...(this.uiListener ? { uiUrl: this.uiListener.url } : {}),
      },
      (n, t) => endpoint.waitForExecutors(n, t),
    );
    tracePhase('driver', 'executors registered');
    if (this.uiListener) {
      this.uiLoading = scheduleUiLoad(
        this.uiListener,
        this.status!,
        {
          maxMemory: parseMb(strConf(conf, 'cinder.executor.memory')!, 'cinder.executor.memory') * 1024 * 1024,
          // on a cluster the UI is reached through the RM's web proxy only (src/web/proxy-auth.ts)
          proxySecret: app.master.startsWith('local') ? undefined : this.secret,
        },
        () => this.stopped,
      );
    }
    log.info({ appId: this.appId, master: app.master }, 'context started');
  }

  private async createBackend(master: ReturnType<typeof parseMaster>): Promise<ExecutorBackend> {
    const conf = this.app.conf;
    const memoryMb = parseMb(strConf(conf, 'cinder.executor.memory')!, 'cinder.executor.memory');
    if (master.kind === 'local') {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-driver-'));
      this.workDir = dir;
      // an app that exits without stop() (uncaught error, process.exit) still leaves no temp files;
      // its executor processes are killed by the local backend's own exit hook
      process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
      const b = new LocalBackend({
        executors: master.executors,
        coresPerExecutor: intConf(conf, 'cinder.executor.cores'),
        memoryMb,
        workDir: dir,
        heartbeatMs: intConf(conf, 'cinder.executor.heartbeatInterval'),
        maxExecutorFailures: intConf(conf, 'cinder.executor.maxFailures'),
      });
      b.onFatal = (e) => this.abort(e);
      return b;
    }
    const { createClusterBackend } = await import('../deploy/driver/backends.js');
    const env = submitEnv();
    return createClusterBackend({
      master,
      conf,
      appName: this.app.appName,
      files: env?.files ?? [],
      archives: env?.archives ?? [],
      onFatal: (e) => this.abort(e),
    });
  }

  private abort(e: Error): void {
    this.fatal = e;
    this.dag?.stop(e);
    if (ENDED_ON_CLUSTER.has((e as CinderError).code)) this.app.endedOnCluster(e);
  }

  /** The executor backend (undefined before start). */
  get backend(): ExecutorBackend | undefined {
    return this.backend_;
  }

  /** The driver UI's address, if it is enabled and bound. */
  get uiUrl(): string | undefined {
    return this.uiListener?.url;
  }

  /** Task slots of the registered executors, or what the backend asked for; 0 before start. */
  get cores(): number {
    return this.ts?.totalCores || this.backend_?.targetCores || 0;
  }

  /** Runs `op` on the partitions of `node` (all by default); one result per partition. */
  runJob(
    node: LineageNode,
    op: ResultOp,
    partitions: number[] | undefined,
    what: string,
    props: JobProps,
    callStack?: string,
  ): Promise<unknown[]> {
    if (!this.dag) throw new CinderError('CONTEXT_STOPPED', 'the context is stopped', 'create a new context');
    return this.dag.runJob(node, op, partitions, what, props, callStack);
  }

  /** The partitions (of n) of RDD rddId that no live executor holds as a cached block. */
  uncachedPartitions(rddId: number, n: number): number[] {
    const locs = this.dag?.blockLocations;
    const out: number[] = [];
    for (let p = 0; p < n; p++) if (!locs?.get(`rdd_${rddId}_${p}`)?.size) out.push(p);
    return out;
  }

  /** Cancels the running jobs whose props match; each fails with why(jobId). */
  cancelJobs(match: (p: JobProps) => boolean, why: (jobId: number) => Error): void {
    this.dag?.cancelJobs(match, why);
  }

  /** Forgets a cached RDD's blocks, on the driver, in the UI and on every executor. */
  unpersist(rddId: number): void {
    this.dag?.forgetRdd(rddId);
    this.status?.unpersistRdd(rddId);
    this.endpoint?.broadcastToExecutors({ type: 'RemoveRdd', rddId });
  }

  /** Stops the schedulers, the UI, the event log and the executors, and frees ports and temp files. */
  async stop(outcome: StopOutcome): Promise<void> {
    this.stopped = true;
    const release = holdProcess();
    try {
      this.stopGc?.();
      this.removeSignalHandlers?.();
      this.dag?.stop(new CinderError('CONTEXT_STOPPED', 'the context was stopped while the job was running'));
      this.ts?.stop();
      // the event log ends with the app's jobs, before executors are let go (they are not removed, as in Spark)
      this.status?.end();
      await this.endpoint?.stop().catch(() => {});
      const ui = await this.uiLoading();
      await ui?.close().catch(() => {});
      await this.uiListener?.close().catch(() => {});
      await this.backend_?.stop(outcome).catch(() => {});
      if (this.workDir) fs.rmSync(this.workDir, { recursive: true, force: true });
    } finally {
      release();
    }
  }
}
