/**
 * The RM's cluster, scheduler, app, attempt and node reports in YARN's REST shapes (field names and
 * wrappers of Hadoop's ResourceManagerRest: clusterInfo, clusterMetrics, scheduler.schedulerInfo,
 * AppInfo, AppAttemptInfo, NodeInfo). The REST routes return these objects and the web pages render
 * them, so what a browser shows and what REST answers come from one place. Pure reads of the books.
 */
import { CinderError } from '../../../common/errors.js';
import { hasEnded } from '../../../protocol/cluster.js';
import { currentAttempt, LIVE_CONTAINER } from '../books.js';
import type { Principal } from '../callers.js';
import { appReport, attempts, canView, clusterInfo, getReport, nodeReports } from '../client-service.js';
import type { ResourceManager } from '../rm.js';
import type { AppRecord } from '../state-store.js';

/** The proxy form of an app's tracking URL, as YARN publishes it ('' until the AM registered one). */
export function proxyUrl(rm: ResourceManager, appId: string): string {
  return `${rm.webAddress}/proxy/${appId}/`;
}

/** `<rm web>/cluster/containerlogs/<containerId>/<user>`: YARN's amContainerLogs shape, served by the RM. */
export function containerLogsUrl(rm: ResourceManager, containerId: string, user: string): string {
  return `${rm.webAddress}/cluster/containerlogs/${containerId}/${encodeURIComponent(user)}`;
}

export function yarnClusterInfo(rm: ResourceManager) {
  const i = clusterInfo(rm);
  return {
    clusterInfo: {
      id: i.clusterTimestamp,
      startedOn: rm.startedAt,
      state: i.state,
      haState: 'ACTIVE',
      rmStateStoreName: 'FileStateStore',
      resourceManagerVersion: i.version,
      resourceManagerBuildVersion: `${i.version} (cinder)`,
      resourceManagerVersionBuiltOn: '',
      hadoopVersion: i.version,
      hadoopBuildVersion: `${i.version} (cinder)`,
      hadoopVersionBuiltOn: '',
      haZooKeeperConnectionState: 'ResourceManager HA is not enabled.',
    },
  };
}

export function yarnMetrics(rm: ResourceManager) {
  const apps = Object.values(rm.state.apps);
  const count = (...s: string[]) => apps.filter((a) => s.includes(a.state)).length;
  const nodes = nodeReports(rm);
  const live = nodes.filter((n) => n.state === 'RUNNING');
  const totalMB = live.reduce((s, n) => s + n.capacity.memoryMB, 0);
  const totalVc = live.reduce((s, n) => s + n.capacity.vcores, 0);
  const allocatedMB = live.reduce((s, n) => s + n.used.memoryMB, 0);
  const allocatedVc = live.reduce((s, n) => s + n.used.vcores, 0);
  let containers = 0;
  for (const c of rm.containers.values()) if (LIVE_CONTAINER.has(c.state)) containers++;
  const p = rm.scheduler.pendingTotals();
  const pct = (a: number, t: number) => (t > 0 ? Math.round((a * 100) / t) : 0);
  return {
    clusterMetrics: {
      appsSubmitted: apps.length,
      appsCompleted: count('FINISHED', 'FAILED', 'KILLED'),
      appsPending: count('NEW', 'NEW_SAVING', 'SUBMITTED', 'ACCEPTED'),
      appsRunning: count('RUNNING'),
      appsFailed: count('FAILED'),
      appsKilled: count('KILLED'),
      reservedMB: 0,
      availableMB: totalMB - allocatedMB,
      allocatedMB,
      pendingMB: p.mb,
      reservedVirtualCores: 0,
      availableVirtualCores: totalVc - allocatedVc,
      allocatedVirtualCores: allocatedVc,
      pendingVirtualCores: p.vcores,
      containersAllocated: containers,
      containersReserved: 0,
      containersPending: p.containers,
      totalMB,
      totalVirtualCores: totalVc,
      utilizedMBPercent: pct(allocatedMB, totalMB),
      utilizedVirtualCoresPercent: pct(allocatedVc, totalVc),
      totalNodes: nodes.length,
      activeNodes: live.length,
      lostNodes: nodes.filter((n) => n.state === 'LOST').length,
      unhealthyNodes: 0,
      decommissioningNodes: 0,
      decommissionedNodes: 0,
      rebootedNodes: 0,
      shutdownNodes: nodes.filter((n) => n.state === 'SHUTDOWN').length,
    },
  };
}

