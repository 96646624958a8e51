/**
 * The driver's web UI and REST API (Spark's driver UI on port 4040), served on the listener bound
 * while the context starts (./listener.ts); this module, and fastify with it, loads later (first
 * request, or a few seconds after start) so the web framework does not compete with executor
 * start-up for the driver's CPU.
 *
 *   GET /jobs/ /stages/ /timeline/ /storage/ /environment/ /executors/ /topology/   HTML pages
 *   GET /api/v1/...                                Spark's REST API (./rest.ts)
 *   GET /metrics, /metrics/executors/prometheus    Prometheus text (./metrics.ts)
 *   GET /executors/profile/?id=&seconds=, /executors/heap/?id=   V8 CPU profile / heap snapshot of an executor
 *
 * On a cluster the UI is reached through the RM's web proxy only: a request without the proxy's
 * credential (src/web/proxy-auth.ts) gets a 401 page naming the proxy address, and links carry the
 * proxy's path prefix. Local mode binds loopback and needs no proxy.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import Fastify, { type FastifyInstance } from 'fastify';
import { html, page } from '../web/html.js';
import { isProxyAuth, PROXY_AUTH_HEADER, PROXY_BASE_HEADER, proxyBase } from '../web/proxy-auth.js';
import { serveStatic } from '../web/static.js';
import type { AppStore } from './app-store.js';
import type { UiListener } from './listener.js';
import { appRegistry, executorsPrometheus } from './metrics.js';
import type { PageCtx } from './pages.js';
import { registerRest } from './rest.js';
import type { LiveExecutor } from './rest-views.js';
import { registerAppPages, registerUiStatic } from './routes.js';

export interface DriverUiOptions {
  store: AppStore;
  /** live memory figures of an executor (last heartbeat) */
  liveExecutor(id: string): LiveExecutor | undefined;
  /** when set (client and cluster mode), requests must carry the RM proxy's credential for this app secret */
  proxySecret?: string | undefined;
  /** the RM's web address, for the 401 page (optional) */
  rmWebUrl?: string | undefined;
  /** asks an executor for a CPU profile (seconds) or a heap snapshot, over the driver↔executor RPC */
  profile?(executorId: string, kind: 'cpu' | 'heap', seconds: number, thread: number): Promise<Uint8Array>;
}

/** Serves the UI's routes on an already bound listener; resolves once requests are answered. */
export async function serveDriverUi(o: DriverUiOptions, listener: UiListener): Promise<FastifyInstance> {
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const app: FastifyInstance = Fastify({
    logger: false,
    serverFactory: (h) => {
      handler = h;
      return listener.server;
    },
  });
  const store = o.store;
  const baseOf = (req: { headers: IncomingMessage['headers'] }) =>
    o.proxySecret ? proxyBase(req.headers[PROXY_BASE_HEADER]) : '';
  if (o.proxySecret) {
    const secret = o.proxySecret;
    app.addHook('onRequest', async (req, reply) => {
      if (isProxyAuth(secret, req.headers[PROXY_AUTH_HEADER])) return;
      const where = `${o.rmWebUrl ?? 'http://<resourcemanager>:8088'}/proxy/${store.app.id}/`;
      const body = page({
        title: 'Open this application through the ResourceManager',
        product: 'Cinder application',
        nav: [],
        body: html`<p>This application's UI answers only requests that come through the ResourceManager's web proxy, which checks who you are and whether you may view the application.</p><p>Open <a href="${where}"><code>${where}</code></a> instead.</p>`,
      });
      return reply.code(401).type('text/html; charset=utf-8').send(body);
    });
  }
  serveStatic(app);
  registerUiStatic(app);
  const live = (id: string) => o.liveExecutor(id);
  registerRest(app, { list: () => [store], get: (id) => (id === store.app.id ? store : undefined), live });
  const ctx = (req: { headers: IncomingMessage['headers'] }): PageCtx => {
    const base = baseOf(req);
    return { store, base, staticBase: base, live: true, liveExecutor: live, profiling: !!o.profile, now: Date.now() };
  };
  registerAppPages(app, '', (req) => ctx(req));
  const reg = appRegistry(store);
  app.get('/metrics', async (_req, reply) => reply.type(reg.contentType).send(await reg.metrics()));
  app.get('/metrics/executors/prometheus', async (_req, reply) =>
    reply.type('text/plain; version=0.0.4').send(executorsPrometheus(store, live)),
  );
  if (o.profile) {
    const profile = o.profile;
    type PQ = { Querystring: { id?: string; seconds?: string; thread?: string } };
    const handler =
      (kind: 'cpu' | 'heap') =>
      async (req: import('fastify').FastifyRequest<PQ>, reply: import('fastify').FastifyReply) => {
        const seconds = kind === 'cpu' ? Number(req.query.seconds ?? 2) : 0;
        const thread = req.query.thread === undefined || req.query.thread === 'main' ? -1 : Number(req.query.thread);
        if (
          !req.query.id ||
          !(kind === 'heap' || (seconds > 0 && seconds <= 60)) ||
          !Number.isInteger(thread) ||
          thread < -1
        )
          return reply
            .code(400)
            .type('text/plain')
            .send('give ?id=<executor id>&thread=<main or task thread number>[&seconds=<1..60> for a CPU profile]\n');
        try {
          const data = await profile(req.query.id, kind, seconds, thread);
          const name = `executor-${req.query.id}-${thread < 0 ? 'main' : `t${thread}`}.${kind === 'cpu' ? 'cpuprofile' : 'heapsnapshot'}`;
          return reply
            .type('application/json')
            .header('content-disposition', `attachment; filename="${name}"`)
            .send(Buffer.from(data));
        } catch (e) {
          return reply
            .code(404)
            .type('text/plain')
            .send(`${(e as Error).message}\n`);
        }
      };
    app.get<PQ>('/executors/profile/', handler('cpu'));
    app.get<PQ>('/executors/heap/', handler('heap'));
  }
  await app.ready();
  listener.attach(handler!);
  return app;
}
