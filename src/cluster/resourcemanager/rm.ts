/**
 * The ResourceManager core: app/attempt/container lifecycles (stepping the tables in
 * common/machines.ts), scheduling passes, AM launch, persistence and recovery. The NM protocol and
 * liveness live in node-service.ts, the AM protocol in am-service.ts, client requests in
 * client-service.ts, the RPC and REST servers in server.ts and rest.ts. It must not touch sockets
 * directly except through node.conn.
 */
import fs from 'node:fs';
import path from 'node:path';
import { CinderError } from '../../common/errors.js';
import { appAttemptId, containerId } from '../../common/ids.js';
import { logger } from '../../common/log.js';
import {
  type ContainerInfo,
  type ContainerStatus,
  ExitStatus,
  type HeartbeatResponse,
  type NodeState,
  type Resource,
  type ToNm,
  type ToRm,
} from '../../protocol/cluster.js';
import type { RpcConnection } from '../../rpc/index.js';
import type { RmConfig } from '../common/config.js';
import {
  type AppEvent,
  type AttemptEvent,
  appMachine,
  attemptMachine,
  type RmContainerEvent,
  type RmContainerState,
  rmContainerMachine,
} from '../common/machines.js';
import { checkLiveness } from './node-service.js';
import { CapacityScheduler } from './scheduler.js';
import { StagingStore } from './staging.js';
import { type AppRecord, type AttemptRecord, type RmState, StateStore } from './state-store.js';

const log = logger('rm');

export interface RmNode {
  nodeId: string;
  host: string;
  port: number;
  state: NodeState;
  capacity: Resource;
  labels: string[];
  lastHeartbeat: number;
  conn: RpcConnection<ToRm, ToNm> | undefined;
  pendingKills: HeartbeatResponse['containersToKill'];
  pendingCleanup: Set<string>;
}

export interface RmContainer {
  id: string;
  appId: string;
  attempt: number;
  nodeId: string;
  resource: Resource;
  state: RmContainerState;
  isAm: boolean;
}

interface AttemptRuntime {
  appId: string;
  lastContact: number;
  allocated: ContainerInfo[];
  completed: ContainerStatus[];
  lostNodes: string[];
  resync: boolean;
}

/** The RM's live view of an attempt that has (or is about to have) an AM: nothing pending yet. */
export function newAttemptRuntime(appId: string, resync: boolean): AttemptRuntime {
  return { appId, lastContact: Date.now(), allocated: [], completed: [], lostNodes: [], resync };
}

const TERMINAL = new Set(['FINISHED', 'FAILED', 'KILLED']);
/** AM exits that do not use up an attempt (lost node, disks, preemption, killed by RM) */
const NOT_COUNTED = new Set<number>([ExitStatus.ABORTED, -101, -102, ExitStatus.KILLED_BY_RESOURCEMANAGER]);

export class ResourceManager {
  readonly state: RmState;
  readonly nodes = new Map<string, RmNode>();
  readonly containers = new Map<string, RmContainer>();
  readonly runtimes = new Map<string, AttemptRuntime>();
  readonly scheduler: CapacityScheduler;
  readonly staging: StagingStore;
  readonly logDir: string;
  private readonly store: StateStore;
  private timer: NodeJS.Timeout | undefined;
  readonly startedAt = Date.now();

  constructor(readonly conf: RmConfig) {
    this.store = new StateStore(conf.dir);
    this.scheduler = new CapacityScheduler(conf);
    this.staging = new StagingStore(path.join(conf.dir, 'staging'), conf.stagingMaxFileBytes, conf.stagingMaxAppBytes);
    this.logDir = path.join(conf.dir, 'app-logs');
    fs.mkdirSync(this.logDir, { recursive: true, mode: 0o700 });
    this.state = this.store.load() ?? { clusterTimestamp: Date.now(), seq: 0, apps: {} };
    this.recover();
    this.persist();
  }