const r1 = (x: number) => Math.round(x * 1000) / 1000;

export interface YarnQueue {
  type?: string;
  queueName: string;
  queuePath: string;
  capacity: number;
  usedCapacity: number;
  maxCapacity: number;
  absoluteCapacity: number;
  absoluteMaxCapacity: number;
  absoluteUsedCapacity: number;
  numApplications: number;
  state: string;
  resourcesUsed: { memory: number; vCores: number };
  queues?: { queue: YarnQueue[] };
  numActiveApplications?: number;
  numPendingApplications?: number;
  numContainers?: number;
  maxApplications?: number;
  maxApplicationsPerUser?: number;
  userLimit?: number;
  userLimitFactor?: number;
  AMResourceLimit?: { memory: number; vCores: number };
  usedAMResource?: { memory: number; vCores: number };
}

/** `{"scheduler":{"schedulerInfo":{type:"capacityScheduler", root…, queues:{queue:[…]}}}}` */
export function yarnScheduler(rm: ResourceManager) {
  const clusterMB = rm.scheduler.clusterMB();
  const infos = rm.scheduler.queueInfos();
  // per leaf queue: apps by state, live containers and their vcores (the scheduler accounts memory only)
  const stats = new Map<string, { active: number; pending: number; all: number; containers: number; vc: number }>();
  const stat = (q: string) => {
    let s = stats.get(q);
    if (!s) stats.set(q, (s = { active: 0, pending: 0, all: 0, containers: 0, vc: 0 }));
    return s;
  };
  for (const a of Object.values(rm.state.apps)) {
    if (hasEnded(a.state)) continue;
    const s = stat(`root.${a.queue}`);
    s.all++;
    if (a.state === 'RUNNING') s.active++;
    else s.pending++;
  }
  for (const c of rm.containers.values()) {
    if (!LIVE_CONTAINER.has(c.state)) continue;
    const a = rm.state.apps[c.appId];
    if (!a) continue;
    const s = stat(`root.${a.queue}`);
    s.containers++;
    s.vc += c.resource.vcores;
  }
  const under = (p: string) => infos.filter((q) => q.path.startsWith(`${p}.`) && q.leaf);
  const build = (path: string): YarnQueue => {
    const q = infos.find((x) => x.path === path);
    const leaves = q?.leaf ? [q] : under(path);
    const usedMB = leaves.reduce((s, l) => s + l.usedMB, 0);
    const sum = leaves
      .map((l) => stat(l.path))
      .reduce(
        (t, s) => ({
          active: t.active + s.active,
          pending: t.pending + s.pending,
          all: t.all + s.all,
          containers: t.containers + s.containers,
          vc: t.vc + s.vc,
        }),
        { active: 0, pending: 0, all: 0, containers: 0, vc: 0 },
      );
    const absCap = q?.absCap ?? 1;
    const guaranteedMB = absCap * clusterMB;
    const children = infos.filter(
      (x) => x.path.startsWith(`${path}.`) && x.path.split('.').length === path.split('.').length + 1,
    );
    const out: YarnQueue = {
      queueName: path.split('.').pop() as string,
      queuePath: path,
      capacity: q ? q.conf.capacity : 100,
      usedCapacity: guaranteedMB > 0 ? r1((usedMB * 100) / guaranteedMB) : 0,
      maxCapacity: q ? q.conf.maxCapacity : 100,
      absoluteCapacity: r1(absCap * 100),
      absoluteMaxCapacity: r1((q?.absMax ?? 1) * 100),
      absoluteUsedCapacity: clusterMB > 0 ? r1(Math.min(100, (usedMB * 100) / clusterMB)) : 0,
      numApplications: sum.all,
      state: q?.conf.state ?? 'RUNNING',
      resourcesUsed: { memory: usedMB, vCores: sum.vc },
    };
    if (q?.leaf) {
      const amLimit = Math.floor(((q.absMax * clusterMB * q.conf.maxAmPercent) / 100) | 0);
      Object.assign(out, {
        type: 'capacitySchedulerLeafQueueInfo',
        numActiveApplications: sum.active,
        numPendingApplications: sum.pending,
        numContainers: sum.containers,
        maxApplications: 10000,
        maxApplicationsPerUser: 10000,
        userLimit: 100,
        userLimitFactor: 1,
        AMResourceLimit: { memory: amLimit, vCores: 0 },
        usedAMResource: { memory: q.amUsedMB, vCores: 0 },
      });
    } else out.queues = { queue: children.map((c) => build(c.path)) };
    return out;
  };
  const root = build('root');
  return {
    scheduler: {
      schedulerInfo: {
        type: 'capacityScheduler',
        capacity: 100,
        usedCapacity: root.usedCapacity,
        maxCapacity: 100,
        queueName: 'root',
        queuePath: 'root',
        queues: root.queues ?? { queue: [] },
      },
    },
  };
}

