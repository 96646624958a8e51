/**
 * `cinder history-server`: Spark's history server for Cinder. Replays the event logs found under its
 * log directories (./event-logs.ts) and serves, for finished and running apps alike, the same pages
 * as the driver UI under /history/<appId>/ and Spark's REST API under /api/v1.
 *
 *   GET /                         applications (running and finished)
 *   GET /history/<appId>/jobs/ …  the application's pages (src/ui/pages.ts)
 *   GET /api/v1/…                 Spark's REST API over every app (src/ui/rest.ts)
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { fastifyTlsOptions } from '../cluster/security/web-tls.js';
import { registerRest } from '../ui/rest.js';
import { registerAppPages, registerUiStatic } from '../ui/routes.js';
import { formatDuration, html, page, table } from '../web/html.js';
import { serveStatic } from '../web/static.js';
import { HistoryProvider } from './event-logs.js';

export interface HistoryServerOptions {
  dirs: string[];
  host: string;
  port: number;
  /** serve HTTPS with these PEM files (./tls.ts chooses them); none: plain HTTP */
  tls?: { certFile: string; keyFile: string } | undefined;
}

export async function startHistoryServer(o: HistoryServerOptions): Promise<{ app: FastifyInstance; url: string }> {
  const provider = new HistoryProvider(o.dirs);
  const tls = o.tls ? fastifyTlsOptions({ webTls: true, webCertFile: o.tls.certFile, webKeyFile: o.tls.keyFile }) : {};
  const app = Fastify({ logger: false, ...tls }) as unknown as FastifyInstance;
  serveStatic(app);
  registerUiStatic(app);
  registerRest(app, provider);
  app.get('/', async (_req, reply) => {
    const apps = provider.list().sort((a, b) => b.app.startTime - a.app.startTime);
    const rows = apps.map((s) => [
      html`<a href="/history/${s.app.id}/jobs/">${s.app.id}</a>`,
      s.app.name,
      s.app.topology?.deployMode ?? '',
      new Date(s.app.startTime).toISOString().replace('T', ' ').slice(0, 19),
      s.app.endTime ? new Date(s.app.endTime).toISOString().replace('T', ' ').slice(0, 19) : 'running',
      formatDuration((s.app.endTime ?? s.app.lastUpdated) - s.app.startTime),
      s.app.user,
      s.app.lastUpdated ? new Date(s.app.lastUpdated).toISOString().replace('T', ' ').slice(0, 19) : '',
    ]);
    const body = html`<p class="muted">Event log directories: ${o.dirs.join(', ')}</p>${
      apps.length
        ? table(
            ['App ID', 'App Name', 'Mode', 'Started', 'Completed', 'Duration', 'User', 'Last Updated'],
            rows,
            'apps',
          )
        : html`<p id="no-apps">No event logs found. Applications write them to ~/.cinder/event-logs (cinder.eventLog.dir) by default.</p>`
    }`;
    return reply.type('text/html; charset=utf-8').send(
      page({
        title: 'Applications',
        product: 'Cinder history',
        nav: [{ href: '/', label: 'Applications' }],
        active: '/',
        body,
      }),
    );
  });
  registerAppPages(app, '/history/:appId', (req, reply) => {
    const store = provider.get(req.params.appId as string);
    if (!store) {
      reply
        .code(404)
        .type('text/plain')
        .send(`no event log for application ${req.params.appId} under ${o.dirs.join(', ')}\n`);
      return undefined;
    }
    return { store, base: `/history/${store.app.id}`, staticBase: '', live: false, now: Date.now() };
  });
  await app.listen({ host: o.host, port: o.port });
  const addr = app.server.address() as { port: number };
  return { app, url: `${o.tls ? 'https' : 'http'}://${o.host.includes(':') ? `[${o.host}]` : o.host}:${addr.port}` };
}
