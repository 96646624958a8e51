/**
 * The RM side of the ApplicationMaster protocol: register, allocate (asks, releases, newly allocated
 * and completed containers, lost nodes, resync after an RM restart) and finish, each mapped onto an
 * RmEvent. Only live, current attempts may talk (rm-step.ts refuses the others: the AM must exit).
 */
import type { AllocateResponse, ContainerInfo, Resource, ToRm } from '../../protocol/cluster.js';
import type { ResourceManager } from './rm.js';

type Msg<T extends ToRm['type']> = Extract<ToRm, { type: T }>;

/** The AM token's attempt and user: the RM checks the attempt in each message against it (rm-step.ts). */
export interface AmSession {
  attemptId: string;
  user: string;
}

export function registerAm(rm: ResourceManager, m: Msg<'RegisterApplicationMaster'>, s: AmSession) {
  const r = rm.dispatch({
    type: 'AmRegistered',
    now: rm.clock(),
    attemptId: m.attemptId,
    authAttempt: s.attemptId,
    host: m.host,
    rpcPort: m.rpcPort,
    trackingUrl: m.trackingUrl,
  }) as { queue: string; clusterTimestamp: number; maxCapability: Resource; runningContainers: ContainerInfo[] };
  // containers that survived an RM restart: tokens so that the AM can still stop them on their nodes
  return {
    ...r,
    runningContainers: r.runningContainers.map((c) => rm.tokens.withToken(c, s.user, rm.uids.of(s.user))),
  };
}

/** Each newly allocated container goes to the AM with its container token (minted here, in the shell). */
export function allocate(rm: ResourceManager, m: Msg<'Allocate'>, s: AmSession): AllocateResponse {
  const r = rm.dispatch({
    type: 'AmAllocate',
    now: rm.clock(),
    attemptId: m.attemptId,
    authAttempt: s.attemptId,
    asks: m.asks,
    releases: m.releases,
    progress: m.progress,
    trackingUrl: m.trackingUrl,
    lastResponseId: m.lastResponseId,
  }) as AllocateResponse;
  return { ...r, allocated: r.allocated.map((c) => rm.tokens.withToken(c, s.user, rm.uids.of(s.user))) };
}

export function finishAm(rm: ResourceManager, m: Msg<'FinishApplicationMaster'>, s: AmSession): void {
  rm.dispatch({
    type: 'AmFinished',
    now: rm.clock(),
    attemptId: m.attemptId,
    authAttempt: s.attemptId,
    finalStatus: m.finalStatus,
    diagnostics: m.diagnostics,
  });
}
