/**
 * The driver's observability wiring, kept out of the context: the event recorder (scheduler callbacks
 * to Spark-shaped events), the live status store, the event log, and the UI's request handler once
 * it loads. Cheap to create; the event log opens when the application id is known.
 */
import os from 'node:os';
import path from 'node:path';
import { boolConf, type Conf, parseBytes, strConf } from '../common/conf.js';
import { logger } from '../common/log.js';
import type { DAGScheduler } from '../scheduler/dag-scheduler.js';
import type { TaskScheduler } from '../scheduler/task-scheduler.js';
import { AppStore, type Topology } from './app-store.js';
import { defaultEventLogDir, EventLogWriter } from './event-log.js';
import type { UiListener } from './listener.js';
import { EventRecorder, redact } from './recorder.js';

const log = logger('app-status');

export interface AppStatusStart {
  appId: string;
  appName: string;
  startTime: number;
  master: string;
  conf: Readonly<Conf>;
  driverHost: string;
  sparkVersion: string;
  /** client mode: where the AM's copy of the event log goes */
  mirrorEventLog?: ((data: string, final: boolean) => void) | undefined;
}

export class AppStatus {
  readonly store: AppStore;
  readonly recorder: EventRecorder;
  eventLog: EventLogWriter | undefined;

  constructor(
    dag: DAGScheduler,
    private readonly ts: TaskScheduler,
    conf: Readonly<Conf>,
  ) {
    const n = (k: string, d: number) => Number(conf[k] ?? d);
    this.store = new AppStore({
      jobs: n('cinder.ui.retainedJobs', 1000),
      stages: n('cinder.ui.retainedStages', 1000),
      tasksPerStage: n('cinder.ui.retainedTasks', 100_000),
    });
    this.recorder = new EventRecorder(dag, ts);
    this.recorder.addSink((e) => this.store.apply(e));
  }

  /** Where this app's driver, AM and client run (from the environment the launcher gave it). */
  static topology(master: string, driverHost: string): Topology {
    const container = process.env.CINDER_CONTAINER_ID;
    const host = os.hostname();
    if (master.startsWith('local')) return { master, deployMode: 'local', driver: { host, pid: process.pid } };
    if (container)
      return {
        master,
        deployMode: 'cluster',
        driver: { host: process.env.CINDER_NM_HOST ?? driverHost, pid: process.pid, containerId: container },
        am: { host: process.env.CINDER_NM_HOST ?? driverHost, containerId: container },
      };
    return { master, deployMode: 'client', client: { host }, driver: { host, pid: process.pid }, am: {} };
  }

  /** Opens the event log (cinder.eventLog.enabled, default true) and records the application's start. */
  start(a: AppStatusStart): void {
    const topology = AppStatus.topology(a.master, a.driverHost);
    if (boolConf(a.conf as Conf, 'cinder.eventLog.enabled')) {
      const dir =
        topology.deployMode === 'cluster' && process.env.CINDER_LOG_DIR
          ? process.env.CINDER_LOG_DIR
          : (strConf(a.conf as Conf, 'cinder.eventLog.dir') ?? defaultEventLogDir());
      const rolling = boolConf(a.conf as Conf, 'cinder.eventLog.rolling.enabled');
      try {
        this.eventLog = new EventLogWriter({
          dir: path.resolve(dir.replace(/^~(?=$|\/)/, os.homedir())),
          appId: a.appId,
          rollBytes: rolling
            ? parseBytes(
                strConf(a.conf as Conf, 'cinder.eventLog.rolling.maxFileSize') ?? '128m',
                'cinder.eventLog.rolling.maxFileSize',
              )
            : 0,
          flushMs: Number(a.conf['cinder.eventLog.flushInterval'] ?? 1000),
          retainParts: Number(a.conf['cinder.eventLog.rolling.maxFilesToRetain'] ?? 0),
          mirror: topology.deployMode === 'client' ? a.mirrorEventLog : undefined,
        });
        const w = this.eventLog;
        this.recorder.addSink((e) => w.write(e));
        log.info({ file: w.currentFile }, 'writing the event log');
      } catch (e) {
        log.warn({ err: (e as Error).message, dir }, 'the event log could not be opened; the app runs without one');
      }
    }
    this.recorder.applicationStart({
      appId: a.appId,
      appName: a.appName,
      startTime: a.startTime,
      sparkVersion: a.sparkVersion,
      topology,
      properties: redact({
        'cinder.master': a.master,
        'cinder.app.name': a.appName,
        ...a.conf,
      }),
      attemptId: process.env.CINDER_CONTAINER_ID ? attemptOf(process.env.CINDER_CONTAINER_ID) : undefined,
    });
  }

  executorAdded(id: string): void {
    const e = this.ts.executors.get(id);
    if (e) this.recorder.executorAdded(e);
  }

  executorRemoved(id: string, reason: string): void {
    this.recorder.executorRemoved(id, reason);
  }

  unpersistRdd(rddId: number): void {
    this.recorder.unpersistRdd(rddId);
  }

  /** Records the end, flushes and closes the event log. */
  end(): void {
    this.recorder.applicationEnd();
    this.eventLog?.close();
  }

  /** Live memory figures for the UI: the last heartbeat's. */
  liveExecutor(id: string, maxMemory: number) {
    const e = this.ts.executors.get(id);
    return e ? { rssBytes: e.rssBytes, heapUsedBytes: e.heapUsedBytes, maxMemory } : undefined;
  }

  /** A CPU profile or heap snapshot of an executor's thread (-1 = its main thread), over the executor RPC. */
  profile(executorId: string, kind: 'cpu' | 'heap', seconds: number, thread: number): Promise<Uint8Array> {
    const e = this.ts.executors.get(executorId);
    if (!e) return Promise.reject(new Error(`no live executor ${executorId}`));
    return e.conn.request<Uint8Array>({ type: 'Profile', kind, seconds, thread }, (seconds + 60) * 1000);
  }

  /** Loads fastify and the UI's routes onto the already bound listener. */
  async serve(
    listener: UiListener,
    o: {
      maxMemory: number;
      proxySecret?: string | undefined;
      profile?: (id: string, kind: 'cpu' | 'heap', s: number) => Promise<Uint8Array>;
    },
  ): Promise<{ close(): Promise<unknown> }> {
    const { serveDriverUi } = await import('./server.js');
    const app = await serveDriverUi(
      {
        store: this.store,
        liveExecutor: (id) => this.liveExecutor(id, o.maxMemory),
        proxySecret: o.proxySecret,
        rmWebUrl: process.env.CINDER_RM_WEB_URL,
        profile: (id, kind, seconds, thread) => this.profile(id, kind, seconds, thread),
      },
      listener,
    );
    return { close: () => app.close() };
  }
}

/** container_<ts>_<app>_<attempt>_<n> -> "<attempt>" as YARN's cluster-mode attempt id ("1", "2"). */
function attemptOf(containerId: string): string | undefined {
  const m = /^container_\d+_\d+_(\d+)_\d+$/.exec(containerId);
  return m ? String(Number(m[1])) : undefined;
}
