/**
 * The driver UI's socket, bound while the context starts (node:http only, a few ms), so the UI's
 * address is known at once and reported as the tracking URL; the request handler (fastify, ./server.ts)
 * is attached later. Requests that arrive before it are held, and trigger loading it.
 * Binds cinder.ui.port (4040), trying the next 16 ports when taken and then any free port, like Spark.
 * On a cluster it serves HTTPS keyed by the app secret (src/web/ui-tls.ts; the RM's web proxy is its
 * only client); in local mode plain HTTP (on the driver's loopback address by default).
 */
import http from 'node:http';
import https from 'node:https';
import { uiTlsServerOptions } from '../web/ui-tls.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

export interface UiListener {
  readonly server: http.Server;
  readonly url: string;
  /** called once with the first request held before a handler is attached */
  onFirstRequest(cb: () => void): void;
  /** serves held and future requests with `h` */
  attach(h: Handler): void;
  /** answers held requests with 503 and stops listening */
  close(): Promise<void>;
}

const MAX_PORT_TRIES = 16;

/** appSecret: serve HTTPS keyed by it (cluster modes); none: plain HTTP (local mode). */
export async function bindUiListener(host: string, port: number, appSecret?: string): Promise<UiListener> {
  let handler: Handler | undefined;
  let held: Array<[http.IncomingMessage, http.ServerResponse]> = [];
  let firstRequest: (() => void) | undefined;
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (handler) return handler(req, res);
    held.push([req, res]);
    const cb = firstRequest;
    firstRequest = undefined;
    cb?.();
  };
  const server: http.Server =
    appSecret === undefined
      ? http.createServer(onRequest)
      : https.createServer(uiTlsServerOptions(appSecret), onRequest);
  const actual = await listenFrom(server, host, port);
  return {
    server,
    url: `${appSecret === undefined ? 'http' : 'https'}://${host.includes(':') ? `[${host}]` : host}:${actual}`,
    onFirstRequest(cb) {
      firstRequest = cb;
      if (held.length > 0) {
        firstRequest = undefined;
        cb();
      }
    },
    attach(h) {
      handler = h;
      const waiting = held;
      held = [];
      for (const [req, res] of waiting) h(req, res);
    },
    async close() {
      for (const [, res] of held) {
        res.statusCode = 503;
        res.end('the driver is stopping\n');
      }
      held = [];
      if (!server.listening) return;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function listenFrom(server: http.Server, host: string, port: number): Promise<number> {
  for (let p = port, tries = 0; ; p = p === 0 ? 0 : p + 1, tries++) {
    try {
      await new Promise<void>((resolve, reject) => {
        const onError = (e: Error) => reject(e);
        server.once('error', onError);
        server.listen({ host, port: p }, () => {
          server.off('error', onError);
          resolve();
        });
      });
      const addr = server.address();
      return typeof addr === 'object' && addr ? addr.port : p;
    } catch (e) {
      if ((e as { code?: string }).code !== 'EADDRINUSE') throw e;
      if (tries >= MAX_PORT_TRIES) p = -1; // next try: any free port
    }
  }
}