/** YARN's AppInfo of one app (ACL-gated fields only when `visible`). */
export function yarnApp(rm: ResourceManager, app: AppRecord, visible: boolean) {
  const a = appReport(rm, app);
  const at = currentAttempt(app);
  const hasUrl = Boolean(at?.trackingUrl) && !['NEW', 'NEW_SAVING', 'SUBMITTED', 'ACCEPTED'].includes(a.state);
  const ended = hasEnded(a.state);
  return {
    id: a.id,
    user: a.user,
    name: a.name,
    queue: a.queue,
    state: a.state,
    finalStatus: a.finalStatus,
    progress: a.progress * 100,
    trackingUI: hasUrl ? (ended ? 'History' : 'ApplicationMaster') : 'UNASSIGNED',
    trackingUrl: visible && hasUrl ? proxyUrl(rm, a.id) : '',
    diagnostics: visible ? a.diagnostics : '',
    clusterId: rm.state.clusterTimestamp,
    applicationType: a.applicationType,
    applicationTags: visible ? a.tags.join(',') : '',
    priority: 0,
    applicationPriority: 0,
    startedTime: a.startedTime,
    launchTime: at?.startTime ?? 0,
    finishedTime: a.finishedTime,
    elapsedTime: (a.finishedTime || Date.now()) - a.startedTime,
    amContainerLogs: visible && at?.amContainerId ? containerLogsUrl(rm, at.amContainerId, a.user) : '',
    amHostHttpAddress: visible ? (at?.host ?? '') : '',
    amRPCAddress: visible && at?.host ? `${at.host}:${at.rpcPort ?? 0}` : '',
    masterNodeId: visible ? (at?.nodeId ?? '') : '',
    currentAttemptId: visible ? (at?.attemptId ?? '') : '',
    allocatedMB: a.allocatedMB,
    allocatedVCores: a.allocatedVCores,
    reservedMB: 0,
    reservedVCores: 0,
    runningContainers: a.runningContainers,
    memorySeconds: 0,
    vcoreSeconds: 0,
    queueUsagePercentage: 0,
    clusterUsagePercentage: rm.scheduler.clusterMB() > 0 ? r1((a.allocatedMB * 100) / rm.scheduler.clusterMB()) : 0,
    preemptedResourceMB: 0,
    preemptedResourceVCores: 0,
    numNonAMContainerPreempted: 0,
    numAMContainerPreempted: 0,
    logAggregationStatus: a.logAggregationStatus,
    unmanagedApplication: false,
    appNodeLabelExpression: '',
    amNodeLabelExpression: app.label ?? '',
  };
}
export type YarnApp = ReturnType<typeof yarnApp>;

