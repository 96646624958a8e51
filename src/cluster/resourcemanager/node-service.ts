/**
 * The RM side of the NodeManager protocol: registration (including containers that survived an RM
 * restart, work-preserving) and heartbeats (container statuses in, kills and app cleanups out).
 * Lifecycle decisions are delegated to rm.ts; this module only maps NM reports onto them.
 */
import { parseContainerId } from '../../common/ids.js';
import { logger } from '../../common/log.js';
import {
  type ContainerStatus,
  ExitStatus,
  type HeartbeatResponse,
  type ToNm,
  type ToRm,
} from '../../protocol/cluster.js';
import type { RpcConnection } from '../../rpc/index.js';
import { nodeMachine } from '../common/machines.js';
import type { ResourceManager, RmContainer, RmNode } from './rm.js';

const log = logger('rm-nodes');
const TERMINAL = new Set(['FINISHED', 'FAILED', 'KILLED']);

export function registerNode(
  rm: ResourceManager,
  m: Extract<ToRm, { type: 'RegisterNode' }>,
  conn: RpcConnection<ToRm, ToNm>,
): { nodeId: string; clusterTimestamp: number } {
  const nodeId = `${m.host}:${m.port}`;
  let node = rm.nodes.get(nodeId);
  if (!node) {
    node = {
      nodeId,
      host: m.host,
      port: m.port,
      state: 'NEW',
      capacity: m.capacity,
      labels: m.labels,
      lastHeartbeat: 0,
      conn,
      pendingKills: [],
      pendingCleanup: new Set(),
    };
    rm.nodes.set(nodeId, node);
  }
  node.state = nodeMachine.next(node.state, 'REGISTER', nodeId);
  Object.assign(node, {
    conn,
    capacity: m.capacity,
    labels: m.labels,
    lastHeartbeat: Date.now(),
    pendingKills: [],
    pendingCleanup: new Set(),
  });
  rm.scheduler.addNode({
    nodeId,
    host: m.host,
    capacity: m.capacity,
    used: { memoryMB: 0, vcores: 0 },
    labels: m.labels,
    schedulable: true,
  });
  const reported = new Set(m.containers.map((c) => c.containerId));
  // containers we placed here that the node no longer has are gone
  for (const c of [...rm.containers.values()]) {
    if (c.nodeId !== nodeId || reported.has(c.id)) continue;
    if (c.state === 'ALLOCATED' || c.state === 'ACQUIRED') {
      rm.scheduler.charge(c.appId, nodeId, c.resource, c.isAm);
      continue;
    }
    rm.containerCompleted(
      {
        containerId: c.id,
        appId: c.appId,
        state: 'COMPLETE',
        exitStatus: ExitStatus.ABORTED,
        diagnostics: `container lost: node ${nodeId} re-registered without it`,
        resource: c.resource,
      },
      nodeId,
    );
  }
  for (const st of m.containers) recoverContainer(rm, node, st);
  log.info({ node: nodeId, capacity: m.capacity, containers: m.containers.length }, 'node registered');
  rm.schedule();
  return { nodeId, clusterTimestamp: rm.state.clusterTimestamp };
}

/** A container an NM reports at registration: keep it if its app lives (work-preserving restart). */
export function recoverContainer(rm: ResourceManager, node: RmNode, st: ContainerStatus): void {
  if (st.state === 'COMPLETE') {
    if (!rm.containers.has(st.containerId)) recoverContainer(rm, node, { ...st, state: 'RUNNING' });
    if (rm.containers.has(st.containerId)) rm.containerCompleted(st, node.nodeId);
    return;
  }
  const known = rm.containers.get(st.containerId);
  if (known) {
    rm.scheduler.charge(known.appId, node.nodeId, known.resource, known.isAm);
    return;
  }
  const p = parseContainerId(st.containerId);
  const app = p && rm.state.apps[p.app];
  if (!p || !app || TERMINAL.has(app.state)) {
    node.pendingKills.push({
      containerId: st.containerId,
      exitStatus: ExitStatus.KILLED_BY_RESOURCEMANAGER,
      diagnostics: 'container of an unknown or finished application',
    });
    return;
  }
  const at = app.attempts.find((a) => a.n === p.attempt);
  const isAm = at?.amContainerId === st.containerId;
  const c: RmContainer = {
    id: st.containerId,
    appId: app.id,
    attempt: p.attempt,
    nodeId: node.nodeId,
    resource: st.resource,
    state: 'RUNNING',
    isAm,
  };
  rm.containers.set(c.id, c);
  rm.scheduler.charge(app.id, node.nodeId, c.resource, isAm);
  app.nextContainer = Math.max(app.nextContainer, p.n + 1);
}

