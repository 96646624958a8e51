/**
 * The driver's HTTP status endpoint (Spark's driver UI, JSON first): the application's tracking
 * address. Read-only; serves no configuration values and no secrets. The port is bound by ./listener.ts
 * (cinder.ui.port, 4040, trying the next ports when taken, like Spark) while the context starts; this
 * module, and fastify with it, is loaded later (first request, or a few seconds after start) so that
 * loading the web framework does not compete with executor start-up for the driver's CPU.
 *
 *   GET /                                         a small HTML summary
 *   GET /api/v1/applications                      [{ id, name, attempts }]
 *   GET /api/v1/applications/:id/{jobs,stages,executors}
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import Fastify, { type FastifyInstance } from 'fastify';
import type { UiListener } from './listener.js';
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
    /** launch request to registered with the driver (ms), when known */
    launchToRegisterMs?: number | undefined;
  }>;
}

/** Serves the UI's routes on an already bound listener; resolves once requests are answered. */
export async function serveDriverUi(store: StatusStore, src: UiSource, listener: UiListener): Promise<FastifyInstance> {
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const app: FastifyInstance = Fastify({
    logger: false,
    serverFactory: (h) => {
      handler = h;
      return listener.server;
    },
  });
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
  await app.ready();
  listener.attach(handler!);
  return app;
}
