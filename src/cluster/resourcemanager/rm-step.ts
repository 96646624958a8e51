/**
 * The ResourceManager's decisions: `rmStep(books, event) -> { state, effects }`. It routes each event
 * to the lifecycle it concerns (node-lifecycle.ts, app-lifecycle.ts, attempt-lifecycle.ts,
 * container-lifecycle.ts), runs a scheduling pass where capacity or demand changed, and returns what
 * the shell (rm.ts) must do. Deterministic and free of I/O: time comes in events, randomness (app
 * secrets) comes in events, and a refusal is a thrown CinderError with the books unchanged.
 * `recoverBooks` rebuilds the books from the persisted state after a restart.
 */
import { CinderError } from '../../common/errors.js';
import { containerId, appId as makeAppId } from '../../common/ids.js';
import type { Transition } from '../../common/machine.js';
import { type AllocateResponse, type ContainerInfo, hasEnded, LaunchContext } from '../../protocol/cluster.js';
import type { RmConfig } from '../common/config.js';
import { checkPlainName } from '../common/safe-path.js';
import { newAttempt, stepApp, stepAttempt, stepContainerOf } from './app-lifecycle.js';
import {
  appOf,
  currentAttempt,
  emptyBooks,
  findAttempt,
  LIVE_CONTAINER,
  liveStaged,
  newRuntime,
  own,
  type RmBooks,
  type RmContainer,
} from './books.js';
import { stepNode } from './node-lifecycle.js';
import { logInfo, logWarn, type RmEffect, type RmEvent, type RmEventOf } from './rm-events.js';
import type { AppRecord, AttemptRecord, RmState } from './state-store.js';

type T = Transition<RmBooks, RmEffect>;

export function rmStep(b: RmBooks, e: RmEvent): T {
  const effects = route(b, e);
  return { state: b, effects };
}

/** Refusals of a caller acting for someone else: a node for another node, an AM for another attempt. */
export function checkActor(b: RmBooks, e: RmEvent): void {
  switch (e.type) {
    case 'NodeHeartbeat':
    case 'NodeUnregistered':
    case 'LogsUploaded':
      if (e.authNode !== e.nodeId)
        throw new CinderError(
          'NOT_YOUR_NODE',
          `${e.type}: this connection is ${e.authNode ? `node ${e.authNode}` : 'not a registered node'}, not ${e.nodeId}`,
          'a NodeManager reports and uploads logs only for the node it registered as',
        );
      if (e.type === 'LogsUploaded' && !appOf(b, e.appId).logNodes.includes(e.nodeId))
        throw new CinderError(
          'NOT_YOUR_CONTAINER',
          `node ${e.nodeId} ran no container of ${e.appId}; it may not upload logs for it`,
        );
      return;
    case 'AmRegistered':
    case 'AmAllocate':
    case 'AmFinished':
      if (e.authAttempt !== e.attemptId)
        throw new CinderError(
          'NOT_YOUR_ATTEMPT',
          `${e.type} for ${e.attemptId} refused: this connection holds the AM token of ${e.authAttempt || 'no attempt'}`,
          'an ApplicationMaster acts only on its own attempt',
        );
      return;
  }
}

