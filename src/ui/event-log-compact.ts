/**
 * Compaction of a rolled event log (Spark's spark.history.fs.eventLog.rolling.maxFilesToRetain, done by
 * the writer): once more than `retain` closed parts exist, the oldest are merged into one, without the
 * events of jobs that ended within them (their job, stage and task events). What is still live — the
 * application, environment, executors, jobs still running, cached RDDs — is kept, so a long-lived app's
 * log stays bounded and replays to its current state, minus the detail of old finished jobs.
 */
import type { SparkEvent } from './spark-events.js';

/** The lines (JSON events) to keep from `lines`, in order. */
export function compactEvents(lines: readonly string[]): string[] {
  const events = lines.map((l) => {
    try {
      return JSON.parse(l) as SparkEvent;
    } catch {
      return undefined;
    }
  });
  const ended = new Set<number>();
  const stagesOf = new Map<number, number[]>();
  for (const e of events) {
    if (e?.Event === 'SparkListenerJobStart') stagesOf.set(e['Job ID'] as number, (e['Stage IDs'] as number[]) ?? []);
    if (e?.Event === 'SparkListenerJobEnd') ended.add(e['Job ID'] as number);
  }
  const liveStages = new Set<number>();
  for (const [job, stages] of stagesOf) if (!ended.has(job)) for (const s of stages) liveStages.add(s);
  const dropStages = new Set<number>();
  for (const job of ended) for (const s of stagesOf.get(job) ?? []) if (!liveStages.has(s)) dropStages.add(s);
  const out: string[] = [];
  events.forEach((e, i) => {
    if (!e) return;
    const job = e['Job ID'] as number | undefined;
    if (
      (e.Event === 'SparkListenerJobStart' || e.Event === 'SparkListenerJobEnd') &&
      job !== undefined &&
      ended.has(job)
    )
      return;
    const stage =
      (e['Stage ID'] as number | undefined) ??
      (e['Stage Info'] as { 'Stage ID'?: number } | undefined)?.['Stage ID'] ??
      undefined;
    if (stage !== undefined && dropStages.has(stage) && e.Event !== 'SparkListenerJobStart') return;
    out.push(lines[i] as string);
  });
  return out;
}