  start(): void {
    this.timer = setInterval(() => checkLiveness(this, Date.now()), this.conf.livenessCheckMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  persist(): void {
    this.store.save(this.state);
  }

  // ---------------------------------------------------------------- recovery
  private recover(): void {
    let n = 0;
    for (const app of Object.values(this.state.apps)) {
      if (TERMINAL.has(app.state)) continue;
      n++;
      this.scheduler.addApp(app.id, app.queue);
      if (app.state === 'SUBMITTED' || app.state === 'NEW') {
        app.state = 'SUBMITTED';
        this.appStep(app, 'ACCEPT');
        this.newAttempt(app);
        continue;
      }
      const at = this.currentAttempt(app);
      if (!at || at.state === 'NEW' || at.state === 'SCHEDULED') {
        if (at) at.state = 'SCHEDULED';
        this.scheduler.requestAm(app.id, app.amResource, app.label);
        if (!at) this.newAttempt(app);
      } else if (!TERMINAL.has(at.state)) {
        // the AM keeps running: it gets until the AM liveness timeout to talk to us again
        this.runtimes.set(at.attemptId, newAttemptRuntime(app.id, true));
      }
    }
    if (n) log.info({ apps: n }, 'recovered running applications from the state store');
  }

  // ---------------------------------------------------------------- helpers
  app(appId: string): AppRecord {
    const a = this.state.apps[appId];
    if (!a)
      throw new CinderError(
        'UNKNOWN_APP',
        `application ${appId} is not known to this ResourceManager`,
        'list apps with `cinder apps`',
      );
    return a;
  }

  currentAttempt(app: AppRecord): AttemptRecord | undefined {
    return app.attempts[app.attempts.length - 1];
  }

  findAttempt(attemptId: string): { app: AppRecord; at: AttemptRecord } {
    const m = /^appattempt_(\d+)_(\d+)_(\d+)$/.exec(attemptId);
    const app = m ? this.state.apps[`application_${m[1]}_${m[2]}`] : undefined;
    const at = app?.attempts.find((a) => a.attemptId === attemptId);
    if (!app || !at)
      throw new CinderError('UNKNOWN_ATTEMPT', `application attempt ${attemptId} is not known to this ResourceManager`);
    return { app, at };
  }

  appStep(app: AppRecord, e: AppEvent): void {
    app.state = appMachine.next(app.state, e, app.id);
  }

  attemptStep(at: AttemptRecord, e: AttemptEvent): void {
    at.state = attemptMachine.next(at.state, e, at.attemptId);
  }

  containerStep(c: RmContainer, e: RmContainerEvent): boolean {
    const before = c.state;
    c.state = rmContainerMachine.next(c.state, e, c.id);
    return before !== c.state;
  }

  // ---------------------------------------------------------------- attempts
  newAttempt(app: AppRecord): void {
    const n = app.attempts.length + 1;
    const at: AttemptRecord = {
      attemptId: appAttemptId(app.id as never, n),
      n,
      state: 'NEW',
      amContainerId: undefined,
      nodeId: undefined,
      host: undefined,
      rpcPort: undefined,
      trackingUrl: '',
      diagnostics: '',
      startTime: Date.now(),
      finishTime: 0,
    };
    app.attempts.push(at);
    this.attemptStep(at, 'SCHEDULE');
    this.scheduler.requestAm(app.id, app.amResource, app.label);
  }

  /** An attempt ended without unregistering: retry or fail the app. */
  attemptFailed(app: AppRecord, at: AttemptRecord, exitStatus: number | undefined): void {
    at.finishTime = Date.now();
    this.runtimes.delete(at.attemptId);
    this.killAttemptContainers(app, at.n, ExitStatus.KILLED_BY_RESOURCEMANAGER, `attempt ${at.attemptId} failed`);
    this.scheduler.clearAsks(app.id);
    at.notCounted = exitStatus !== undefined && NOT_COUNTED.has(exitStatus);
    const used = app.attempts.filter((a) => a.state === 'FAILED' && !a.notCounted).length;
    if (used < app.maxAttempts) {
      this.appStep(app, 'ATTEMPT_FAILED_RETRY');
      app.diagnostics = `attempt ${at.n} failed: ${at.diagnostics}; starting attempt ${at.n + 1}`;
      this.newAttempt(app);
    } else {
      this.appStep(app, 'ATTEMPT_FAILED_FINAL');
      app.finalStatus = 'FAILED';
      app.diagnostics = `Application ${app.id} failed ${used} times (max attempts ${app.maxAttempts}); last attempt: ${at.diagnostics}`;
      this.appEnded(app);
    }
    this.persist();
    this.schedule();
  }

  /** Kills every live container of an app (attempt n only, when given). */
  killAttemptContainers(app: AppRecord, attempt: number | undefined, exitStatus: number, why: string): void {
    for (const c of this.containers.values()) {
      if (c.appId !== app.id || (attempt !== undefined && c.attempt !== attempt)) continue;
      if (!['ALLOCATED', 'ACQUIRED', 'RUNNING'].includes(c.state)) continue;
      this.containerStep(c, 'KILLED');
      this.uncharge(c);
      this.nodes.get(c.nodeId)?.pendingKills.push({ containerId: c.id, exitStatus, diagnostics: why });
    }
  }

  uncharge(c: RmContainer): void {
    this.scheduler.charge(c.appId, c.nodeId, c.resource, c.isAm, -1);
  }

  /** Terminal app: stop containers, tell nodes to clean up, drop staged files. */
  appEnded(app: AppRecord): void {
    app.finishedTime = Date.now();
    app.progress = 1;
    this.killAttemptContainers(
      app,
      undefined,
      ExitStatus.KILLED_AFTER_APP_COMPLETION,
      `application ${app.id} ended (${app.state})`,
    );
    for (const at of app.attempts) this.runtimes.delete(at.attemptId);
    this.scheduler.removeApp(app.id);
    for (const n of this.nodes.values()) n.pendingCleanup.add(app.id);
    app.staged = {};
    this.gcStaging();
    log.info({ app: app.id, state: app.state, finalStatus: app.finalStatus }, 'application ended');
  }

  gcStaging(): void {
    const live = new Set<string>();
    for (const a of Object.values(this.state.apps)) for (const f of Object.values(a.staged)) live.add(f.sha256);
    for (const p of this.pendingApps.values()) for (const f of Object.values(p.staged)) live.add(f.sha256);
    this.staging.gc(live);
  }

  /** apps reserved by GetNewApplication but not submitted yet */
  readonly pendingApps = new Map<string, { user: string; staged: Record<string, { sha256: string; size: number }> }>();

  /** Logs are aggregated once every node that ran the app's containers uploaded (or is gone). */
  updateLogAggregation(app: AppRecord): void {
    app.logsAggregated = app.logNodes.every(
      (n) => app.logsUploaded.includes(n) || this.nodes.get(n)?.state !== 'RUNNING',
    );
  }

  // ---------------------------------------------------------------- scheduling
  /** Places pending containers (on one node for a node heartbeat, else anywhere) and tells the AMs. */
  schedule(onlyNode?: string): void {
    const allocs = this.scheduler.schedule(onlyNode);
    if (!allocs.length) return;
    for (const a of allocs) {
      const app = this.state.apps[a.appId];
      const node = this.nodes.get(a.nodeId);
      if (!app || !node) continue;
      const at = this.currentAttempt(app)!;
      const id = containerId(app.id as never, at.n, app.nextContainer++);
      const c: RmContainer = {
        id,
        appId: app.id,
        attempt: at.n,
        nodeId: node.nodeId,
        resource: a.resource,
        state: 'ALLOCATED',
        isAm: a.isAm,
      };
      this.containers.set(id, c);
      if (!app.logNodes.includes(node.nodeId)) app.logNodes.push(node.nodeId);
      const info: ContainerInfo = {
        id,
        appId: app.id,
        nodeId: node.nodeId,
        nodeHost: node.host,
        nodePort: node.port,
        resource: a.resource,
      };
      if (a.isAm) this.launchAm(app, at, node, info);
      else this.runtimes.get(at.attemptId)?.allocated.push(info);
    }
    this.persist();
  }

  launchAm(app: AppRecord, at: AttemptRecord, node: RmNode, info: ContainerInfo): void {
    this.attemptStep(at, 'CONTAINER_ALLOCATED');
    at.amContainerId = info.id;
    at.nodeId = node.nodeId;
    at.host = node.host;
    this.runtimes.set(at.attemptId, newAttemptRuntime(app.id, false));
    const lc = app.amLaunchContext;
    const env = { ...lc.env, CINDER_APP_SECRET: app.secret, CINDER_ATTEMPT_ID: at.attemptId, CINDER_USER: app.user };
    const msg: ToNm = { type: 'StartContainer', container: info, user: app.user, launchContext: { ...lc, env } };
    node.conn
      ?.request(msg, 30_000)
      .then(() => {
        if (at.state === 'ALLOCATED') {
          this.attemptStep(at, 'LAUNCHED');
          this.persist();
        }
      })
      .catch((e: Error) => {
        log.warn({ app: app.id, err: e.message }, 'AM container launch failed');
        if (at.state !== 'ALLOCATED') return;
        this.attemptStep(at, 'LAUNCH_FAILED');
        at.diagnostics = `AM container ${info.id} could not be launched on ${node.nodeId}: ${e.message}`;
        this.attemptFailed(app, at, undefined);
      });
  }

  // ---------------------------------------------------------------- containers
  /** A container completed (reported by its NM, or lost with its node). */
  containerCompleted(st: ContainerStatus, nodeId: string): void {
    const c = this.containers.get(st.containerId);
    if (!c) return;
    const live = ['ALLOCATED', 'ACQUIRED', 'RUNNING'].includes(c.state);
    this.containerStep(c, 'FINISHED');
    if (live) this.uncharge(c);
    this.containers.delete(c.id);
    const app = this.state.apps[c.appId];
    if (!app) return;
    const at = app.attempts.find((a) => a.n === c.attempt);
    if (!at) return;
    if (c.isAm && at.amContainerId === c.id) {
      if (at.state === 'FINISHED' || TERMINAL.has(at.state)) return;
      this.attemptStep(at, 'CONTAINER_FINISHED');
      at.diagnostics = `AM container ${c.id} on ${nodeId} exited with status ${st.exitStatus}${st.diagnostics ? `: ${st.diagnostics}` : ''}`;
      if (!TERMINAL.has(app.state)) this.attemptFailed(app, at, st.exitStatus);
      else this.persist();
      return;
    }
    this.runtimes.get(at.attemptId)?.completed.push({ ...st, resource: c.resource });
  }
}