function route(b: RmBooks, e: RmEvent): RmEffect[] {
  checkActor(b, e);
  switch (e.type) {
    case 'NodeRegistered': {
      let node = b.nodes.get(e.nodeId);
      if (!node) {
        node = {
          nodeId: e.nodeId,
          host: e.host,
          port: e.port,
          state: 'NEW',
          capacity: e.capacity,
          labels: e.labels,
          lastHeartbeat: e.now,
          pendingKills: [],
          pendingCleanup: new Set(),
        };
        b.nodes.set(e.nodeId, node);
      }
      const fx = stepNode(b, node, { ...e, type: 'REGISTER' });
      return [...fx, ...schedulePass(b, e.now)];
    }
    case 'NodeHeartbeat': {
      const node = b.nodes.get(e.nodeId);
      if (!node) return [{ kind: 'reply', value: { resync: true, containersToKill: [], appsToCleanup: [] } }];
      const fx = stepNode(b, node, { type: 'HEARTBEAT', now: e.now, containers: e.containers });
      return node.state === 'RUNNING' ? [...fx, ...schedulePass(b, e.now, node.nodeId)] : fx;
    }
    case 'NodeUnregistered': {
      const node = b.nodes.get(e.nodeId);
      if (!node) return [];
      return [...stepNode(b, node, { type: 'SHUTDOWN', now: e.now }), ...schedulePass(b, e.now)];
    }
    case 'LogsUploaded': {
      const app = appOf(b, e.appId);
      if (!app.logsUploaded.includes(e.nodeId)) app.logsUploaded.push(e.nodeId);
      app.logsAggregated = app.logNodes.every(
        (n) => app.logsUploaded.includes(n) || b.nodes.get(n)?.state !== 'RUNNING',
      );
      return [{ kind: 'persist' }];
    }
    case 'AppCreated': {
      b.state.seq++;
      const appId = makeAppId(b.state.clusterTimestamp, b.state.seq);
      b.state.pending[appId] = { user: e.user, staged: {}, createdAt: e.now };
      const maxCapability = { memoryMB: b.conf.maxAllocationMB, vcores: b.conf.maxAllocationVcores };
      return [{ kind: 'persist' }, { kind: 'reply', value: { appId, maxCapability } }];
    }
    case 'FileStaged': {
      const p = own(b.state.pending, e.appId);
      if (!p) return [];
      p.staged[e.name] = e.file;
      return [{ kind: 'persist' }];
    }
    case 'AppSubmitted':
      return submitted(b, e);
    case 'AppKillRequested':
      return killRequested(b, e);
    case 'AmLaunched': {
      const { app, at } = findAttempt(b, e.attemptId);
      return at.state === 'ALLOCATED' ? stepAttempt(b, app, at, { type: 'LAUNCHED', now: e.now }) : [];
    }
    case 'AmLaunchFailed': {
      const { app, at } = findAttempt(b, e.attemptId);
      if (at.state !== 'ALLOCATED') return [];
      return [
        logWarn('AM container launch failed', { app: app.id, err: e.error }),
        ...stepAttempt(b, app, at, {
          type: 'LAUNCH_FAILED',
          now: e.now,
          diagnostics: `AM container ${at.amContainerId} could not be launched on ${at.nodeId}: ${e.error}`,
        }),
        ...schedulePass(b, e.now),
      ];
    }
    case 'AmRegistered':
      return amRegistered(b, e);
    case 'AmAllocate':
      return allocate(b, e);
    case 'AmFinished': {
      // a repeated unregister (the AM lost the answer) is answered as the first one was
      if (findAttempt(b, e.attemptId).at.state === 'FINISHED') return [];
      const { app, at } = liveAttempt(b, e.attemptId);
      return [
        ...stepAttempt(b, app, at, {
          type: 'UNREGISTERED',
          now: e.now,
          finalStatus: e.finalStatus,
          diagnostics: e.diagnostics,
        }),
        ...schedulePass(b, e.now),
      ];
    }
    case 'Tick':
      return tick(b, e.now);
  }
}

// ---------------------------------------------------------------- scheduling
/** Places pending AMs and containers (on one node after its heartbeat, else anywhere). */
export function schedulePass(b: RmBooks, now: number, onlyNode?: string): RmEffect[] {
  const allocs = b.scheduler.schedule(onlyNode);
  if (!allocs.length) return [];
  const effects: RmEffect[] = [];
  for (const a of allocs) {
    const app = own(b.state.apps, a.appId);
    const node = b.nodes.get(a.nodeId);
    const at = app && currentAttempt(app);
    if (!app || !node || !at) {
      b.scheduler.charge(a.appId, a.nodeId, a.resource, a.isAm, -1);
      continue;
    }
    const c: RmContainer = {
      id: containerId(app.id as never, at.n, app.nextContainer++),
      appId: app.id,
      attempt: at.n,
      nodeId: node.nodeId,
      resource: a.resource, // charged by the scheduler when it placed it
      state: 'ALLOCATED',
      isAm: a.isAm,
      allocatedAt: now,
    };
    b.containers.set(c.id, c);
    if (!app.logNodes.includes(node.nodeId)) app.logNodes.push(node.nodeId);
    const info: ContainerInfo = {
      id: c.id,
      appId: app.id,
      nodeId: node.nodeId,
      nodeHost: node.host,
      nodePort: node.port,
      resource: a.resource,
    };
    if (a.isAm) effects.push(...stepAttempt(b, app, at, { type: 'CONTAINER_ALLOCATED', now, container: info }));
    else b.runtimes.get(at.attemptId)?.allocated.push(info);
  }
  effects.push({ kind: 'persist' });
  return effects;
}

