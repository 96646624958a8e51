/**
 * Client-facing RM requests: new application, staging uploads, submission (queue and size checks,
 * rejected with a reason), reports, kill and logs, each behind the app's view/modify ACLs
 * (owner, admins, listed users, "*"). The caller is the connection's authenticated identity
 * (a Principal from callers.ts), never a name the request carries. Listings hide the details of
 * apps the caller may not view, as YARN does. It decides nothing about scheduling or lifecycles
 * beyond calling into the ResourceManager.
 */
import fs from 'node:fs';
import path from 'node:path';
import { CinderError } from '../../common/errors.js';
import { logger } from '../../common/log.js';
import { clip } from '../../common/text-limits.js';
import { VERSION } from '../../common/version.js';
import {
  type AppReport,
  type AttemptReport,
  type ClusterInfo,
  hasEnded,
  type LogFile,
  type NodeReport,
  SubmissionContext,
  type ToRm,
} from '../../protocol/cluster.js';
import { newSecret } from '../../rpc/index.js';
import { checkPlainName } from '../common/safe-path.js';
import { currentAttempt, LIVE_CONTAINER, own } from './books.js';
import type { Principal } from './callers.js';
import type { ResourceManager } from './rm.js';
import { checkActor } from './rm-step.js';
import type { StagedFile } from './staging.js';
import type { AppRecord } from './state-store.js';

const log = logger('rm-client-service');
type Msg<T extends ToRm['type']> = Extract<ToRm, { type: T }>;

export function canView(rm: ResourceManager, app: AppRecord, who: Principal): boolean {
  return canModify(rm, app, who) || app.acls.view.includes(who.user) || app.acls.view.includes('*');
}
export function canModify(rm: ResourceManager, app: AppRecord, who: Principal): boolean {
  if (!who.user) return false;
  return (
    who.user === app.user ||
    who.admin ||
    rm.conf.admins.includes(who.user) ||
    app.acls.modify.includes(who.user) ||
    app.acls.modify.includes('*')
  );
}
function denied(who: Principal, what: string, app: AppRecord): CinderError {
  const e = new CinderError(
    'ACCESS_DENIED',
    `user ${who.user || '(none)'} may not ${what} application ${app.id} (owner ${app.user})`,
    'ask the owner or a cluster admin, or to be added to the app ACLs',
  );
  return e;
}

export function newApplication(rm: ResourceManager, who: Principal) {
  return rm.dispatch({ type: 'AppCreated', now: rm.clock(), user: who.user }) as {
    appId: string;
    maxCapability: { memoryMB: number; vcores: number };
  };
}

export function uploadFile(rm: ResourceManager, m: Msg<'UploadFile'>, who: Principal) {
  const p = own(rm.books.state.pending, m.appId);
  if (!p)
    throw new CinderError(
      'UNKNOWN_APP',
      `application ${m.appId} is not awaiting submission; files are staged between new-application and submit`,
    );
  if (p.user !== who.user)
    throw new CinderError('ACCESS_DENIED', `application ${m.appId} belongs to ${p.user}, not ${who.user}`);
  const bytes = Object.values(p.staged).reduce((s, f) => s + f.size, 0);
  let file: StagedFile;
  if (m.size === undefined) file = rm.staging.put(m.name, m.data, bytes, m.sha256);
  else {
    const chunk = { size: m.size, offset: m.offset ?? 0, data: m.data, sha256: m.sha256 };
    const r = rm.staging.receive(m.appId, m.name, chunk, bytes, rm.clock());
    if (!('file' in r)) return r;
    file = r.file;
  }
  rm.dispatch({ type: 'FileStaged', now: rm.clock(), appId: m.appId, name: m.name, file });
  return file;
}

export function submit(rm: ResourceManager, m: Msg<'SubmitApplication'>, who: Principal): AppReport {
  const { appSecret, ...ctx } = SubmissionContext.parse({ ...m.context, user: who.user });
  const p = rm.books.state.pending[ctx.appId];
  if (p && p.user !== who.user)
    throw new CinderError('ACCESS_DENIED', `application ${ctx.appId} was created by ${p.user}, not ${who.user}`);
  // the user's container uid, assigned now: with the range used up the submission is refused, not its containers
  rm.uids.of(who.user);
  rm.dispatch({ type: 'AppSubmitted', now: rm.clock(), ctx, secret: appSecret ?? newSecret() });
  return appReport(rm, rm.app(ctx.appId));
}

