/**
 * The RM side of the ApplicationMaster protocol: register, allocate (asks, releases, newly allocated
 * and completed containers, lost nodes, resync after an RM restart) and finish, each mapped onto an
 * RmEvent. Only live, current attempts may talk (rm-step.ts refuses the others: the AM must exit).
 */
import type { AllocateResponse, ContainerInfo, Resource, ToRm } from '../../protocol/cluster.js';
import type { ResourceManager } from './rm.js';

type Msg<T extends ToRm['type']> = Extract<ToRm, { type: T }>;

export function registerAm(rm: ResourceManager, m: Msg<'RegisterApplicationMaster'>) {
  return rm.dispatch({
    type: 'AmRegistered',
    now: rm.clock(),
    attemptId: m.attemptId,
    host: m.host,
    rpcPort: m.rpcPort,
    trackingUrl: m.trackingUrl,
  }) as { queue: string; clusterTimestamp: number; maxCapability: Resource; runningContainers: ContainerInfo[] };
}

export function allocate(rm: ResourceManager, m: Msg<'Allocate'>): AllocateResponse {
  return rm.dispatch({
    type: 'AmAllocate',
    now: rm.clock(),
    attemptId: m.attemptId,
    asks: m.asks,
    releases: m.releases,
    progress: m.progress,
    trackingUrl: m.trackingUrl,
    lastResponseId: m.lastResponseId,
  }) as AllocateResponse;
}

export function finishAm(rm: ResourceManager, m: Msg<'FinishApplicationMaster'>): void {
  rm.dispatch({
    type: 'AmFinished',
    now: rm.clock(),
    attemptId: m.attemptId,
    finalStatus: m.finalStatus,
    diagnostics: m.diagnostics,
  });
}