// ---------------------------------------------------------------- clients
function submitted(b: RmBooks, e: RmEventOf<'AppSubmitted'>): RmEffect[] {
  const ctx = e.ctx;
  const pending = own(b.state.pending, ctx.appId);
  // a repeated submission (the client lost the answer) changes nothing, as in YARN
  if (!pending && own(b.state.apps, ctx.appId)?.user === ctx.user) return [];
  if (!pending)
    throw new CinderError(
      'UNKNOWN_APP',
      `application ${ctx.appId} was not created by GetNewApplication or is already submitted`,
    );
  if (pending.user !== ctx.user)
    throw new CinderError('ACCESS_DENIED', `application ${ctx.appId} belongs to ${pending.user}, not ${ctx.user}`);
  delete b.state.pending[ctx.appId];
  const lc = LaunchContext.parse(ctx.amLaunchContext);
  const app: AppRecord = {
    id: ctx.appId,
    name: ctx.name,
    user: ctx.user,
    queue: ctx.queue,
    applicationType: ctx.applicationType,
    tags: ctx.tags,
    acls: ctx.acls,
    amResource: ctx.amResource,
    amLaunchContext: lc,
    label: ctx.label,
    maxAttempts: Math.min(ctx.maxAttempts ?? b.conf.maxAttempts, b.conf.maxAttempts),
    state: 'NEW',
    finalStatus: 'UNDEFINED',
    diagnostics: '',
    progress: 0,
    startedTime: e.now,
    finishedTime: 0,
    attempts: [],
    nextContainer: 1,
    staged: pending.staged,
    secret: e.secret,
    logsAggregated: false,
    logNodes: [],
    logsUploaded: [],
  };
  b.state.apps[app.id] = app;
  let rejection: Error | undefined;
  try {
    for (const [link, r] of Object.entries(lc.localResources)) {
      checkPlainName(link, 'local resource link');
      if (!Object.values(app.staged).some((f) => f.sha256 === r.sha256))
        throw new CinderError(
          'BAD_RESOURCE',
          `local resource ${link} (${r.sha256.slice(0, 12)}…) was not staged for ${app.id}`,
          'upload it with UploadFile before submitting',
        );
    }
    app.queue = b.scheduler.leafQueue(ctx.queue).slice('root.'.length);
    const r = b.scheduler.normalize(ctx.amResource, 'AM container');
    b.scheduler.checkSatisfiable(r, ctx.label, 'AM container');
  } catch (err) {
    rejection = err as Error;
  }
  if (rejection) {
    const fx = stepApp(b, app, {
      type: 'REJECT',
      now: e.now,
      diagnostics: `rejected at submission: ${rejection.message}`,
    });
    // the refusal reaches the client as the request's error; the books keep the FAILED app
    return [...fx, { kind: 'reply', value: rejection }];
  }
  const effects = [
    ...stepApp(b, app, { type: 'START', now: e.now }),
    ...stepApp(b, app, { type: 'ACCEPT', now: e.now }),
    logInfo('application submitted', { app: app.id, user: app.user, queue: app.queue }),
    ...schedulePass(b, e.now),
  ];
  return effects;
}

function killRequested(b: RmBooks, e: RmEventOf<'AppKillRequested'>): RmEffect[] {
  const app = appOf(b, e.appId);
  if (hasEnded(app.state)) return [{ kind: 'reply', value: { state: app.state, alreadyTerminal: true } }];
  const fx = stepApp(b, app, {
    type: 'KILL',
    now: e.now,
    diagnostics: `Application ${app.id} killed by user ${e.user}${e.reason ? `: ${e.reason}` : ''}`,
  });
  return [...fx, ...schedulePass(b, e.now), { kind: 'reply', value: { state: app.state, alreadyTerminal: false } }];
}

