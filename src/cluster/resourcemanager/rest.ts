/**
 * The RM REST API, shaped like YARN's /ws/v1/cluster/{info,metrics,nodes,apps,apps/{id},
 * apps/{id}/appattempts, apps/{id}/state}. Bound to loopback by default. Every request needs
 * `Authorization: Bearer <token>` with a user token (`cinder token` prints one for an identity);
 * otherwise 401 and nothing changes. The user is the token's: `user.name` and X-Cinder-User confer
 * nothing. Views need the view ACL, PUT state the modify ACL (403); listings hide the details of apps
 * the caller may not view. Read-only except for kill; never returns secrets.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { CinderError } from '../../common/errors.js';
import type { AppReport, AttemptReport } from '../../protocol/cluster.js';
import { fromBearer } from '../security/tokens.js';
import { fastifyTlsOptions } from '../security/web-tls.js';
import type { Principal } from './callers.js';
import { appReport, attempts, canView, clusterInfo, getReport, kill, listApps, nodeReports } from './client-service.js';
import type { ResourceManager } from './rm.js';

function yarnApp(a: AppReport) {
  return {
    id: a.id,
    user: a.user,
    name: a.name,
    queue: a.queue,
    state: a.state,
    finalStatus: a.finalStatus,
    progress: a.progress * 100,
    trackingUI: a.trackingUrl ? 'ApplicationMaster' : 'UNASSIGNED',
    trackingUrl: a.trackingUrl,
    diagnostics: a.diagnostics,
    applicationType: a.applicationType,
    applicationTags: a.tags.join(','),
    startedTime: a.startedTime,
    finishedTime: a.finishedTime,
    elapsedTime: (a.finishedTime || Date.now()) - a.startedTime,
    amHostHttpAddress: a.amHost ?? '',
    currentAttemptId: a.currentAttemptId ?? '',
    allocatedMB: a.allocatedMB,
    allocatedVCores: a.allocatedVCores,
    runningContainers: a.runningContainers,
    logAggregationStatus: a.logAggregationStatus,
  };
}

function yarnAttempt(t: AttemptReport) {
  return {
    id: t.attemptId,
    appAttemptState: t.state,
    startTime: t.startTime,
    finishedTime: t.finishTime,
    containerId: t.amContainerId ?? '',
    nodeId: t.nodeId ?? '',
    nodeHttpAddress: t.host ?? '',
    diagnosticsInfo: t.diagnostics,
  };
}

export async function startRest(
  rm: ResourceManager,
  host: string,
  port: number,
): Promise<{ app: FastifyInstance; port: number }> {
  // HTTPS unless the conf says webTls=false (web-tls.ts); routes are the same either way
  const app = Fastify({ logger: false, ...fastifyTlsOptions(rm.conf) }) as unknown as FastifyInstance;
  /** each authenticated request's user, from its bearer token */
  const users = new WeakMap<object, Principal>();
  app.addHook('onRequest', async (req, reply) => {
    const h = req.headers.authorization ?? '';
    const t = h.startsWith('Bearer ') ? fromBearer(h.slice(7).trim()) : undefined;
    const u = t && rm.tokens.userOfBearer(t);
    if (!u) {
      reply
        .code(401)
        .header('WWW-Authenticate', 'Bearer')
        .send({
          RemoteException: {
            exception: 'AuthenticationException',
            message: 'missing, bad or expired bearer token (`cinder token` prints one for your identity)',
          },
        });
      return;
    }
    users.set(req, { user: u.user, admin: u.admin || rm.conf.admins.includes(u.user) });
  });
  const userOf = (req: object): Principal => users.get(req) ?? { user: '', admin: false };
  app.setErrorHandler((e, _req, reply) => {
    const code = (e as CinderError).code;
    const status =
      code === 'UNKNOWN_APP' ? 404 : code === 'ACCESS_DENIED' ? 403 : code === 'INVALID_TRANSITION' ? 409 : 400;
    reply.code(status).send({ RemoteException: { exception: code ?? 'Error', message: (e as Error).message } });
  });
  app.get('/ws/v1/cluster/info', async () => {
    const i = clusterInfo(rm);
    return {
      clusterInfo: {
        id: i.clusterTimestamp,
        startedOn: rm.startedAt,
        state: i.state,
        resourceManagerVersion: i.version,
        haState: 'ACTIVE',
      },
    };
  });
  app.get('/ws/v1/cluster/metrics', async () => {
    const apps = Object.values(rm.state.apps);
    const count = (s: string) => apps.filter((a) => a.state === s).length;
    const nodes = nodeReports(rm);
    const live = nodes.filter((n) => n.state === 'RUNNING');
    const totalMB = live.reduce((s, n) => s + n.capacity.memoryMB, 0);
    const allocatedMB = live.reduce((s, n) => s + n.used.memoryMB, 0);
    return {
      clusterMetrics: {
        appsSubmitted: apps.length,
        appsCompleted: count('FINISHED'),
        appsPending: count('ACCEPTED') + count('SUBMITTED'),
        appsRunning: count('RUNNING'),
        appsFailed: count('FAILED'),
        appsKilled: count('KILLED'),
        totalMB,
        allocatedMB,
        availableMB: totalMB - allocatedMB,
        containersAllocated: rm.containers.size,
        activeNodes: live.length,
        lostNodes: nodes.filter((n) => n.state === 'LOST').length,
        shutdownNodes: nodes.filter((n) => n.state === 'SHUTDOWN').length,
      },
    };
  });
  app.get('/ws/v1/cluster/nodes', async () => ({
    nodes: {
      node: nodeReports(rm).map((n) => ({
        id: n.nodeId,
        nodeHostName: n.host,
        state: n.state,
        usedMemoryMB: n.used.memoryMB,
        availMemoryMB: n.capacity.memoryMB - n.used.memoryMB,
        usedVirtualCores: n.used.vcores,
        availableVirtualCores: n.capacity.vcores - n.used.vcores,
        numContainers: n.numContainers,
        lastHealthUpdate: n.lastHeartbeat,
        healthReport: n.healthReport,
        nodeLabels: n.labels,
      })),
    },
  }));
  app.get('/ws/v1/cluster/apps', async (req) => {
    const q = req.query as Record<string, string | undefined>;
    const states = q.states?.split(',').map((s) => s.toUpperCase()) as never;
    let list = listApps(rm, { states, queue: q.queue, owner: q.user }, userOf(req));
    if (q.finalStatus) list = list.filter((a) => a.finalStatus === q.finalStatus);
    if (q.limit) list = list.slice(0, Number(q.limit));
    return { apps: { app: list.map(yarnApp) } };
  });
  app.get('/ws/v1/cluster/apps/:id', async (req) => ({
    app: yarnApp(getReport(rm, (req.params as { id: string }).id, userOf(req))),
  }));
  app.get('/ws/v1/cluster/apps/:id/appattempts', async (req) => ({
    appAttempts: { appAttempt: attempts(rm, (req.params as { id: string }).id, userOf(req)).map(yarnAttempt) },
  }));
  app.get('/ws/v1/cluster/apps/:id/state', async (req) => {
    const a = rm.app((req.params as { id: string }).id);
    if (!canView(rm, a, userOf(req)))
      throw new CinderError('ACCESS_DENIED', `user ${userOf(req).user} may not view ${a.id}`);
    return { state: appReport(rm, a).state };
  });
  app.put('/ws/v1/cluster/apps/:id/state', async (req, reply) => {
    const body = req.body as { state?: string } | undefined;
    if (body?.state !== 'KILLED') throw new CinderError('BAD_REQUEST', 'only {"state":"KILLED"} is supported');
    const r = kill(rm, (req.params as { id: string }).id, userOf(req), 'killed through the REST API');
    reply.code(r.alreadyTerminal ? 200 : 202);
    return { state: r.state };
  });
  await app.listen({ host, port });
  const addr = app.server.address();
  return { app, port: typeof addr === 'object' && addr ? addr.port : port };
}
