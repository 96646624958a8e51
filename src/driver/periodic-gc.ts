/**
 * Shuffle files, broadcasts and accumulators are released when the RDDs and variables that use them
 * are garbage collected (Spark's ContextCleaner); a long-lived driver with a small heap may go a long
 * time without a full GC, so one is run periodically, like spark.cleaner.periodicGC.interval.
 */
import v8 from 'node:v8';
import vm from 'node:vm';

/** Runs a full GC every intervalMs (none if intervalMs <= 0); returns the function that stops it. */
export function startPeriodicGc(intervalMs: number): () => void {
  if (!(intervalMs > 0)) return () => {};
  // taken at the first tick, not at start: it needs a new V8 context (~7 ms of every driver's start-up)
  let gc = (globalThis as { gc?: () => void }).gc;
  const timer = setInterval(() => {
    gc ??= exposedGc();
    gc();
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

function exposedGc(): () => void {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  // the flags as they were: V8 keys code caches by its flags, and the CLI bundle's cache is made at exit
  // (decision 0035); a flag left changed would make every later run reject it
  v8.setFlagsFromString('--no-expose-gc');
  return gc;
}