export function nodeHeartbeat(rm: ResourceManager, m: Extract<ToRm, { type: 'NodeHeartbeat' }>): HeartbeatResponse {
  const node = rm.nodes.get(m.nodeId);
  if (node?.state !== 'RUNNING') return { resync: true, containersToKill: [], appsToCleanup: [] };
  node.state = nodeMachine.next(node.state, 'HEARTBEAT', node.nodeId);
  node.lastHeartbeat = Date.now();
  for (const st of m.containers) {
    const c = rm.containers.get(st.containerId);
    if (st.state === 'COMPLETE') rm.containerCompleted(st, node.nodeId);
    else if (c) rm.containerStep(c, 'LAUNCHED');
  }
  const res: HeartbeatResponse = {
    resync: false,
    containersToKill: node.pendingKills,
    appsToCleanup: [...node.pendingCleanup],
  };
  node.pendingKills = [];
  node.pendingCleanup.clear();
  rm.schedule(node.nodeId);
  return res;
}

// ---------------------------------------------------------------- liveness
/** Marks a node gone (LOST by expiry, or SHUTDOWN by its NM) and completes its containers with -100. */
function nodeGone(rm: ResourceManager, node: RmNode, why: string): void {
  const sn = rm.scheduler.nodes.get(node.nodeId);
  if (sn) sn.schedulable = false;
  rm.scheduler.nodesChanged();
  for (const rt of rm.runtimes.values()) rt.lostNodes.push(node.nodeId);
  for (const c of [...rm.containers.values()]) {
    if (c.nodeId !== node.nodeId) continue;
    rm.containerCompleted(
      {
        containerId: c.id,
        appId: c.appId,
        state: 'COMPLETE',
        exitStatus: ExitStatus.ABORTED,
        diagnostics: `container lost: node ${node.nodeId} ${why}`,
        resource: c.resource,
      },
      node.nodeId,
    );
  }
  if (sn) sn.used = { memoryMB: 0, vcores: 0 };
}

export function unregisterNode(rm: ResourceManager, m: Extract<ToRm, { type: 'UnregisterNode' }>): void {
  const node = rm.nodes.get(m.nodeId);
  if (!node) return;
  node.state = nodeMachine.next(node.state, 'SHUTDOWN', node.nodeId);
  log.info({ node: node.nodeId }, 'node shut down');
  nodeGone(rm, node, 'was shut down');
  rm.schedule();
}

export function checkLiveness(rm: ResourceManager, now: number): void {
  for (const node of rm.nodes.values()) {
    if (node.state !== 'RUNNING' || now - node.lastHeartbeat <= rm.conf.nmLivenessMs) continue;
    node.state = nodeMachine.next(node.state, 'EXPIRE', node.nodeId);
    log.warn({ node: node.nodeId }, 'node LOST: no heartbeat within nmLivenessMs');
    nodeGone(rm, node, `is LOST (no heartbeat for ${rm.conf.nmLivenessMs} ms)`);
  }
  for (const [attemptId, rt] of rm.runtimes) {
    if (now - rt.lastContact <= rm.conf.amLivenessMs) continue;
    const { app, at } = rm.findAttempt(attemptId);
    if (TERMINAL.has(at.state)) {
      rm.runtimes.delete(attemptId);
      continue;
    }
    rm.attemptStep(at, 'EXPIRE');
    at.diagnostics = `ApplicationMaster for attempt ${attemptId} timed out: no heartbeat for ${rm.conf.amLivenessMs} ms (amLivenessMs)`;
    log.warn({ attempt: attemptId }, 'AM expired');
    rm.attemptFailed(app, at, undefined);
  }
  rm.schedule();
}
