/**
 * The RM web proxy (YARN's WebAppProxyServlet): `/proxy/<appId>/<path>` forwards to the tracking URL
 * the app's AM registered (the driver UI), after the auth hook found the user and the app's view ACL
 * lets them in. The forwarded request carries only Accept*, User-Agent and Content-Type of the user's
 * headers (never their cookie or token) plus the proxy credential (proxyAuthValue of the app's secret,
 * which the app's UI checks), the base path to prefix its links with, and the user. Bodies stream both
 * ways (undici); Location headers that point into the app are rewritten into the proxy. When the app
 * has no UI (yet), has ended, or its UI does not answer, a page says so and links the app page and
 * the history server if one is configured (RM setting historyAddress).
 *
 * The hop to the UI is HTTPS keyed by the app's secret (src/web/ui-tls.ts, decision 0027): the proxy
 * forwards only to an https tracking URL and only once the server there has proved it holds the app's
 * secret in the TLS handshake, so a server that took over the address gets no request and no credential.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type Agent, request } from 'undici';
import { hasEnded } from '../../../protocol/cluster.js';
import { html } from '../../../web/html.js';
import { PROXY_AUTH_HEADER, PROXY_BASE_HEADER, PROXY_USER_HEADER, proxyAuthValue } from '../../../web/proxy-auth.js';
import { uiTlsAgent } from '../../../web/ui-tls-agent.js';
import { currentAttempt } from '../books.js';
import { getReport } from '../client-service.js';
import type { ResourceManager } from '../rm.js';
import { userOf } from './auth.js';
import { appLink, rmPage } from './layout.js';

const FORWARD = ['accept', 'accept-encoding', 'accept-language', 'user-agent', 'content-type', 'content-length'];
const HOP = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'proxy-authenticate',
  'proxy-authorization',
  'set-cookie',
]);

/** where a finished app's UI lives on the history server (Spark's /history/<appId>/), or '' */
export function historyLink(rm: ResourceManager, appId: string): string {
  const h = rm.conf.historyAddress.replace(/\/+$/, '');
  return h ? `${/^https?:\/\//.test(h) ? h : `http://${h}`}/history/${appId}/` : '';
}

function notAvailable(
  reply: FastifyReply,
  rm: ResourceManager,
  code: number,
  appId: string,
  why: string,
  user: string,
): FastifyReply {
  const hist = historyLink(rm, appId);
  return reply
    .code(code)
    .type('text/html; charset=utf-8')
    .send(
      rmPage(
        `Application UI unavailable`,
        '/cluster/apps',
        html`<p id="proxy-error">${why}</p><p>Application: ${appLink(appId)}</p>${
          hist
            ? html`<p>Its history may be on the history server: <a id="history-link" href="${hist}">${hist}</a></p>`
            : html`<p class="muted">No history server is configured (RM setting historyAddress).</p>`
        }`,
        user,
      ),
    );
}

/**
 * Rewrites a Location the app sent so that the browser stays in the proxy. An app that already prefixes
 * its links with the proxy base (it was told it in PROXY_BASE_HEADER) is left as it is.
 */
export function rewriteLocation(loc: string, target: URL, base: string): string {
  const inProxy = (p: string) => p === base || p.startsWith(`${base}/`) || p.startsWith(`${base}?`);
  if (loc.startsWith('/') && !loc.startsWith('//')) return inProxy(loc) ? loc : base + loc;
  try {
    const u = new URL(loc);
    if (u.origin === target.origin) return (inProxy(u.pathname) ? '' : base) + u.pathname + u.search + u.hash;
  } catch {
    // relative without a slash: relative to the proxied page, leave it
  }
  return loc;
}

/** TLS dispatchers per app (keyed by its secret), the least recently used closed past MAX_AGENTS */
const agents = new Map<string, Agent>();
const MAX_AGENTS = 64;
function agentFor(appId: string, secret: string): Agent {
  const key = `${appId}\0${secret}`;
  let a = agents.get(key);
  if (a) agents.delete(key);
  else a = uiTlsAgent(secret);
  agents.set(key, a);
  for (const [k, old] of agents) {
    if (agents.size <= MAX_AGENTS) break;
    agents.delete(k);
    void old.close();
  }
  return a;
}

async function forward(rm: ResourceManager, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const who = userOf(req);
  const { appId } = req.params as { appId: string };
  getReport(rm, appId, who); // UNKNOWN_APP -> 404, ACCESS_DENIED -> 403 (the error handler renders them)
  const app = rm.app(appId);
  const orig = currentAttempt(app)?.trackingUrl ?? '';
  if (hasEnded(app.state))
    return notAvailable(
      reply,
      rm,
      404,
      appId,
      `Application ${appId} has ended (${app.state}); its live UI is gone.`,
      who.user,
    );
  if (!orig)
    return notAvailable(
      reply,
      rm,
      404,
      appId,
      `Application ${appId} has not registered a UI (yet): it is ${app.state}.`,
      who.user,
    );
  let target: URL;
  try {
    target = new URL(orig);
  } catch {
    return notAvailable(
      reply,
      rm,
      502,
      appId,
      `Application ${appId} registered a tracking URL that is not a URL.`,
      who.user,
    );
  }
  if (target.protocol !== 'https:')
    return notAvailable(
      reply,
      rm,
      502,
      appId,
      `Application ${appId} registered a UI that is not HTTPS (${target.protocol}//${target.host}); the proxy forwards only over TLS keyed by the application's secret.`,
      who.user,
    );
  const base = `/proxy/${appId}`;
  const raw = req.raw.url ?? '';
  const rest = raw.slice(base.length) || '/';
  const url = new URL(target.pathname.replace(/\/+$/, '') + (rest.startsWith('/') ? rest : `/${rest}`), target);
  const headers: Record<string, string> = {
    [PROXY_AUTH_HEADER]: proxyAuthValue(app.secret),
    [PROXY_BASE_HEADER]: base,
    [PROXY_USER_HEADER]: who.user,
  };
  for (const h of FORWARD) {
    const v = req.headers[h];
    if (typeof v === 'string') headers[h] = v;
  }
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  let res: Awaited<ReturnType<typeof request>>;
  try {
    res = await request(url, {
      method: req.method as 'GET',
      headers,
      body: hasBody ? (req.body as NodeJS.ReadableStream as never) : undefined,
      dispatcher: agentFor(appId, app.secret),
      headersTimeout: 15_000,
      bodyTimeout: 60_000,
    });
  } catch (e) {
    return notAvailable(
      reply,
      rm,
      502,
      appId,
      `The UI of application ${appId} at ${target.host} does not answer (${(e as Error).message}).`,
      who.user,
    );
  }
  reply.code(res.statusCode);
  for (const [k, v] of Object.entries(res.headers)) {
    if (v === undefined || HOP.has(k)) continue;
    if (k === 'location' && typeof v === 'string') reply.header(k, rewriteLocation(v, target, base));
    else reply.header(k, v);
  }
  return reply.send(res.body);
}

/** Registers /proxy/:appId and /proxy/:appId/* (bodies of other methods are streamed, not parsed). */
export function registerProxy(app: FastifyInstance, rm: ResourceManager): void {
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_req, payload, done) => done(null, payload));
    const h = (req: FastifyRequest, reply: FastifyReply) => forward(rm, req, reply);
    scope.get('/proxy/:appId', async (req, reply) =>
      reply.redirect(`/proxy/${encodeURIComponent((req.params as { appId: string }).appId)}/`, 302),
    );
    scope.route({ method: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE'], url: '/proxy/:appId/*', handler: h });
  });
}
