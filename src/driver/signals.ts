/**
 * SIGINT / SIGTERM stop the driver and exit 130 / 143, unless the app handles the signal itself (then
 * the app decides when to stop the context).
 */
import { logger } from '../common/log.js';

const log = logger('context');
const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/** Installs the handlers; returns the function that removes them. */
export function stopOnSignals(stop: () => Promise<unknown>): () => void {
  const handler = (sig: NodeJS.Signals) => {
    if (process.listenerCount(sig) > 1) return;
    log.warn({ signal: sig }, 'stopping the context on signal');
    void stop().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
  };
  for (const s of SIGNALS) process.on(s, handler);
  return () => {
    for (const s of SIGNALS) process.off(s, handler);
  };
}
