/**
 * A node's lifecycle as the RM sees it, as a transition table.
 *
 *   status    | REGISTER      HEARTBEAT       EXPIRE      SHUTDOWN
 *   ----------+---------------------------------------------------------
 *   NEW       | RUNNING (r)   resync          -           ignored
 *   RUNNING   | RUNNING (r)   RUNNING (h)     LOST (g)    SHUTDOWN (g)
 *   LOST      | RUNNING (r)   resync          ignored     SHUTDOWN
 *   SHUTDOWN  | RUNNING (r)   resync          ignored     ignored
 *
 * (r) registration reconciles the RM's containers on the node with the node's report: a container
 * the RM thinks is running but the node does not have is lost (-100); a container the node has and
 * the RM does not know is adopted if its application and attempt live (an RM or NM restart), else
 * killed; an ended app the node still holds is handed back for cleanup. The node's used resources
 * are never reset: they follow its live containers. (h) a heartbeat applies container statuses
 * (started, completed) and takes the node's pending kills and app cleanups. (g) a node that is gone
 * stops being schedulable and every live container on it completes with -100, which fails AM
 * attempts and tells AMs about their executors. "resync" answers a node the RM does not consider
 * RUNNING: register again.
 */
import { parseContainerId } from '../../common/ids.js';
import { defineMachine, IGNORE, type Transition } from '../../common/machine.js';
import {
  type ContainerStatus,
  ExitStatus,
  type HeartbeatResponse,
  hasEnded,
  type NodeState,
  type RegisterNodeResponse,
} from '../../protocol/cluster.js';
import { amContainerEnded, stepContainerOf } from './app-lifecycle.js';
import { LIVE_CONTAINER, own, type RmBooks, type RmContainer, type RmNode } from './books.js';
import { logInfo, logWarn, type NodeRegistration, type RmEffect } from './rm-events.js';

export type NodeEvent =
  | ({ type: 'REGISTER'; now: number } & NodeRegistration)
  | { type: 'HEARTBEAT'; now: number; containers: ContainerStatus[] }
  | { type: 'EXPIRE'; now: number }
  | { type: 'SHUTDOWN'; now: number };

interface Ctx {
  b: RmBooks;
  node: RmNode;
}
type T = Transition<Ctx, RmEffect>;

function register(x: Ctx, e: Extract<NodeEvent, { type: 'REGISTER' }>): T {
  const { b, node } = x;
  Object.assign(node, {
    state: 'RUNNING',
    host: e.host,
    port: e.port,
    capacity: e.capacity,
    labels: e.labels,
    lastHeartbeat: e.now,
  });
  const sn = b.scheduler.nodes.get(node.nodeId);
  if (sn) {
    Object.assign(sn, { host: e.host, capacity: e.capacity, labels: e.labels, schedulable: true });
    b.scheduler.nodesChanged();
  } else
    b.scheduler.addNode({
      nodeId: node.nodeId,
      host: e.host,
      capacity: e.capacity,
      used: { memoryMB: 0, vcores: 0 },
      labels: e.labels,
      schedulable: true,
    });
  const effects: RmEffect[] = [];
  const reported = new Set(e.containers.map((c) => c.containerId));
  for (const c of [...b.containers.values()]) {
    // allocated but not started yet: the AM may still start it (or it expires)
    if (c.nodeId !== node.nodeId || reported.has(c.id) || c.state !== 'RUNNING') continue;
    effects.push(...lost(b, c, `container lost: node ${node.nodeId} re-registered without it`, e.now));
  }
  for (const st of e.containers) effects.push(...reportedContainer(b, node, st, e.now));
  const appsToCleanup = e.runningApps.filter((a) => {
    const app = own(b.state.apps, a);
    return !own(b.state.pending, a) && (!app || hasEnded(app.state));
  });
  const reply: RegisterNodeResponse = {
    nodeId: node.nodeId,
    clusterTimestamp: b.state.clusterTimestamp,
    appsToCleanup,
  };
  effects.push(
    logInfo('node registered', {
      node: node.nodeId,
      capacity: e.capacity,
      containers: e.containers.length,
      appsToCleanup: appsToCleanup.length || undefined,
    }),
    { kind: 'reply', value: reply },
  );
  return { state: x, effects };
}

function lost(b: RmBooks, c: RmContainer, why: string, now: number): RmEffect[] {
  return stepContainerOf(
    b,
    c,
    {
      type: 'FINISHED',
      status: {
        containerId: c.id,
        appId: c.appId,
        state: 'COMPLETE',
        exitStatus: ExitStatus.ABORTED,
        diagnostics: why,
        resource: c.resource,
      },
    },
    now,
  );
}

