/**
 * The lines `cinder submit` prints about an application on a cluster, in both deploy modes: when it is
 * submitted, each change of state or tracking address (the RM's web-proxy URL), and the final report.
 * Cluster mode prints them to stdout (the app's own output is on the cluster); client mode to stderr,
 * since stdout belongs to the driver running in this process. Every line is escaped (src/cli/escape.ts):
 * app names, states and diagnostics come from users and the cluster.
 */
import { esc } from '../../cli/escape.js';
import type { AppReport } from '../../protocol/cluster.js';

export function stamp(s: string): string {
  return `[${new Date().toISOString()}] ${esc(s)}\n`;
}

export function describeReport(r: AppReport): string {
  return `${r.id} name=${JSON.stringify(r.name)} state=${r.state} finalStatus=${r.finalStatus}${r.diagnostics ? ` diagnostics=${JSON.stringify(r.diagnostics.split('\n')[0])}` : ''}`;
}

/** Prints a report line when the state or the tracking address changed since the last one. */
export class ReportLines {
  private last = '';
  constructor(private readonly out: (line: string) => void) {}

  submitted(appId: string, mode: string, queue: string): void {
    this.out(stamp(`submitted application ${appId} (${mode} mode, queue ${queue})`));
  }

  report(r: AppReport): void {
    const key = `${r.state}/${r.finalStatus}/${r.trackingUrl}`;
    if (key === this.last) return;
    this.last = key;
    this.out(
      stamp(
        `${r.id} ${r.state}${r.trackingUrl ? ` tracking=${r.trackingUrl}` : ''}${r.amHost ? ` am=${r.amHost}` : ''}`,
      ),
    );
  }

  final(r: AppReport, logsHint: string): void {
    this.report(r);
    this.out(stamp(`final: ${describeReport(r)}`));
    this.out(stamp(logsHint));
  }
}
