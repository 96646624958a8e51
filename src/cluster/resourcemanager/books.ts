/**
 * The ResourceManager's books: every application (the persisted part, RmState), node, container,
 * live attempt and not-yet-submitted application, plus the scheduler's accounting. Plain data that
 * the lifecycle tables (app-lifecycle.ts, container-lifecycle.ts, node-lifecycle.ts) change and that
 * rm-step.ts routes events to. No I/O, no clock, no sockets: the shell (rm.ts) owns those.
 */
import { CinderError } from '../../common/errors.js';
import type {
  AllocateResponse,
  ContainerInfo,
  ContainerStatus,
  HeartbeatResponse,
  NodeState,
  Resource,
} from '../../protocol/cluster.js';
import { hasEnded } from '../../protocol/cluster.js';
import type { RmConfig } from '../common/config.js';
import type { RmContainerState } from './container-lifecycle.js';
import { CapacityScheduler } from './scheduler.js';
import type { AppRecord, AttemptRecord, RmState } from './state-store.js';

export type { PendingApp } from './state-store.js';

export interface RmNode {
  nodeId: string;
  host: string;
  port: number;
  state: NodeState;
  capacity: Resource;
  labels: string[];
  lastHeartbeat: number;
  /** kills and app cleanups to hand the node with its next heartbeat reply */
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
  /** when it was allocated (or recovered): unused allocations expire from here */
  allocatedAt: number;
}

/** The RM's live view of an attempt that has (or is about to have) an AM. */
export interface AttemptRuntime {
  appId: string;
  lastContact: number;
  /** containers placed since the AM's last allocate, and those that completed */
  allocated: ContainerInfo[];
  completed: ContainerStatus[];
  lostNodes: string[];
  /** the RM restarted and forgot this AM's asks: it must re-register and re-send them */
  resync: boolean;
  /** the last allocate answer, replayed when the AM says it did not get it */
  last: AllocateResponse | undefined;
}

export interface RmBooks {
  readonly conf: RmConfig;
  /** what survives a restart (rm-state.json) */
  readonly state: RmState;
  readonly nodes: Map<string, RmNode>;
  readonly containers: Map<string, RmContainer>;
  readonly runtimes: Map<string, AttemptRuntime>;
  /** per live app, the containers that already ended (lost, killed, released, expired, completed): a node
   * that reports one later is not believed, since the AM was told and may have replaced it */
  readonly ended: Map<string, Set<string>>;
  readonly scheduler: CapacityScheduler;
  /** per app, the last containers that ended, with how (for the web UI's app page; not persisted) */
  readonly history: Map<string, EndedContainer[]>;
}

/** A container that ended, as the app page shows it. */
export interface EndedContainer {
  id: string;
  nodeId: string;
  attempt: number;
  resource: Resource;
  isAm: boolean;
  state: RmContainerState;
  exitStatus: number;
  diagnostics: string;
  allocatedAt: number;
}

/** ended containers kept per app for the UI (oldest dropped first) */
export const HISTORY_PER_APP = 200;

export const LIVE_CONTAINER = new Set<RmContainerState>(['ALLOCATED', 'ACQUIRED', 'RUNNING']);

export function emptyBooks(conf: RmConfig, state: RmState): RmBooks {
  state.pending ??= {};
  return {
    conf,
    state,
    nodes: new Map(),
    containers: new Map(),
    runtimes: new Map(),
    ended: new Map(),
    scheduler: new CapacityScheduler(conf),
    history: new Map(),
  };
}

export function newRuntime(appId: string, now: number, resync: boolean): AttemptRuntime {
  return { appId, lastContact: now, allocated: [], completed: [], lostNodes: [], resync, last: undefined };
}

/** rec[key] when rec has key as its own property: ids from clients ("__proto__", "constructor") find nothing. */
export function own<T>(rec: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(rec, key) ? rec[key] : undefined;
}

export function appOf(b: RmBooks, appId: string): AppRecord {
  const a = own(b.state.apps, appId);
  if (!a)
    throw new CinderError(
      'UNKNOWN_APP',
      `application ${appId} is not known to this ResourceManager`,
      'list apps with `cinder apps`',
    );
  return a;
}

