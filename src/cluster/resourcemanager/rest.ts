/**
 * The RM's HTTP server: YARN's REST API (/ws/v1/cluster/…), the web UI (/cluster/…), the web proxy
 * (/proxy/<appId>/…) and /metrics, all registered by web/routes.ts. Bound to loopback by default. Every
 * request needs a user token, as `Authorization: Bearer <token>` (`cinder token` prints one for an
 * identity) or, for browsers, the login cookie (web/auth.ts); otherwise REST gets 401 and pages go to
 * /login. The user is the token's: `user.name` and X-Cinder-User confer nothing. This module only creates
 * the server and listens; it publishes the address users reach as rm.webAddress (tracking URLs).
 */
import os from 'node:os';
import Fastify, { type FastifyInstance } from 'fastify';
import { fastifyTlsOptions } from '../security/web-tls.js';
import type { ResourceManager } from './rm.js';
import { registerWeb, type WebOptions } from './web/routes.js';

export async function startRest(
  rm: ResourceManager,
  host: string,
  port: number,
  web: WebOptions = {},
): Promise<{ app: FastifyInstance; port: number }> {
  // HTTPS unless the conf says webTls=false (../security/web-tls.ts); routes are the same either way
  const app = Fastify({ logger: false, ...fastifyTlsOptions(rm.conf) }) as unknown as FastifyInstance;
  registerWeb(app, rm, web);
  await app.listen({ host, port });
  const addr = app.server.address();
  const bound = typeof addr === 'object' && addr ? addr.port : port;
  const scheme = app.initialConfig.https ? 'https' : 'http';
  const shown = host === '0.0.0.0' || host === '::' ? os.hostname() : host.includes(':') ? `[${host}]` : host;
  rm.webAddress = `${scheme}://${shown}:${bound}`;
  return { app, port: bound };
}
