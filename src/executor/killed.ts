/** The status of a task stopped on request (job cancelled, stage aborted): never counted as a failure. */
import type { TaskStatus } from '../protocol/executor.js';

export function killedStatus(taskId: number, reason: string, runMs?: number): TaskStatus {
  return {
    taskId,
    state: 'KILLED',
    failure: { kind: 'Killed', reason },
    ...(runMs === undefined ? {} : { metrics: { runMs } }),
  };
}