export function appReport(rm: ResourceManager, app: AppRecord): AppReport {
  const at = currentAttempt(app);
  let mb = 0;
  let vc = 0;
  let n = 0;
  const containers: AppReport['containers'] = [];
  const ended = hasEnded(app.state);
  // an ended app has no live containers (a books invariant): listings of many old apps skip the scan
  if (!ended)
    for (const c of rm.containers.values())
      if (c.appId === app.id && LIVE_CONTAINER.has(c.state)) {
        mb += c.resource.memoryMB;
        vc += c.resource.vcores;
        if (c.state === 'RUNNING') n++;
        containers.push({ id: c.id, nodeId: c.nodeId, state: c.state });
      }
  const wait = app.state === 'ACCEPTED' ? rm.scheduler.waitReason(app.id) : '';
  return {
    id: app.id,
    name: app.name,
    user: app.user,
    queue: app.queue,
    state: app.state,
    finalStatus: app.finalStatus,
    diagnostics: clip(app.diagnostics || wait),
    progress: app.progress,
    applicationType: app.applicationType,
    tags: app.tags,
    startedTime: app.startedTime,
    finishedTime: app.finishedTime,
    currentAttemptId: at?.attemptId,
    attempts: app.attempts.length,
    amHost: at?.host,
    amRpcPort: at?.rpcPort,
    // users see the RM's proxy address (YARN's), the AM's own URL stays in the attempt for the proxy
    trackingUrl: at?.trackingUrl ? (rm.webAddress ? `${rm.webAddress}/proxy/${app.id}/` : at.trackingUrl) : '',
    allocatedMB: mb,
    allocatedVCores: vc,
    runningContainers: n,
    containers,
    logAggregationStatus: app.logsAggregated ? 'SUCCEEDED' : ended ? 'RUNNING' : 'NOT_START',
  };
}

export function getReport(rm: ResourceManager, appId: string, who: Principal): AppReport {
  const app = rm.app(appId);
  if (!canView(rm, app, who)) throw denied(who, 'view', app);
  return appReport(rm, app);
}

/** A listing entry of an app the caller may not view: its identity and state, none of its details. */
export function redacted(r: AppReport): AppReport {
  return {
    ...r,
    diagnostics: '',
    currentAttemptId: undefined,
    amHost: undefined,
    amRpcPort: undefined,
    trackingUrl: '',
    containers: [],
    tags: [],
  };
}

export function listApps(rm: ResourceManager, m: Omit<Msg<'GetApplications'>, 'type'>, who: Principal): AppReport[] {
  return Object.values(rm.state.apps)
    .filter(
      (a) =>
        (!m.states || m.states.includes(a.state)) &&
        (!m.queue || a.queue === m.queue) &&
        (!m.owner || a.user === m.owner),
    )
    .map((a) => (canView(rm, a, who) ? appReport(rm, a) : redacted(appReport(rm, a))));
}

export function attempts(rm: ResourceManager, appId: string, who: Principal): AttemptReport[] {
  const app = rm.app(appId);
  if (!canView(rm, app, who)) throw denied(who, 'view', app);
  return app.attempts.map((a) => ({
    attemptId: a.attemptId,
    state: a.state,
    amContainerId: a.amContainerId,
    nodeId: a.nodeId,
    host: a.host,
    rpcPort: a.rpcPort,
    trackingUrl: a.trackingUrl,
    diagnostics: clip(a.diagnostics),
    startTime: a.startTime,
    finishTime: a.finishTime,
  }));
}

export function kill(
  rm: ResourceManager,
  appId: string,
  who: Principal,
  reason?: string,
): { state: string; alreadyTerminal: boolean } {
  const app = rm.app(appId);
  if (!canModify(rm, app, who)) throw denied(who, 'kill', app);
  return rm.dispatch({ type: 'AppKillRequested', now: rm.clock(), appId, user: who.user, reason }) as {
    state: string;
    alreadyTerminal: boolean;
  };
}

