/**
 * The RM side of the NodeManager protocol: maps registration, heartbeats and graceful shutdowns onto
 * RmEvents (decided by node-lifecycle.ts through rm-step.ts) and keeps each node's connection for the
 * shell. Liveness (a node that stops heartbeating) is the shell's Tick event.
 */
import { CinderError } from '../../common/errors.js';
import type { HeartbeatResponse, RegisterNodeResponse, ToNm, ToRm } from '../../protocol/cluster.js';
import type { RpcConnection } from '../../rpc/index.js';
import type { ResourceManager } from './rm.js';

type Msg<T extends ToRm['type']> = Extract<ToRm, { type: T }>;

/**
 * What the RM knows of one NM connection: the node id it registered as. A connection registers as one node
 * only, and speaks (heartbeats, logs, shutdown) only for that node.
 */
export interface NodeSession {
  nodeId: string;
}

export function registerNode(
  rm: ResourceManager,
  m: Msg<'RegisterNode'>,
  conn: RpcConnection<ToRm, ToNm>,
  session: NodeSession,
): RegisterNodeResponse {
  const nodeId = `${m.host}:${m.port}`;
  if (session.nodeId && session.nodeId !== nodeId)
    throw new CinderError(
      'NOT_YOUR_NODE',
      `this connection registered as node ${session.nodeId}; it cannot register ${nodeId} too`,
    );
  if (m.httpAddress) rm.nodeHttp.set(nodeId, m.httpAddress);
  const r = rm.dispatch({
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
  session.nodeId = nodeId;
  rm.conns.set(nodeId, conn);
  return r;
}

export function nodeHeartbeat(rm: ResourceManager, m: Msg<'NodeHeartbeat'>, session: NodeSession): HeartbeatResponse {
  return rm.dispatch({
    type: 'NodeHeartbeat',
    now: rm.clock(),
    nodeId: m.nodeId,
    authNode: session.nodeId,
    containers: m.containers,
  }) as HeartbeatResponse;
}

export function unregisterNode(rm: ResourceManager, m: Msg<'UnregisterNode'>, session: NodeSession): void {
  rm.dispatch({ type: 'NodeUnregistered', now: rm.clock(), nodeId: m.nodeId, authNode: session.nodeId });
  rm.conns.delete(m.nodeId);
}
