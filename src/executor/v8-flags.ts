/**
 * V8 flags for an executor's task threads, set once per process before its threads start.
 *
 * Task threads start with their young generation at its full size (half of youngMb per semi-space). V8
 * starts a worker's semi-space at 1 MB and grows it only as scavenges find survivors, so a thread's first
 * map tasks scavenged several times as often as its later ones (wordfreq: 100-220 ms of GC in each of the
 * first tasks, 40-50 ms in later ones). The flag is read when an isolate is made, so it reaches the task
 * threads started after it is set and not the executor's main thread (decision 0031).
 *
 * The executor's process entry sets it before it compiles the main bundle: a V8 code cache records the
 * flags in force when it is made, and one made after a flag changed is rejected at the next start, whose
 * compile runs before the change (decision 0030). Imports only Node built-ins.
 */
import v8 from 'node:v8';

/** the young generation of a task thread, MB (the executor's command sets the same maximum) */
export const TASK_THREAD_YOUNG_MB = 64;

/** Sets the task threads' flags; setting them again with the same value changes nothing. */
export function applyTaskThreadFlags(youngMb = TASK_THREAD_YOUNG_MB): void {
  v8.setFlagsFromString(`--min-semi-space-size=${youngMb / 2}`);
}
