/**
 * The RM side of the NodeManager protocol: maps registration, heartbeats and graceful shutdowns onto
 * RmEvents (decided by node-lifecycle.ts through rm-step.ts) and keeps each node's connection for the
 * shell. Liveness (a node that stops heartbeating) is the shell's Tick event.
 */
import type { HeartbeatResponse, RegisterNodeResponse, ToNm, ToRm } from '../../protocol/cluster.js';
import type { RpcConnection } from '../../rpc/index.js';
import type { ResourceManager } from './rm.js';

type Msg<T extends ToRm['type']> = Extract<ToRm, { type: T }>;

export function registerNode(
  rm: ResourceManager,
  m: Msg<'RegisterNode'>,
  conn: RpcConnection<ToRm, ToNm>,
): RegisterNodeResponse {
  const nodeId = `${m.host}:${m.port}`;
  rm.conns.set(nodeId, conn);
  return rm.dispatch({
    type: 'NodeRegistered',
    now: rm.clock(),
    nodeId,
    host: m.host,
    port: m.port,
    capacity: m.capacity,
    labels: m.labels,
    containers: m.containers,
    runningApps: m.runningApps,
  }) as RegisterNodeResponse;
}

export function nodeHeartbeat(rm: ResourceManager, m: Msg<'NodeHeartbeat'>): HeartbeatResponse {
  return rm.dispatch({
    type: 'NodeHeartbeat',
    now: rm.clock(),
    nodeId: m.nodeId,
    containers: m.containers,
  }) as HeartbeatResponse;
}

export function unregisterNode(rm: ResourceManager, m: Msg<'UnregisterNode'>): void {
  rm.dispatch({ type: 'NodeUnregistered', now: rm.clock(), nodeId: m.nodeId });
  rm.conns.delete(m.nodeId);
}