// ---------------------------------------------------------------- application masters
/** The attempt behind an AM request, if it may still talk; otherwise the AM is told to exit. */
export function liveAttempt(b: RmBooks, attemptId: string): { app: AppRecord; at: AttemptRecord } {
  const r = findAttempt(b, attemptId);
  if (hasEnded(r.app.state) || r.at !== currentAttempt(r.app) || hasEnded(r.at.state))
    throw new CinderError(
      'ATTEMPT_ENDED',
      `application attempt ${attemptId} is ${r.at.state} (application ${r.app.state}); this AM must exit`,
    );
  return r;
}

function containerInfo(b: RmBooks, c: RmContainer): ContainerInfo {
  const n = b.nodes.get(c.nodeId);
  return {
    id: c.id,
    appId: c.appId,
    nodeId: c.nodeId,
    nodeHost: n?.host ?? '',
    nodePort: n?.port ?? 0,
    resource: c.resource,
  };
}

function amRegistered(b: RmBooks, e: RmEventOf<'AmRegistered'>): RmEffect[] {
  const { app, at } = liveAttempt(b, e.attemptId);
  const effects = [
    ...stepAttempt(b, app, at, {
      type: 'REGISTERED',
      now: e.now,
      host: e.host,
      rpcPort: e.rpcPort,
      trackingUrl: e.trackingUrl,
    }),
    ...stepApp(b, app, { type: 'ATTEMPT_REGISTERED', now: e.now }),
  ];
  const running = [...b.containers.values()].filter(
    (c) => c.appId === app.id && c.attempt === at.n && !c.isAm && c.state === 'RUNNING',
  );
  effects.push({
    kind: 'reply',
    value: {
      queue: app.queue,
      clusterTimestamp: b.state.clusterTimestamp,
      maxCapability: { memoryMB: b.conf.maxAllocationMB, vcores: b.conf.maxAllocationVcores },
      runningContainers: running.map((c) => containerInfo(b, c)),
    },
  });
  return effects;
}

function allocate(b: RmBooks, e: RmEventOf<'AmAllocate'>): RmEffect[] {
  const { app, at } = liveAttempt(b, e.attemptId);
  const rt = b.runtimes.get(at.attemptId);
  if (!rt || at.state !== 'RUNNING')
    throw new CinderError('NOT_REGISTERED', `attempt ${at.attemptId} is ${at.state}; register first`);
  rt.lastContact = e.now;
  // the AM did not get our last answer (a retry after a lost reply): send it again, apply nothing twice
  if (rt.last && e.lastResponseId !== undefined && e.lastResponseId === rt.last.responseId - 1)
    return [{ kind: 'reply', value: rt.last }];
  // refused whole before anything changes (a clear error to the AM; the daemon serves on)
  if (!rt.resync) b.scheduler.checkAsks(app.id, e.asks);
  app.progress = e.progress;
  const effects: RmEffect[] = [];
  if (e.trackingUrl !== undefined && e.trackingUrl !== at.trackingUrl) {
    at.trackingUrl = e.trackingUrl;
    effects.push({ kind: 'persist' });
  }
  for (const id of e.releases) {
    const c = b.containers.get(id);
    if (!c || c.appId !== app.id || c.isAm || !LIVE_CONTAINER.has(c.state)) continue;
    effects.push(...stepContainerOf(b, c, { type: 'RELEASED' }, e.now));
  }
  // after a restart the AM re-sends every outstanding ask once it sees resync; asks sent before are dropped
  if (!rt.resync) b.scheduler.addAsks(app.id, e.asks);
  effects.push(...schedulePass(b, e.now));
  for (const info of rt.allocated) {
    const c = b.containers.get(info.id);
    if (c) effects.push(...stepContainerOf(b, c, { type: 'ACQUIRED' }, e.now));
  }
  let numClusterNodes = 0;
  for (const n of b.nodes.values()) if (n.state === 'RUNNING') numClusterNodes++;
  const res: AllocateResponse = {
    allocated: rt.allocated,
    completed: rt.completed,
    lostNodes: rt.lostNodes,
    numClusterNodes,
    resync: rt.resync,
    responseId: (rt.last?.responseId ?? 0) + 1,
  };
  rt.last = res;
  rt.allocated = [];
  rt.completed = [];
  rt.lostNodes = [];
  rt.resync = false;
  effects.push({ kind: 'reply', value: res });
  return effects;
}

