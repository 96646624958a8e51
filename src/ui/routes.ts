/**
 * The application UI's page routes, shared by the driver (prefix '') and the history server
 * (prefix '/history/:appId'): each resolves the request to a page context (store, link base) and
 * renders one page of ./pages.ts.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { registerLib } from '../web/static.js';
import { DAG_SCRIPT } from './dag-script.js';
import {
  environmentPage,
  executorsPage,
  jobPage,
  jobsPage,
  type PageCtx,
  stagePage,
  stagesPage,
  storagePage,
  timelinePage,
  topologyPage,
} from './pages.js';

const require = createRequire(import.meta.url);

/** dagre's browser build at /static/lib/dagre.js, and the DAG drawing script. */
export function registerUiStatic(app: FastifyInstance): void {
  registerLib('dagre.js', path.join(path.dirname(require.resolve('@dagrejs/dagre/package.json')), 'dist/dagre.min.js'));
  app.get('/static/cinder-dag.js', async (_req, reply) =>
    reply.type('application/javascript').header('cache-control', 'public, max-age=3600').send(DAG_SCRIPT),
  );
}

type Req = FastifyRequest<{ Params: Record<string, string>; Querystring: Record<string, string> }>;
export type CtxOf = (req: Req, reply: FastifyReply) => PageCtx | undefined;

export function registerAppPages(app: FastifyInstance, prefix: string, ctxOf: CtxOf): void {
  const htmlPage = (reply: FastifyReply, body: string | undefined, what: string) =>
    body === undefined
      ? reply.code(404).type('text/plain').send(`${what} not found\n`)
      : reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(body);
  const route = (p: string, render: (c: PageCtx, req: Req) => string | undefined, what = 'page') =>
    app.get(`${prefix}${p}`, async (req: Req, reply) => {
      const c = ctxOf(req, reply);
      if (!c) return reply;
      return htmlPage(reply, render(c, req), what);
    });
  app.get(`${prefix}/`, async (req: Req, reply) => {
    const c = ctxOf(req, reply);
    if (!c) return reply;
    return reply.redirect(`${c.base}/jobs/`);
  });
  route('/jobs/', (c) => jobsPage(c));
  route('/jobs/job/', (c, req) => jobPage(c, Number(req.query.id)), 'job');
  route('/stages/', (c) => stagesPage(c));
  route('/stages/stage/', (c, req) => stagePage(c, Number(req.query.id), Number(req.query.attempt ?? 0)), 'stage');
  route('/storage/', (c) => storagePage(c));
  route('/environment/', (c) => environmentPage(c));
  route('/executors/', (c) => executorsPage(c));
  route('/timeline/', (c) => timelinePage(c));
  route('/topology/', (c) => topologyPage(c));
}