/** A container a node reports (at registration or in a heartbeat). */
function reportedContainer(b: RmBooks, node: RmNode, st: ContainerStatus, now: number): RmEffect[] {
  const known = b.containers.get(st.containerId);
  if (known) {
    if (known.nodeId !== node.nodeId) return [];
    if (st.state === 'COMPLETE') return stepContainerOf(b, known, { type: 'FINISHED', status: st }, now);
    if (st.state === 'RUNNING') return stepContainerOf(b, known, { type: 'LAUNCHED' }, now);
    return [];
  }
  const p = parseContainerId(st.containerId);
  const app = p && own(b.state.apps, p.app);
  if (p && b.ended.get(p.app)?.has(st.containerId)) {
    // already ended here (e.g. lost with its node, which is back now): the AM heard of it once and may have
    // replaced it, so a late completion is dropped and a container still running is stopped
    if (st.state !== 'COMPLETE' && !node.pendingKills.some((k) => k.containerId === st.containerId))
      node.pendingKills.push({
        containerId: st.containerId,
        exitStatus: ExitStatus.KILLED_BY_RESOURCEMANAGER,
        diagnostics: 'container already completed on the ResourceManager (its node was lost)',
      });
    return [];
  }
  const at = app?.attempts.find((a) => a.n === p?.attempt);
  // an AM container the RM placed on another node: this node cannot speak for it (a forged report)
  if (at && at.amContainerId === st.containerId && at.nodeId && at.nodeId !== node.nodeId) return [];
  if (st.state === 'COMPLETE') {
    // an AM that died while the RM was away fails its attempt now, instead of at the AM liveness timeout
    if (!p || !app || !at || hasEnded(app.state)) return [];
    if (at.amContainerId === st.containerId)
      return amContainerEnded(
        b,
        app.id,
        at.n,
        st.containerId,
        st.exitStatus ?? ExitStatus.ABORTED,
        st.diagnostics,
        node.nodeId,
        now,
      );
    b.runtimes.get(at.attemptId)?.completed.push(st);
    return [];
  }
  const killing = node.pendingKills.some((k) => k.containerId === st.containerId);
  const attemptLive = at && !hasEnded(at.state);
  if (!p || !app || hasEnded(app.state) || !attemptLive) {
    if (!killing)
      node.pendingKills.push({
        containerId: st.containerId,
        exitStatus: ExitStatus.KILLED_BY_RESOURCEMANAGER,
        diagnostics: `container of an unknown or ended application or attempt (${app?.state ?? 'unknown'})`,
      });
    return [];
  }
  if (killing) return [];
  // work-preserving restart: adopt it, charged from now on
  const c: RmContainer = {
    id: st.containerId,
    appId: app.id,
    attempt: p.attempt,
    nodeId: node.nodeId,
    resource: st.resource,
    state: 'RUNNING',
    isAm: at.amContainerId === st.containerId,
    allocatedAt: now,
  };
  b.containers.set(c.id, c);
  b.scheduler.charge(app.id, node.nodeId, c.resource, c.isAm);
  app.nextContainer = Math.max(app.nextContainer, p.n + 1);
  if (!app.logNodes.includes(node.nodeId)) app.logNodes.push(node.nodeId);
  return [];
}

function heartbeat(x: Ctx, e: Extract<NodeEvent, { type: 'HEARTBEAT' }>): T {
  const { b, node } = x;
  node.lastHeartbeat = e.now;
  const effects: RmEffect[] = [];
  for (const st of e.containers) effects.push(...reportedContainer(b, node, st, e.now));
  const res: HeartbeatResponse = {
    resync: false,
    containersToKill: node.pendingKills,
    appsToCleanup: [...node.pendingCleanup],
  };
  node.pendingKills = [];
  node.pendingCleanup.clear();
  effects.push({ kind: 'reply', value: res });
  return { state: x, effects };
}

const resync = (x: Ctx): T => ({
  state: x,
  effects: [{ kind: 'reply', value: { resync: true, containersToKill: [], appsToCleanup: [] } }],
});

/** The node is gone (LOST or SHUTDOWN): nothing more goes there, and its containers are lost. */
function gone(state: NodeState, why: (b: RmBooks) => string) {
  return (x: Ctx, e: { now: number }): T => {
    const { b, node } = x;
    node.state = state;
    const sn = b.scheduler.nodes.get(node.nodeId);
    if (sn) sn.schedulable = false;
    b.scheduler.nodesChanged();
    for (const rt of b.runtimes.values()) rt.lostNodes.push(node.nodeId);
    const w = why(b);
    const effects: RmEffect[] = [
      state === 'LOST'
        ? logWarn('node LOST', { node: node.nodeId, why: w })
        : logInfo('node shut down', { node: node.nodeId }),
    ];
    for (const c of [...b.containers.values()])
      if (c.nodeId === node.nodeId && LIVE_CONTAINER.has(c.state))
        effects.push(...lost(b, c, `container lost: node ${node.nodeId} ${w}`, e.now));
    return { state: x, effects };
  };
}
const expire = gone('LOST', (b) => `is LOST (no heartbeat for ${b.conf.nmLivenessMs} ms, nmLivenessMs)`);
const shutdown = gone('SHUTDOWN', () => 'was shut down');

export const nodeLifecycle = defineMachine<NodeState, Ctx, NodeEvent, RmEffect>({
  name: 'node',
  statuses: ['NEW', 'RUNNING', 'LOST', 'SHUTDOWN'],
  status: (x) => x.node.state,
  moveTo: (x, k) => {
    x.node.state = k;
    return x;
  },
  subject: (x) => x.node.nodeId,
  table: {
    NEW: { REGISTER: register, HEARTBEAT: resync, SHUTDOWN: IGNORE },
    RUNNING: { REGISTER: register, HEARTBEAT: heartbeat, EXPIRE: expire, SHUTDOWN: shutdown },
    LOST: { REGISTER: register, HEARTBEAT: resync, EXPIRE: IGNORE, SHUTDOWN: 'SHUTDOWN' },
    SHUTDOWN: { REGISTER: register, HEARTBEAT: resync, EXPIRE: IGNORE, SHUTDOWN: IGNORE },
  },
});

export function stepNode(b: RmBooks, node: RmNode, e: NodeEvent): RmEffect[] {
  return nodeLifecycle.step({ b, node }, e).effects;
}
