/**
 * The executor's task statuses on their way to the driver, in batches (one StatusUpdates message each).
 *
 * When to send: at the end of the current tick when no task waits in this executor's queue for a
 * thread, because then the driver must soon learn that it can send more; while tasks still wait (the
 * driver sent short tasks ahead of free threads), statuses are held until the queue runs dry, `maxBatch`
 * of them wait, or `holdMs` passed, so a stream of short tasks costs one message per several tasks
 * instead of one or two per task. A RUNNING status whose task's final status is in the same batch is
 * dropped: the final status says everything the driver needs.
 *
 * Owns: batching and coalescing. Must not: know about threads or connections (the caller gives `send`
 * and says how many tasks wait).
 */
import type { TaskStatus } from '../protocol/executor.js';

export interface OutboxOptions {
  send(updates: TaskStatus[]): void;
  /** tasks received from the driver that no thread holds yet */
  waiting(): number;
  /** longest a status is held while tasks wait (ms) */
  holdMs?: number;
  /** statuses that are sent at once however many tasks wait */
  maxBatch?: number;
  /** injected timers (tests) */
  setImmediate?: (f: () => void) => unknown;
  setTimeout?: (f: () => void, ms: number) => { unref?(): unknown };
  clearTimeout?: (t: unknown) => void;
}

export const STATUS_HOLD_MS = 2;
export const STATUS_MAX_BATCH = 64;

/** The batch without RUNNING statuses of tasks whose final status is in it too (order kept). */
export function coalesceStatuses(updates: TaskStatus[]): TaskStatus[] {
  let ended: Set<number> | undefined;
  for (const u of updates) if (u.state !== 'RUNNING') (ended ??= new Set()).add(u.taskId);
  if (!ended) return updates;
  const done = ended;
  return updates.filter((u) => u.state !== 'RUNNING' || !done.has(u.taskId));
}

export class StatusOutbox {
  private box: TaskStatus[] = [];
  private immediate = false;
  private timer: unknown;
  private readonly holdMs: number;
  private readonly maxBatch: number;

  constructor(private readonly o: OutboxOptions) {
    this.holdMs = o.holdMs ?? STATUS_HOLD_MS;
    this.maxBatch = o.maxBatch ?? STATUS_MAX_BATCH;
  }

  report(s: TaskStatus): void {
    this.box.push(s);
    this.schedule();
  }

  /** Sends at the end of this tick if the statuses should not wait any longer (call when the queue shrinks). */
  schedule(): void {
    if (this.box.length === 0 || this.immediate) return;
    if (this.o.waiting() === 0 || this.box.length >= this.maxBatch) {
      this.immediate = true;
      (this.o.setImmediate ?? setImmediate)(() => this.flush());
    } else if (this.timer === undefined) {
      const t = (this.o.setTimeout ?? setTimeout)(() => {
        this.timer = undefined;
        this.flush();
      }, this.holdMs);
      t.unref?.();
      this.timer = t;
    }
  }

  /** Sends every held status now. */
  flush(): void {
    this.immediate = false;
    if (this.timer !== undefined) {
      (this.o.clearTimeout ?? clearTimeout)(this.timer as NodeJS.Timeout);
      this.timer = undefined;
    }
    if (this.box.length === 0) return;
    const updates = coalesceStatuses(this.box);
    this.box = [];
    this.o.send(updates);
  }
}
