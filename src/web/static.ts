/**
 * Static assets for the daemons' web UIs, served by the daemons themselves (the cluster may have no
 * internet, so no CDN): the shared stylesheet, and named files of npm packages the pages use in the
 * browser (resolved from node_modules at start, read once, served with a long cache lifetime).
 *
 *   GET /static/cinder.css
 *   GET /static/lib/<name>      a file registered in LIBS
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import type { FastifyInstance } from 'fastify';
import { CSS } from './style.js';

const require = createRequire(import.meta.url);

/** Browser files of npm packages, by the name pages link to: add an entry to use one. */
const LIBS: Record<string, { module: string; type: string }> = {};

/** Registers a browser library under /static/lib/<name> (a module path resolved with require, or an absolute file path). */
export function registerLib(name: string, module: string, type = 'application/javascript'): void {
  LIBS[name] = { module, type };
}

const cache = new Map<string, Buffer>();

function libFile(name: string): Buffer | undefined {
  const lib = Object.hasOwn(LIBS, name) ? LIBS[name] : undefined;
  if (!lib) return undefined;
  let b = cache.get(name);
  if (!b) {
    b = fs.readFileSync(lib.module.startsWith('/') ? lib.module : require.resolve(lib.module));
    cache.set(name, b);
  }
  return b;
}

/** Adds the /static routes to a fastify instance (call before it is ready). */
export function serveStatic(app: FastifyInstance): void {
  app.get('/static/cinder.css', async (_req, reply) =>
    reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(CSS),
  );
  app.get<{ Params: { name: string } }>('/static/lib/:name', async (req, reply) => {
    const b = libFile(req.params.name);
    if (!b) return reply.code(404).send({ error: `no static file ${req.params.name}` });
    const lib = LIBS[req.params.name] as { type: string };
    return reply.type(lib.type).header('cache-control', 'public, max-age=86400').send(b);
  });
}
