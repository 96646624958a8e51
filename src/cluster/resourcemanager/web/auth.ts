/**
 * Who is behind an RM HTTP request, for REST, pages, the web proxy and /metrics alike:
 *  - `Authorization: Bearer <token>` (API clients, `cinder token` prints one), on any method;
 *  - the `cinder_token` cookie (browsers), on GET/HEAD only, so a cross-site form cannot kill an app.
 * A browser gets the cookie once: from the login form (POST /login) or a `?token=` link, after which it
 * is redirected to the same address without the token. The cookie holds the user token itself,
 * HttpOnly, SameSite=Strict, Secure on HTTPS: nothing is kept on the RM, and it expires with the token
 * (docs/decisions/0022-rm-web-ui-and-proxy.md). Unauthenticated requests: pages redirect to /login,
 * everything else keeps REST's 401 JSON.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { html, page } from '../../../web/html.js';
import { fromBearer } from '../../security/tokens.js';
import type { Principal } from '../callers.js';
import type { ResourceManager } from '../rm.js';

export const COOKIE = 'cinder_token';

const users = new WeakMap<object, Principal>();

/** The authenticated user of a request (after the auth hook ran). */
export function userOf(req: FastifyRequest): Principal {
  return users.get(req) ?? { user: '', admin: false };
}

export function cookies(req: FastifyRequest): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i <= 0) continue;
    try {
      out[part.slice(0, i).trim()] = decodeURIComponent(part.slice(i + 1).trim());
    } catch {
      // a malformed cookie is ignored
    }
  }
  return out;
}

function principalOfToken(rm: ResourceManager, s: string | undefined): Principal | undefined {
  const t = s ? fromBearer(s.trim()) : undefined;
  const u = t && rm.tokens.userOfBearer(t);
  return u ? { user: u.user, admin: u.admin || rm.conf.admins.includes(u.user) } : undefined;
}

export function authenticate(rm: ResourceManager, req: FastifyRequest): Principal | undefined {
  const h = req.headers.authorization ?? '';
  if (h.startsWith('Bearer ')) return principalOfToken(rm, h.slice(7));
  if (req.method === 'GET' || req.method === 'HEAD') return principalOfToken(rm, cookies(req)[COOKIE]);
  return undefined;
}

/** A local path to go back to after login (never another origin). */
export function safeNext(s: unknown): string {
  return typeof s === 'string' && s.startsWith('/') && !s.startsWith('//') && !s.startsWith('/\\') ? s : '/cluster';
}

function setCookie(req: FastifyRequest, reply: FastifyReply, value: string, clear = false): void {
  const secure = req.protocol === 'https' ? '; Secure' : '';
  reply.header(
    'set-cookie',
    `${COOKIE}=${clear ? '' : encodeURIComponent(value)}; Path=/; HttpOnly; SameSite=Strict${secure}${clear ? '; Max-Age=0' : ''}`,
  );
}

/** Requests a browser makes for a page (not API clients, not scrapers). */
function wantsPage(req: FastifyRequest): boolean {
  const p = req.url;
  if (p.startsWith('/ws/') || p === '/metrics' || p.startsWith('/metrics?')) return false;
  return req.method === 'GET' && (req.headers.accept ?? '').includes('text/html');
}

const OPEN = /^\/(static\/|login(\?|$)|logout(\?|$)|favicon\.ico$)/;

function loginPage(next: string, error = ''): string {
  return page({
    title: 'Sign in',
    product: 'ResourceManager',
    nav: [],
    body: html`<p>Paste a user token (<code>cinder token</code> prints one for your identity).</p>
${error ? html`<p class="state FAILED" id="login-error">${error}</p>` : ''}
<form method="post" action="/login" class="filters"><input type="hidden" name="next" value="${next}">
<input type="password" name="token" id="token" size="60" autocomplete="off" required placeholder="token">
<button type="submit">Sign in</button></form>`,
  });
}

/** The auth hook and the login/logout routes. */
export function registerAuth(
  app: FastifyInstance,
  rm: ResourceManager,
  /** whether an Authorization header is the metrics token (lets a scraper read /metrics only) */
  isMetricsToken: (authorization: string | undefined) => boolean = () => false,
): void {
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 64 * 1024 },
    (_req, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
  );
  app.addHook('onRequest', async (req, reply) => {
    if (OPEN.test(req.url)) return;
    const url = new URL(req.url, 'http://x');
    const qt = url.searchParams.get('token');
    if (qt !== null && req.method === 'GET') {
      // a link with ?token=: keep it in the cookie, and send the browser on without it in the address
      url.searchParams.delete('token');
      const next = safeNext(url.pathname + url.search);
      if (!principalOfToken(rm, qt)) {
        reply.code(401).type('text/html; charset=utf-8').send(loginPage(next, 'That token is bad or expired.'));
        return reply;
      }
      setCookie(req, reply, qt.trim());
      reply.redirect(next, 303);
      return reply;
    }
    const path = req.url.split('?')[0];
    if (path === '/metrics' && isMetricsToken(req.headers.authorization)) {
      users.set(req, { user: '', admin: false });
      return;
    }
    const who = authenticate(rm, req);
    if (who) {
      users.set(req, who);
      return;
    }
    if (wantsPage(req)) {
      reply.redirect(`/login?next=${encodeURIComponent(req.url)}`, 303);
      return reply;
    }
    reply
      .code(401)
      .header('WWW-Authenticate', 'Bearer')
      .send({
        RemoteException: {
          exception: 'AuthenticationException',
          message: 'missing, bad or expired bearer token (`cinder token` prints one for your identity)',
        },
      });
    return reply;
  });
  app.get('/login', async (req, reply) =>
    reply.type('text/html; charset=utf-8').send(loginPage(safeNext((req.query as { next?: string }).next))),
  );
  app.post('/login', async (req, reply) => {
    const body = (req.body ?? {}) as { token?: string; next?: string };
    const next = safeNext(body.next);
    if (!principalOfToken(rm, body.token))
      return reply.code(401).type('text/html; charset=utf-8').send(loginPage(next, 'That token is bad or expired.'));
    setCookie(req, reply, (body.token as string).trim());
    return reply.redirect(next, 303);
  });
  app.get('/logout', async (req, reply) => {
    setCookie(req, reply, '', true);
    return reply.redirect('/login', 303);
  });
}
