/**
 * The task-attempt state machine, as an explicit transition table.
 *
 *   PENDING --launch--> LAUNCHED --running--> RUNNING --finished--> FINISHED
 *                          |                     |----failed-----> FAILED
 *                          |                     |----killed-----> KILLED
 *                          |                     '----lost-------> LOST      (executor lost)
 *                          '--(finished|failed|killed|lost)--> same targets (RUNNING report may be skipped)
 * FINISHED/FAILED/KILLED/LOST are terminal; late reports for them are ignorable (listed, not swallowed).
 */
export type TaskState = 'PENDING' | 'LAUNCHED' | 'RUNNING' | 'FINISHED' | 'FAILED' | 'KILLED' | 'LOST';
export type TaskEvent = 'launch' | 'running' | 'finished' | 'failed' | 'killed' | 'lost';

export class InvalidTransition extends Error {
  constructor(
    readonly machine: string,
    readonly state: string,
    readonly event: string,
  ) {
    super(`${machine}: event '${event}' is not allowed in state ${state}`);
    this.name = 'InvalidTransition';
  }
}

const IGNORE = 'IGNORE' as const;
type Target = TaskState | typeof IGNORE;

export const TASK_TRANSITIONS: Record<TaskState, Partial<Record<TaskEvent, Target>>> = {
  PENDING: { launch: 'LAUNCHED' },
  LAUNCHED: { running: 'RUNNING', finished: 'FINISHED', failed: 'FAILED', killed: 'KILLED', lost: 'LOST' },
  RUNNING: { running: IGNORE, finished: 'FINISHED', failed: 'FAILED', killed: 'KILLED', lost: 'LOST' },
  // late or duplicate reports after an attempt ended are expected (zombie stage attempts, kills racing finishes)
  FINISHED: { running: IGNORE, finished: IGNORE, failed: IGNORE, killed: IGNORE, lost: IGNORE },
  FAILED: { running: IGNORE, finished: IGNORE, failed: IGNORE, killed: IGNORE, lost: IGNORE },
  KILLED: { running: IGNORE, finished: IGNORE, failed: IGNORE, killed: IGNORE, lost: IGNORE },
  LOST: { running: IGNORE, finished: IGNORE, failed: IGNORE, killed: IGNORE, lost: IGNORE },
};

/** Returns the next state, `undefined` for an ignorable event, or throws InvalidTransition. */
export function stepTask(state: TaskState, event: TaskEvent): TaskState | undefined {
  const t = TASK_TRANSITIONS[state][event];
  if (t === undefined) throw new InvalidTransition('task', state, event);
  return t === IGNORE ? undefined : t;
}
