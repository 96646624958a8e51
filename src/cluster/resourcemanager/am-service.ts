/**
 * The RM side of the ApplicationMaster protocol: register, allocate (asks, releases, newly allocated
 * and completed containers, lost nodes, resync after an RM restart) and finish. Only live, current
 * attempts may talk; anything else is told to exit.
 */
import { CinderError } from '../../common/errors.js';
import { type AllocateResponse, type ContainerInfo, ExitStatus, type ToRm } from '../../protocol/cluster.js';
import { newAttemptRuntime, type ResourceManager, type RmContainer } from './rm.js';
import type { AppRecord, AttemptRecord } from './state-store.js';

const TERMINAL = new Set(['FINISHED', 'FAILED', 'KILLED']);

export function liveAttempt(rm: ResourceManager, attemptId: string): { app: AppRecord; at: AttemptRecord } {
  const r = rm.findAttempt(attemptId);
  if (TERMINAL.has(r.app.state) || r.at !== rm.currentAttempt(r.app) || TERMINAL.has(r.at.state))
    throw new CinderError(
      'ATTEMPT_ENDED',
      `application attempt ${attemptId} is ${r.at.state} (application ${r.app.state}); this AM must exit`,
    );
  return r;
}

export function registerAm(rm: ResourceManager, m: Extract<ToRm, { type: 'RegisterApplicationMaster' }>) {
  const { app, at } = liveAttempt(rm, m.attemptId);
  rm.attemptStep(at, 'REGISTERED');
  Object.assign(at, { host: m.host, rpcPort: m.rpcPort, trackingUrl: m.trackingUrl });
  rm.appStep(app, 'ATTEMPT_REGISTERED');
  app.diagnostics = '';
  const rt = rm.runtimes.get(at.attemptId);
  if (rt) {
    rt.lastContact = Date.now();
    rt.resync = false;
  } else rm.runtimes.set(at.attemptId, newAttemptRuntime(app.id, false));
  rm.persist();
  const running = [...rm.containers.values()].filter(
    (c) => c.appId === app.id && c.attempt === at.n && !c.isAm && c.state === 'RUNNING',
  );
  return {
    queue: app.queue,
    clusterTimestamp: rm.state.clusterTimestamp,
    maxCapability: { memoryMB: rm.conf.maxAllocationMB, vcores: rm.conf.maxAllocationVcores },
    runningContainers: running.map((c) => containerInfo(rm, c)),
  };
}

export function containerInfo(rm: ResourceManager, c: RmContainer): ContainerInfo {
  const n = rm.nodes.get(c.nodeId);
  return {
    id: c.id,
    appId: c.appId,
    nodeId: c.nodeId,
    nodeHost: n?.host ?? '',
    nodePort: n?.port ?? 0,
    resource: c.resource,
  };
}

export function allocate(rm: ResourceManager, m: Extract<ToRm, { type: 'Allocate' }>): AllocateResponse {
  const { app, at } = liveAttempt(rm, m.attemptId);
  const rt = rm.runtimes.get(at.attemptId);
  if (!rt) throw new CinderError('NOT_REGISTERED', `attempt ${at.attemptId} must register before allocate`);
  rt.lastContact = Date.now();
  if (at.state !== 'RUNNING')
    throw new CinderError('NOT_REGISTERED', `attempt ${at.attemptId} is ${at.state}; register first`);
  app.progress = m.progress;
  if (m.trackingUrl !== undefined && m.trackingUrl !== at.trackingUrl) {
    at.trackingUrl = m.trackingUrl;
    rm.persist();
  }
  for (const id of m.releases) {
    const c = rm.containers.get(id);
    if (!c || c.appId !== app.id || c.isAm) continue;
    if (rm.containerStep(c, 'RELEASED')) {
      rm.uncharge(c);
      rm.nodes.get(c.nodeId)?.pendingKills.push({
        containerId: id,
        exitStatus: ExitStatus.KILLED_BY_APPMASTER,
        diagnostics: 'container released by the application',
      });
      rt.completed.push({
        containerId: id,
        appId: app.id,
        state: 'COMPLETE',
        exitStatus: ExitStatus.KILLED_BY_APPMASTER,
        diagnostics: 'container released by the application',
        resource: c.resource,
      });
    }
  }
  // after a restart the AM re-sends every outstanding ask once it sees resync; asks sent before that are dropped
  if (!rt.resync) rm.scheduler.addAsks(app.id, m.asks);
  rm.schedule();
  for (const info of rt.allocated) {
    const c = rm.containers.get(info.id);
    if (c) rm.containerStep(c, 'ACQUIRED');
  }
  let numClusterNodes = 0;
  for (const n of rm.nodes.values()) if (n.state === 'RUNNING') numClusterNodes++;
  const res: AllocateResponse = {
    allocated: rt.allocated,
    completed: rt.completed,
    lostNodes: rt.lostNodes,
    numClusterNodes,
    resync: rt.resync,
  };
  rt.allocated = [];
  rt.completed = [];
  rt.lostNodes = [];
  rt.resync = false;
  return res;
}

export function finishAm(rm: ResourceManager, m: Extract<ToRm, { type: 'FinishApplicationMaster' }>): void {
  const { app, at } = liveAttempt(rm, m.attemptId);
  rm.attemptStep(at, 'UNREGISTERED');
  at.finishTime = Date.now();
  at.diagnostics = m.diagnostics;
  rm.appStep(app, 'ATTEMPT_UNREGISTERED');
  app.finalStatus = m.finalStatus;
  app.diagnostics = m.diagnostics;
  rm.appEnded(app);
  rm.persist();
}
