/**
 * The driver's HTTP status endpoint (Spark's driver UI, JSON first): the application's tracking
 * address. Read-only; serves no configuration values and no secrets. Binds the driver's host on
 * cinder.ui.port (4040), trying the next ports (up to 16) when taken, like Spark.
 *
 *   GET /                                         a small HTML summary
 *   GET /api/v1/applications                      [{ id, name, attempts }]
 *   GET /api/v1/applications/:id/{jobs,stages,executors}
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { StatusStore } from './status-store.js';

export interface UiSource {
  appId(): string;
  appName: string;
  startTime: number;
  executors(): Array<{
    id: string;
    hostPort: string;
    totalCores: number;
    activeTasks: number;
    rssBytes: number;
    addTime: number;
  }>;
}

export interface DriverUi {
  url: string;
  close(): Promise<void>;
}

export async function startDriverUi(store: StatusStore, src: UiSource, host: string, port: number): Promise<DriverUi> {
  const app: FastifyInstance = Fastify({ logger: false });
  const notFound = (id: string) => ({ error: `unknown application ${id}`, hint: `this driver runs ${src.appId()}` });
  app.get('/api/v1/applications', async () => [
    {
      id: src.appId(),
      name: src.appName,
      attempts: [{ startTime: new Date(src.startTime).toISOString(), completed: false }],
    },
  ]);
  app.get<{ Params: { id: string } }>('/api/v1/applications/:id/jobs', async (req, reply) =>
    req.params.id === src.appId() ? [...store.jobs.values()].reverse() : reply.code(404).send(notFound(req.params.id)),
  );
  app.get<{ Params: { id: string } }>('/api/v1/applications/:id/stages', async (req, reply) =>
    req.params.id === src.appId()
      ? [...store.stages.values()].reverse()
      : reply.code(404).send(notFound(req.params.id)),
  );
  app.get<{ Params: { id: string } }>('/api/v1/applications/:id/executors', async (req, reply) =>
    req.params.id === src.appId() ? src.executors() : reply.code(404).send(notFound(req.params.id)),
  );
  app.get('/', async (_req, reply) => {
    const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
    const jobs = [...store.jobs.values()].reverse().slice(0, 50);
    const rows = jobs
      .map(
        (j) =>
          `<tr><td>${j.jobId}</td><td>${esc(j.description)}</td><td>${j.status}</td><td>${j.stageIds.join(', ')}</td></tr>`,
      )
      .join('');
    const ex = src
      .executors()
      .map((e) => `<li>${esc(e.id)} on ${esc(e.hostPort)} (${e.totalCores} cores, ${e.activeTasks} active)</li>`)
      .join('');
    return reply
      .type('text/html')
      .send(
        `<!doctype html><meta charset="utf-8"><title>${esc(src.appName)} - Cinder</title><h1>${esc(src.appName)}</h1><p>${esc(src.appId())}</p><h2>Executors</h2><ul>${ex}</ul><h2>Jobs</h2><table border="1"><tr><th>id</th><th>description</th><th>status</th><th>stages</th></tr>${rows}</table>`,
      );
  });
  for (let p = port, tries = 0; ; p = p === 0 ? 0 : p + 1, tries++) {
    try {
      await app.listen({ host, port: p });
      const addr = app.server.address();
      const actual = typeof addr === 'object' && addr ? addr.port : p;
      return { url: `http://${host.includes(':') ? `[${host}]` : host}:${actual}`, close: () => app.close() };
    } catch (e) {
      if ((e as { code?: string }).code !== 'EADDRINUSE') {
        await app.close().catch(() => {});
        throw e;
      }
      if (tries >= 16) p = -1; // next try: any free port
    }
  }
}
