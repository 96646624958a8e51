/**
 * The RM REST API, shaped like YARN's /ws/v1/cluster/{info,metrics,nodes,apps,apps/{id},
 * apps/{id}/appattempts, apps/{id}/state}. Bound to loopback by default. Every request needs
 * `Authorization: Bearer <token>` where the token is derived from the cluster secret (restToken);
 * otherwise 401 and nothing changes. The caller names itself with `user.name` (query) or X-Cinder-User;
 * PUT state needs the modify ACL (403). Read-only except for kill; never returns secrets.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { CinderError } from '../../common/errors.js';
import type { AppReport, AttemptReport } from '../../protocol/cluster.js';
import { appReport, attempts, canView, clusterInfo, getReport, kill, listApps, nodeReports } from './client-service.js';
import type { ResourceManager } from './rm.js';

/** The bearer token for the REST API: HMAC(secret, "cinder-rest-v1"), so the secret itself never goes over HTTP. */
export function restToken(secret: string): string {
  return createHmac('sha256', secret).update('cinder-rest-v1').digest('hex');
}

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
  secret: string,
  host: string,
  port: number,
): Promise<{ app: FastifyInstance; port: number }> {
  const token = Buffer.from(restToken(secret));
  const app = Fastify({ logger: false });
  app.addHook('onRequest', async (req, reply) => {
    const h = req.headers.authorization ?? '';
    const got = Buffer.from(h.startsWith('Bearer ') ? h.slice(7) : '');
    if (got.length !== token.length || !timingSafeEqual(got, token)) {
      reply
        .code(401)
        .header('WWW-Authenticate', 'Bearer')
        .send({
          RemoteException: {
            exception: 'AuthenticationException',
            message: 'missing or bad bearer token (derive it from the cluster secret)',
          },
        });
    }
  });
  const userOf = (req: { query: unknown; headers: Record<string, unknown> }) =>
    String((req.query as Record<string, string>)['user.name'] ?? req.headers['x-cinder-user'] ?? 'dr.who');
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
    let list = listApps(rm, { type: 'GetApplications', user: userOf(req), states, queue: q.queue, owner: q.user });
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
      throw new CinderError('ACCESS_DENIED', `user ${userOf(req)} may not view ${a.id}`);
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
