// Task-side function of thread-death.test.ts (imported, so it is shipped with the closures that call it).
import fs from 'node:fs';
import path from 'node:path';

/**
 * Ends the task thread (process.exit in a worker thread ends only that thread) the first time a task of
 * one of the `dying` partitions runs, elected by an O_EXCL marker file in dir; returns the partition's
 * records otherwise.
 */
export function exitThreadOnce<T>(dir: string, i: number, dying: number[], records: T[]): T[] {
  if (dying.includes(i)) {
    try {
      fs.writeFileSync(path.join(dir, `died-${i}`), '', { flag: 'wx' });
      process.exit(7);
    } catch {} // claimed by an earlier attempt: run normally
  }
  return records;
}