export function currentAttempt(app: AppRecord): AttemptRecord | undefined {
  return app.attempts[app.attempts.length - 1];
}

export function findAttempt(b: RmBooks, attemptId: string): { app: AppRecord; at: AttemptRecord } {
  const m = /^appattempt_(\d+)_(\d+)_(\d+)$/.exec(attemptId);
  const app = m ? own(b.state.apps, `application_${m[1]}_${m[2]}`) : undefined;
  const at = app?.attempts.find((a) => a.attemptId === attemptId);
  if (!app || !at)
    throw new CinderError('UNKNOWN_ATTEMPT', `application attempt ${attemptId} is not known to this ResourceManager`);
  return { app, at };
}

/** Content hashes of every staged file still needed (live apps and apps awaiting submission). */
export function liveStaged(b: RmBooks): Set<string> {
  const live = new Set<string>();
  for (const a of Object.values(b.state.apps)) for (const f of Object.values(a.staged)) live.add(f.sha256);
  for (const p of Object.values(b.state.pending)) for (const f of Object.values(p.staged)) live.add(f.sha256);
  return live;
}

/**
 * The books' invariants, as a list of violations (empty when they hold):
 *  - a node's used resources equal the sum of its live containers and are never negative;
 *  - every queue's usage equals the sum of its apps' live containers;
 *  - no live container sits on a node that is not RUNNING, or belongs to an ended or unknown app;
 *  - every live attempt of a running app has a runtime, and no ended attempt has one.
 */
export function invariantViolations(b: RmBooks): string[] {
  const out: string[] = [];
  const used = new Map<string, Resource>();
  for (const c of b.containers.values()) {
    if (!LIVE_CONTAINER.has(c.state)) continue;
    const u = used.get(c.nodeId) ?? { memoryMB: 0, vcores: 0 };
    used.set(c.nodeId, { memoryMB: u.memoryMB + c.resource.memoryMB, vcores: u.vcores + c.resource.vcores });
    const node = b.nodes.get(c.nodeId);
    if (node?.state !== 'RUNNING') out.push(`container ${c.id} is ${c.state} on node ${c.nodeId} (${node?.state})`);
    const app = own(b.state.apps, c.appId);
    if (!app || hasEnded(app.state))
      out.push(`container ${c.id} is ${c.state} but its app ${c.appId} is ${app?.state ?? 'unknown'}`);
  }
  for (const n of b.scheduler.nodes.values()) {
    const want = used.get(n.nodeId) ?? { memoryMB: 0, vcores: 0 };
    if (n.used.memoryMB !== want.memoryMB || n.used.vcores !== want.vcores)
      out.push(
        `node ${n.nodeId} used ${n.used.memoryMB} MB / ${n.used.vcores} vcores, its live containers ${want.memoryMB} MB / ${want.vcores} vcores`,
      );
    if (n.used.memoryMB < 0 || n.used.vcores < 0) out.push(`node ${n.nodeId} used is negative`);
  }
  for (const [q, mb] of b.scheduler.queueUsage()) {
    let want = 0;
    for (const c of b.containers.values()) {
      const app = own(b.state.apps, c.appId);
      if (LIVE_CONTAINER.has(c.state) && app && `root.${app.queue}` === q) want += c.resource.memoryMB;
    }
    if (mb !== want) out.push(`queue ${q} used ${mb} MB, its apps' live containers ${want} MB`);
  }
  for (const app of Object.values(b.state.apps)) {
    for (const at of app.attempts) {
      const ended = hasEnded(at.state);
      if (ended && b.runtimes.has(at.attemptId)) out.push(`ended attempt ${at.attemptId} still has a runtime`);
    }
    const at = currentAttempt(app);
    if (app.state === 'RUNNING' && at && at.state === 'RUNNING' && !b.runtimes.has(at.attemptId))
      out.push(`running attempt ${at.attemptId} has no runtime`);
  }
  return out;
}