export interface AppFilter {
  states?: string[];
  user?: string;
  queue?: string;
  finalStatus?: string;
  limit?: number;
  /** YARN's applicationTypes (any of, case-insensitive) and applicationTags (any of) */
  types?: string[];
  tags?: string[];
  /** epoch-ms ranges (inclusive), YARN's startedTimeBegin/End and finishedTimeBegin/End */
  startedBegin?: number;
  startedEnd?: number;
  finishedBegin?: number;
  finishedEnd?: number;
}

/** Apps matching a filter, newest first, with details only of those the caller may view. */
export function yarnApps(rm: ResourceManager, f: AppFilter, who: Principal): YarnApp[] {
  let list = Object.values(rm.state.apps)
    .filter(
      (a) =>
        (!f.states || f.states.includes(a.state)) &&
        (!f.queue || a.queue === f.queue) &&
        (!f.user || a.user === f.user),
    )
    .filter((a) => !f.finalStatus || a.finalStatus === f.finalStatus.toUpperCase())
    .filter((a) => !f.types?.length || f.types.includes(a.applicationType.toUpperCase()))
    .filter((a) => !f.tags?.length || a.tags.some((t) => f.tags?.includes(t)))
    .filter((a) => a.startedTime >= (f.startedBegin ?? 0) && a.startedTime <= (f.startedEnd ?? Number.MAX_SAFE_INTEGER))
    .filter(
      (a) =>
        (f.finishedBegin === undefined && f.finishedEnd === undefined) ||
        (a.finishedTime > 0 &&
          a.finishedTime >= (f.finishedBegin ?? 0) &&
          a.finishedTime <= (f.finishedEnd ?? Number.MAX_SAFE_INTEGER)),
    )
    .sort((a, b) => b.startedTime - a.startedTime || b.id.localeCompare(a.id));
  if (f.limit !== undefined && f.limit >= 0) list = list.slice(0, f.limit);
  return list.map((a) => yarnApp(rm, a, canView(rm, a, who)));
}

/** One app the caller may view (throws ACCESS_DENIED / UNKNOWN_APP otherwise). */
export function yarnAppOf(rm: ResourceManager, appId: string, who: Principal): YarnApp {
  getReport(rm, appId, who);
  return yarnApp(rm, rm.app(appId), true);
}

export function yarnAttempts(rm: ResourceManager, appId: string, who: Principal) {
  const app = rm.app(appId);
  return attempts(rm, appId, who).map((t, i) => ({
    id: i + 1,
    startTime: t.startTime,
    finishedTime: t.finishTime,
    containerId: t.amContainerId ?? '',
    nodeHttpAddress: t.host ?? '',
    nodeId: t.nodeId ?? '',
    logsLink: t.amContainerId ? containerLogsUrl(rm, t.amContainerId, app.user) : '',
    blacklistedNodes: '',
    nodesBlacklistedBySystem: '',
    appAttemptId: t.attemptId,
    appAttemptState: t.state,
    diagnosticsInfo: t.diagnostics,
  }));
}

export function yarnNodes(rm: ResourceManager, states?: string[]) {
  return nodeReports(rm, states).map((n) => ({
    rack: '/default-rack',
    state: n.state,
    id: n.nodeId,
    nodeHostName: n.host,
    nodeHTTPAddress: n.state === 'RUNNING' ? (rm.nodeHttp.get(n.nodeId) ?? '') : '',
    healthStatus: n.state === 'RUNNING' ? 'Healthy' : 'Unhealthy',
    lastHealthUpdate: n.lastHeartbeat,
    version: clusterInfo(rm).version,
    healthReport: n.healthReport,
    numContainers: n.numContainers,
    usedMemoryMB: n.used.memoryMB,
    availMemoryMB: n.capacity.memoryMB - n.used.memoryMB,
    usedVirtualCores: n.used.vcores,
    availableVirtualCores: n.capacity.vcores - n.used.vcores,
    numRunningOpportContainers: 0,
    usedMemoryOpportGB: 0,
    usedVirtualCoresOpport: 0,
    numQueuedContainers: 0,
    nodeLabels: n.labels,
    usedResource: { memory: n.used.memoryMB, vCores: n.used.vcores },
    availableResource: {
      memory: n.capacity.memoryMB - n.used.memoryMB,
      vCores: n.capacity.vcores - n.used.vcores,
    },
    totalResource: { memory: n.capacity.memoryMB, vCores: n.capacity.vcores },
  }));
}
export type YarnNode = ReturnType<typeof yarnNodes>[number];

