/**
 * The task-attempt lifecycle, as a table on the shared machine helper (src/common/machine.ts).
 *
 *   PENDING --launch--> LAUNCHED --running--> RUNNING --finished--> FINISHED
 *                          |                     |----failed-----> FAILED
 *                          |                     |----killed-----> KILLED
 *                          |                     '----lost-------> LOST      (executor lost)
 *                          '--(finished|failed|killed|lost)--> same targets (RUNNING report may be skipped)
 * FINISHED/FAILED/KILLED/LOST are terminal; late reports for them are ignorable (listed, not swallowed).
 */
import { IGNORE, statusMachine } from '../common/machine.js';

export type TaskState = 'PENDING' | 'LAUNCHED' | 'RUNNING' | 'FINISHED' | 'FAILED' | 'KILLED' | 'LOST';
export type TaskEvent = 'launch' | 'running' | 'finished' | 'failed' | 'killed' | 'lost';

// late or duplicate reports after an attempt ended are expected (zombie stage attempts, kills racing finishes)
const ended = { running: IGNORE, finished: IGNORE, failed: IGNORE, killed: IGNORE, lost: IGNORE } as const;

export const taskMachine = statusMachine<TaskState, TaskEvent>(
  'task',
  ['PENDING', 'LAUNCHED', 'RUNNING', 'FINISHED', 'FAILED', 'KILLED', 'LOST'],
  {
    PENDING: { launch: 'LAUNCHED' },
    LAUNCHED: { running: 'RUNNING', finished: 'FINISHED', failed: 'FAILED', killed: 'KILLED', lost: 'LOST' },
    RUNNING: { running: IGNORE, finished: 'FINISHED', failed: 'FAILED', killed: 'KILLED', lost: 'LOST' },
    FINISHED: ended,
    FAILED: ended,
    KILLED: ended,
    LOST: ended,
  },
);

/** Returns the next state, `undefined` for an ignorable event, or throws InvalidTransition. */
export function stepTask(state: TaskState, event: TaskEvent): TaskState | undefined {
  const next = taskMachine.next(state, event);
  return taskMachine.entry(state, event) === IGNORE ? undefined : next;
}
