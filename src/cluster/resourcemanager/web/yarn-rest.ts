/**
 * YARN-compatible REST on the RM: /ws/v1/cluster{,/info,/metrics,/scheduler,/apps,/apps/{id},
 * /apps/{id}/appattempts,/apps/{id}/state (GET, PUT KILLED),/nodes,/nodes/{id}} with YARN's field names
 * and wrappers (model.ts). Views need the view ACL, kill the modify ACL; listings hide the details of
 * apps the caller may not view. Read-only except for kill; never returns secrets.
 */
import type { FastifyInstance } from 'fastify';
import { CinderError } from '../../../common/errors.js';
import type { Principal } from '../callers.js';
import { appReport, canView, kill } from '../client-service.js';
import type { ResourceManager } from '../rm.js';
import { userOf } from './auth.js';
import {
  yarnAppOf,
  yarnApps,
  yarnAttemptContainers,
  yarnAttempts,
  yarnClusterInfo,
  yarnMetrics,
  yarnNodes,
  yarnScheduler,
} from './model.js';

type Q = Record<string, string | undefined>;
const list = (s: string | undefined) =>
  s
    ?.split(',')
    .map((x) => x.trim().toUpperCase())
    .filter(Boolean);

export function registerYarnRest(app: FastifyInstance, rm: ResourceManager): void {
  const id = (req: { params: unknown }) => (req.params as { id: string }).id;
  app.get('/ws/v1/cluster', async () => yarnClusterInfo(rm));
  app.get('/ws/v1/cluster/info', async () => yarnClusterInfo(rm));
  app.get('/ws/v1/cluster/metrics', async () => yarnMetrics(rm));
  app.get('/ws/v1/cluster/scheduler', async () => yarnScheduler(rm));
  app.get('/ws/v1/cluster/nodes', async (req) => {
    const node = yarnNodes(rm, list((req.query as Q).states));
    return { nodes: node.length ? { node } : null };
  });
  app.get('/ws/v1/cluster/nodes/:id', async (req) => {
    const n = yarnNodes(rm).find((x) => x.id === id(req));
    if (!n) throw new CinderError('NOT_FOUND', `node ${id(req)} is not known to this ResourceManager`);
    return { node: n };
  });
  app.get('/ws/v1/cluster/apps', async (req) => {
    const q = req.query as Q;
    const states = list(q.states) ?? list(q.state);
    const limit = q.limit !== undefined ? Number(q.limit) : undefined;
    if (limit !== undefined && !(Number.isInteger(limit) && limit >= 0))
      throw new CinderError('BAD_REQUEST', `limit must be a whole number, got "${q.limit}"`);
    const time = (k: string) => {
      const v = q[k];
      if (v === undefined) return undefined;
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0)
        throw new CinderError('BAD_REQUEST', `${k} must be epoch milliseconds, got "${v}"`);
      return n;
    };
    const apps = yarnApps(
      rm,
      {
        states,
        user: q.user,
        queue: q.queue,
        finalStatus: q.finalStatus,
        limit,
        types: list(q.applicationTypes),
        tags: q.applicationTags
          ?.split(',')
          .map((t) => t.trim())
          .filter(Boolean),
        startedBegin: time('startedTimeBegin'),
        startedEnd: time('startedTimeEnd'),
        finishedBegin: time('finishedTimeBegin'),
        finishedEnd: time('finishedTimeEnd'),
      },
      userOf(req),
    );
    return { apps: apps.length ? { app: apps } : null };
  });
  app.get('/ws/v1/cluster/apps/:id', async (req) => ({ app: yarnAppOf(rm, id(req), userOf(req)) }));
  app.get('/ws/v1/cluster/apps/:id/appattempts', async (req) => ({
    appAttempts: { appAttempt: yarnAttempts(rm, id(req), userOf(req)) },
  }));
  app.get('/ws/v1/cluster/apps/:id/appattempts/:attempt', async (req) => {
    const at = (req.params as { attempt: string }).attempt;
    const a = yarnAttempts(rm, id(req), userOf(req)).find((x) => x.appAttemptId === at);
    if (!a) throw new CinderError('NOT_FOUND', `application ${id(req)} has no attempt ${at}`);
    return { appAttempt: a };
  });
  app.get('/ws/v1/cluster/apps/:id/appattempts/:attempt/containers', async (req) => {
    const container = yarnAttemptContainers(rm, id(req), (req.params as { attempt: string }).attempt, userOf(req));
    return { containers: container.length ? { container } : null };
  });
  const viewable = (appId: string, who: Principal) => {
    const a = rm.app(appId);
    if (!canView(rm, a, who)) throw new CinderError('ACCESS_DENIED', `user ${who.user} may not view ${a.id}`);
    return a;
  };
  app.get('/ws/v1/cluster/apps/:id/state', async (req) => ({
    state: appReport(rm, viewable(id(req), userOf(req))).state,
  }));
  app.put('/ws/v1/cluster/apps/:id/state', async (req, reply) => {
    const body = req.body as { state?: string } | undefined;
    if (body?.state !== 'KILLED') throw new CinderError('BAD_REQUEST', "Only 'KILLED' is allowed as a target state.");
    const r = kill(rm, id(req), userOf(req), 'killed through the REST API');
    reply.code(r.alreadyTerminal ? 200 : 202);
    return { state: r.state };
  });
}
