/**
 * `cinder logs APP -f`: prints what each container of a running app writes, as it writes it (new bytes
 * of every log file, under a `==> container on node: file <==` header when the file changes), until the
 * app has ended and its logs have been aggregated, then prints what is left and returns. Polls the RM
 * (which reads live logs from the nodes) every interval.
 */
import type { AppReport, LogFile } from '../protocol/cluster.js';
import { hasEnded } from '../protocol/cluster.js';
import { esc } from './escape.js';

export interface FollowSource {
  logs(): Promise<LogFile[]>;
  report(): Promise<AppReport>;
}

export async function followLogs(
  src: FollowSource,
  out: (s: string) => void,
  intervalMs = 1000,
  /** after the app ended, wait at most this long for its logs to be aggregated */
  aggregationWaitMs = 30_000,
): Promise<AppReport> {
  let endedAt = 0;
  const seen = new Map<string, number>();
  let current = '';
  const printNew = (logs: LogFile[]) => {
    for (const l of logs) {
      const key = `${l.containerId}/${l.file}`;
      const from = seen.get(key) ?? 0;
      // a file that shrank was replaced (aggregated copy of a rotated log): print it again from the start
      const start = l.data.length < from ? 0 : from;
      if (l.data.length === start) continue;
      if (current !== key) {
        out(`\n==> ${esc(l.containerId)} on ${esc(l.nodeId)}: ${esc(l.file)} <==\n`);
        current = key;
      }
      out(l.data.slice(start));
      seen.set(key, l.data.length);
    }
  };
  for (;;) {
    const r = await src.report();
    printNew(await src.logs());
    // ended and aggregated (or nothing left to aggregate): one last read, then stop
    if (hasEnded(r.state)) endedAt ||= Date.now();
    if (endedAt && (r.logAggregationStatus !== 'RUNNING' || Date.now() - endedAt > aggregationWaitMs)) {
      printNew(await src.logs());
      if (current) out('\n');
      return r;
    }
    await new Promise((res) => setTimeout(res, intervalMs));
  }
}