// ---------------------------------------------------------------- time
function tick(b: RmBooks, now: number): RmEffect[] {
  const effects: RmEffect[] = [];
  for (const node of b.nodes.values())
    if (node.state === 'RUNNING' && now - node.lastHeartbeat > b.conf.nmLivenessMs)
      effects.push(...stepNode(b, node, { type: 'EXPIRE', now }));
  for (const [attemptId, rt] of [...b.runtimes]) {
    if (now - rt.lastContact <= b.conf.amLivenessMs) continue;
    const { app, at } = findAttempt(b, attemptId);
    effects.push(
      logWarn('AM expired', { attempt: attemptId }),
      ...stepAttempt(b, app, at, {
        type: 'EXPIRE',
        now,
        diagnostics: `ApplicationMaster for attempt ${attemptId} timed out: no heartbeat for ${b.conf.amLivenessMs} ms (amLivenessMs)`,
      }),
    );
  }
  for (const c of [...b.containers.values()])
    if ((c.state === 'ALLOCATED' || c.state === 'ACQUIRED') && now - c.allocatedAt > b.conf.containerAllocationExpiryMs)
      effects.push(...stepContainerOf(b, c, { type: 'EXPIRED', now }, now));
  let forgotten = 0;
  for (const [id, p] of Object.entries(b.state.pending))
    if (now - p.createdAt > b.conf.pendingAppExpiryMs) {
      delete b.state.pending[id];
      forgotten++;
    }
  if (forgotten)
    effects.push(
      logInfo('forgot applications that were never submitted', { count: forgotten }),
      {
        kind: 'gcStaging',
        live: liveStaged(b),
      },
      { kind: 'persist' },
    );
  effects.push(...schedulePass(b, now));
  return effects;
}

// ---------------------------------------------------------------- recovery
/**
 * Books after a restart: every app that had not ended goes back to the scheduler in its queue;
 * apps never accepted are accepted now; attempts waiting for an AM container ask for one again;
 * attempts whose AM may still run get until the AM liveness timeout to come back (resync).
 * Containers and nodes come back as the NMs re-register.
 */
export function recoverBooks(conf: RmConfig, state: RmState, now: number): T {
  const b = emptyBooks(conf, state);
  const effects: RmEffect[] = [];
  let n = 0;
  for (const app of Object.values(state.apps)) {
    if (hasEnded(app.state)) continue;
    n++;
    if (app.state === 'NEW' || app.state === 'SUBMITTED') {
      app.state = 'SUBMITTED';
      effects.push(...stepApp(b, app, { type: 'ACCEPT', now }));
      continue;
    }
    b.scheduler.addApp(app.id, `root.${app.queue}`);
    const at = currentAttempt(app);
    if (!at || hasEnded(at.state)) effects.push(...newAttempt(b, app, now));
    else if (at.state === 'NEW') effects.push(...stepAttempt(b, app, at, { type: 'SCHEDULE', now }));
    else if (at.state === 'SCHEDULED') b.scheduler.requestAm(app.id, app.amResource, app.label);
    // the AM may still run: it gets until the AM liveness timeout to come back and re-register
    else b.runtimes.set(at.attemptId, newRuntime(app.id, now, true));
  }
  if (n) effects.push(logInfo('recovered running applications from the state store', { apps: n }));
  // staged files no live or pending application refers to (a crash between a decision and its gc)
  effects.push({ kind: 'persist' }, { kind: 'gcStaging', live: liveStaged(b) });
  return { state: b, effects };
}
