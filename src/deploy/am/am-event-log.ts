/**
 * Client mode: the AM keeps a copy of the driver's event log (sent over the AM↔driver channel) in its
 * container's log dir, as <appId>.jsonl.inprogress, renamed to <appId>.jsonl when the driver closes it.
 * The NodeManager serves the file with the container's logs while the app runs and aggregates it into
 * the RM's store at the end, so the log outlives the client machine (docs/decisions/0025-event-log.md).
 */
import fs from 'node:fs';
import path from 'node:path';

export function eventLogAppender(logDir: string | undefined, appId: string): (data: string, final: boolean) => void {
  if (!logDir || !/^application_\d+_\d+$/.test(appId)) return () => {};
  const open = path.join(logDir, `${appId}.jsonl.inprogress`);
  let closed = false;
  return (data, final) => {
    if (closed) return;
    try {
      if (data) fs.appendFileSync(open, data, { mode: 0o600 });
      if (final) {
        closed = true;
        fs.renameSync(open, path.join(logDir, `${appId}.jsonl`));
      }
    } catch {
      // a copy only: the driver keeps its own log
    }
  };
}