/** Aggregated logs from the RM store plus, while nodes still hold them, live logs from the NMs. */
export async function getLogs(
  rm: ResourceManager,
  appId: string,
  who: Principal,
  containerId?: string,
): Promise<LogFile[]> {
  const app = rm.app(appId);
  if (!canView(rm, app, who)) throw denied(who, 'read the logs of', app);
  const out = new Map<string, LogFile>();
  const dir = path.join(rm.logDir, app.id);
  if (fs.existsSync(dir)) {
    for (const nodeId of fs.readdirSync(dir))
      for (const cid of fs.readdirSync(path.join(dir, nodeId))) {
        if (containerId && cid !== containerId) continue;
        for (const file of fs.readdirSync(path.join(dir, nodeId, cid)))
          out.set(`${cid}/${file}`, {
            containerId: cid,
            nodeId,
            file,
            data: fs.readFileSync(path.join(dir, nodeId, cid, file), 'utf8'),
          });
      }
  }
  await Promise.all(
    [...rm.nodes.values()]
      .filter((n) => n.state === 'RUNNING' && rm.conns.get(n.nodeId)?.isClosed === false)
      .map(async (n) => {
        try {
          const r = await rm.conns
            .get(n.nodeId)!
            .request<{ logs: LogFile[] }>(
              { type: 'GetContainerLogs', appId, ...(containerId ? { containerId } : {}) },
              5_000,
            );
          for (const l of r.logs) if (!out.has(`${l.containerId}/${l.file}`)) out.set(`${l.containerId}/${l.file}`, l);
        } catch (e) {
          log.debug({ node: n.nodeId, err: (e as Error).message }, 'live log fetch failed');
        }
      }),
  );
  return [...out.values()].sort((a, b) => (a.containerId + a.file).localeCompare(b.containerId + b.file));
}

export function storeLogs(rm: ResourceManager, m: Msg<'UploadLogs'>, authNode: string): void {
  const app = rm.app(m.appId);
  checkPlainName(m.nodeId, 'node id');
  // refused before anything is written: a node uploads only its own logs of an app it ran containers of
  checkActor(rm.books, { type: 'LogsUploaded', now: rm.clock(), appId: app.id, nodeId: m.nodeId, authNode });
  for (const l of m.logs) {
    checkPlainName(l.containerId, 'container id');
    checkPlainName(l.file, 'log file');
    if (!l.containerId.startsWith(`container_${app.id.slice('application_'.length)}_`))
      throw new CinderError('BAD_LOGS', `container ${l.containerId} does not belong to ${app.id}`);
    const d = path.join(rm.logDir, app.id, m.nodeId, l.containerId);
    fs.mkdirSync(d, { recursive: true, mode: 0o700 });
    fs.writeFileSync(path.join(d, l.file), l.data, { mode: 0o600 });
  }
  rm.dispatch({ type: 'LogsUploaded', now: rm.clock(), appId: app.id, nodeId: m.nodeId, authNode });
}

export function nodeReports(rm: ResourceManager, states?: string[]): NodeReport[] {
  return [...rm.nodes.values()]
    .filter((n) => !states || states.includes(n.state))
    .map((n) => {
      const sn = rm.scheduler.nodes.get(n.nodeId);
      let count = 0;
      for (const c of rm.containers.values()) if (c.nodeId === n.nodeId) count++;
      return {
        nodeId: n.nodeId,
        host: n.host,
        port: n.port,
        state: n.state,
        capacity: n.capacity,
        used: sn?.used ?? { memoryMB: 0, vcores: 0 },
        labels: n.labels,
        numContainers: count,
        lastHeartbeat: n.lastHeartbeat,
        healthReport: n.state === 'LOST' ? `no heartbeat for more than ${rm.conf.nmLivenessMs} ms` : '',
      };
    });
}

export function clusterInfo(rm: ResourceManager): ClusterInfo {
  return {
    clusterTimestamp: rm.state.clusterTimestamp,
    state: 'STARTED',
    version: VERSION,
    maxAllocation: { memoryMB: rm.conf.maxAllocationMB, vcores: rm.conf.maxAllocationVcores },
    minAllocation: { memoryMB: rm.conf.minAllocationMB, vcores: rm.conf.minAllocationVcores },
  };
}

/** Admins only: a user identity signed by the RM's master key. */
export function issueIdentity(rm: ResourceManager, m: Msg<'IssueIdentity'>, who: Principal) {
  if (!who.admin)
    throw new CinderError('ACCESS_DENIED', `user ${who.user} is not an admin; only admins issue identities`);
  log.info({ by: who.user, user: m.name, admin: m.admin }, 'issued a user identity');
  return rm.tokens.identity(m.name, m.admin, m.ttlMs);
}

/** Staged bytes for an NM localizing a container of a live app. */
export function fetchResource(rm: ResourceManager, appId: string, sha256: string): { data: Buffer } {
  const app = rm.app(appId);
  if (!Object.values(app.staged).some((f) => f.sha256 === sha256))
    throw new CinderError(
      'STAGING_MISSING',
      `resource ${sha256.slice(0, 12)}… is not staged for ${appId} (app ${app.state})`,
    );
  return { data: rm.staging.get(sha256) };
}
