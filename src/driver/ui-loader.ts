/**
 * The driver UI's port is bound at start (node:http, cheap); its web framework loads on the first request
 * or UI_LOAD_DELAY_MS after start, not while the executors start. A UI that cannot load answers 503.
 */
import { logger } from '../common/log.js';
import type { AppStatus } from '../ui/app-status.js';
import type { UiListener } from '../ui/listener.js';

const log = logger('context');
/** the driver UI's web framework loads this long after the context starts, or on its first request */
const UI_LOAD_DELAY_MS = 3000;

export type LoadedUi = { close(): Promise<unknown> } | undefined;

/** Schedules the load; the returned function gives the load in progress or done, if it started. */
export function scheduleUiLoad(
  listener: UiListener,
  status: AppStatus,
  opts: { maxMemory: number; proxySecret: string | undefined },
  isStopped: () => boolean,
): () => Promise<LoadedUi> | undefined {
  let loading: Promise<LoadedUi> | undefined;
  const load = (): void => {
    if (loading || isStopped()) return;
    clearTimeout(timer);
    loading = status.serve(listener, opts).catch((e: Error) => {
      log.warn({ err: e.message }, 'the driver UI could not load; its port answers 503');
      // held and later requests get the 503 at once instead of waiting for the driver to stop
      listener.attach((_req, res) => {
        res.statusCode = 503;
        res.setHeader('content-type', 'text/plain; charset=utf-8');
        res.end(`the driver UI could not load: ${e.message}\n`);
      });
      return undefined;
    });
  };
  const timer = setTimeout(load, UI_LOAD_DELAY_MS);
  timer.unref();
  listener.onFirstRequest(load);
  return () => loading;
}
