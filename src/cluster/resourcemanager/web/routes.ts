/**
 * Everything the RM serves over HTTP besides how the server is created: auth (bearer or login cookie),
 * static assets, the pages (one module each), the YARN REST, the web proxy and /metrics, plus one error
 * handler that answers REST clients with YARN's RemoteException JSON and browsers with a page.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { CinderError } from '../../../common/errors.js';
import { html } from '../../../web/html.js';
import { serveStatic } from '../../../web/static.js';
import type { ResourceManager } from '../rm.js';
import { appPage } from './app.js';
import { appsPage } from './apps.js';
import { registerAuth, userOf } from './auth.js';
import { rmPage } from './layout.js';
import { logsPage } from './logs.js';
import { type RmMetrics, registerMetrics } from './metrics.js';
import { nodesPage } from './nodes.js';
import { overviewPage } from './overview.js';
import { registerProxy } from './proxy.js';
import { schedulerPage } from './scheduler.js';
import { registerYarnRest } from './yarn-rest.js';

const STATUS: Record<string, number> = {
  UNKNOWN_APP: 404,
  NOT_FOUND: 404,
  ACCESS_DENIED: 403,
  INVALID_TRANSITION: 409,
};

function sendPage(reply: FastifyReply, body: string): FastifyReply {
  return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(body);
}

export interface WebOptions {
  metrics?: RmMetrics;
  /** whether an Authorization header carries the metrics token */
  isMetricsToken?: (authorization: string | undefined) => boolean;
}

export function registerWeb(app: FastifyInstance, rm: ResourceManager, o: WebOptions = {}): void {
  registerAuth(app, rm, o.isMetricsToken);
  serveStatic(app);
  app.setErrorHandler((err, req: FastifyRequest, reply) => {
    const e = err as Error & { code?: string; statusCode?: number };
    const code = (e as CinderError).code;
    const status = (code ? STATUS[code] : undefined) ?? e.statusCode ?? 400;
    reply.code(status);
    if (req.url.startsWith('/ws/') || !(req.headers.accept ?? '').includes('text/html'))
      return reply.send({ RemoteException: { exception: code ?? 'Error', message: e.message } });
    return sendPage(
      reply,
      rmPage(
        status === 404 ? 'Not found' : status === 403 ? 'Not allowed' : 'Error',
        '',
        html`<p id="error">${e.message}</p>`,
        userOf(req).user,
      ),
    );
  });
  app.get('/', async (_req, reply) => reply.redirect('/cluster', 302));
  app.get('/cluster', async (req, reply) => sendPage(reply, overviewPage(rm, userOf(req).user)));
  app.get('/cluster/scheduler', async (req, reply) => sendPage(reply, schedulerPage(rm, userOf(req).user)));
  app.get('/cluster/apps', async (req, reply) => sendPage(reply, appsPage(rm, req.query as never, userOf(req))));
  app.get('/cluster/app/:id', async (req, reply) =>
    sendPage(reply, appPage(rm, (req.params as { id: string }).id, userOf(req))),
  );
  app.get('/cluster/nodes', async (req, reply) => sendPage(reply, nodesPage(rm, userOf(req).user)));
  const logs = async (req: FastifyRequest, reply: FastifyReply) => {
    const p = req.params as { cid: string; file?: string };
    const q = req.query as { file?: string; start?: string };
    return sendPage(reply, await logsPage(rm, p.cid, { ...q, file: p.file ?? q.file }, userOf(req)));
  };
  app.get('/cluster/containerlogs/:cid/:user', logs);
  app.get('/cluster/containerlogs/:cid/:user/:file', logs);
  registerYarnRest(app, rm);
  registerProxy(app, rm);
  if (o.metrics) registerMetrics(app, o.metrics);
}