/** Every container of an app the UI lists: live ones from the books, ended ones from the history. */
export interface ContainerRow {
  id: string;
  nodeId: string;
  attempt: number;
  isAm: boolean;
  memoryMB: number;
  vcores: number;
  state: string;
  exitStatus: number | undefined;
  diagnostics: string;
  allocatedAt: number;
}

/** What a live container of the books and an ended one of the history have in common. */
interface ContainerLike {
  id: string;
  nodeId: string;
  attempt: number;
  isAm: boolean;
  resource: { memoryMB: number; vcores: number };
  state: string;
  allocatedAt: number;
}

function containerRow(c: ContainerLike, exitStatus: number | undefined, diagnostics: string): ContainerRow {
  const { id, nodeId, attempt, isAm, state, allocatedAt } = c;
  const { memoryMB, vcores } = c.resource;
  return { id, nodeId, attempt, isAm, memoryMB, vcores, state, exitStatus, diagnostics, allocatedAt };
}

export function appContainers(rm: ResourceManager, appId: string): ContainerRow[] {
  const out: ContainerRow[] = [];
  for (const c of rm.containers.values()) if (c.appId === appId) out.push(containerRow(c, undefined, ''));
  for (const c of rm.books.history.get(appId) ?? []) out.push(containerRow(c, c.exitStatus, c.diagnostics));
  return out.sort((a, b) => a.id.localeCompare(b.id, undefined, { numeric: true }));
}

/** Live containers on a node (with their apps), for the nodes page. */
export function nodeContainers(rm: ResourceManager, nodeId: string) {
  return [...rm.containers.values()]
    .filter((c) => c.nodeId === nodeId && LIVE_CONTAINER.has(c.state))
    .map((c) => ({ id: c.id, appId: c.appId, isAm: c.isAm, resource: c.resource, state: c.state }));
}

/**
 * YARN's ContainerInfo of an attempt's containers (`{"containers":{"container":[…]}}`), view ACL first.
 * containerState is YARN's NEW (allocated, not started) / RUNNING / COMPLETE; the RM does not keep when an
 * ended container stopped, so finishedTime is 0 and elapsedTime counts only live containers.
 */
export function yarnAttemptContainers(rm: ResourceManager, appId: string, attemptId: string, who: Principal) {
  const attempt = yarnAttempts(rm, appId, who).find((a) => a.appAttemptId === attemptId);
  if (!attempt) throw new CinderError('NOT_FOUND', `application ${appId} has no attempt ${attemptId}`);
  const user = rm.app(appId).user;
  const now = Date.now();
  return appContainers(rm, appId)
    .filter((c) => c.attempt === attempt.id)
    .map((c) => {
      const live = c.exitStatus === undefined;
      return {
        containerId: c.id,
        allocatedMB: c.memoryMB,
        allocatedVCores: c.vcores,
        assignedNodeId: c.nodeId,
        priority: c.isAm ? 0 : 1,
        startedTime: c.allocatedAt,
        finishedTime: 0,
        elapsedTime: live ? now - c.allocatedAt : 0,
        diagnosticsInfo: c.diagnostics,
        logUrl: containerLogsUrl(rm, c.id, user),
        containerExitStatus: c.exitStatus ?? 0,
        containerState: live ? (c.state === 'RUNNING' ? 'RUNNING' : 'NEW') : 'COMPLETE',
        nodeHttpAddress: rm.nodeHttp.get(c.nodeId) ?? '',
        nodeId: c.nodeId,
      };
    });
}
