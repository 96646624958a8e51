/**
 * Client deploy mode: what the ResourceManager finally recorded for the application, as the driver's
 * backend saw it while stopping, for `cinder submit` to decide its exit code (submit.ts) after main.
 *
 * The rule: the exit code is 0 exactly when the RM recorded FINISHED/SUCCEEDED. The driver's own result
 * is what the RM is asked to record (the AM unregisters with it; if the AM is gone, the next AM attempt
 * gets it), so the two agree whenever the record could be made. When it could not — no attempt left,
 * the RM unreachable past the retry window — a driver that succeeded exits non-zero and says why (its
 * output may be complete, but the cluster does not say so). One exception, as in Spark: a main that
 * stops its context successfully and then throws leaves SUCCEEDED recorded and still exits 1.
 */
import type { AppReport } from '../../protocol/cluster.js';
import { hasEnded } from '../../protocol/cluster.js';

export interface ClientOutcome {
  appId: string;
  /** what the driver asked the RM to record */
  succeeded: boolean;
  /** the RM's last report (terminal when the end was recorded) */
  report?: AppReport | undefined;
  /** why no terminal report could be had */
  error?: string | undefined;
}

let last: ClientOutcome | undefined;

export function recordClientOutcome(o: ClientOutcome): void {
  last = o;
}

/** The outcome recorded since the last call (once). */
export function takeClientOutcome(): ClientOutcome | undefined {
  const o = last;
  last = undefined;
  return o;
}

export function recordedSucceeded(o: ClientOutcome): boolean {
  return o.report?.state === 'FINISHED' && o.report.finalStatus === 'SUCCEEDED';
}

/** Why a driver that succeeded does not exit 0, for stderr. */
export function disagreement(o: ClientOutcome): string {
  const appId = o.appId;
  const r = o.report;
  const recorded =
    r && hasEnded(r.state)
      ? `the ResourceManager recorded ${r.state}/${r.finalStatus}${r.diagnostics ? `: ${r.diagnostics.split('\n')[0]}` : ''}`
      : `the ResourceManager did not record its end${o.error ? ` (${o.error.split('\n')[0]})` : r ? ` (still ${r.state})` : ''}`;
  return `the driver of ${appId} finished its work, but ${recorded}; exiting non-zero because the cluster's record is what counts (check \`cinder status ${appId}\`)`;
}
