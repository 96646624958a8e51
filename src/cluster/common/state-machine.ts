/**
 * Explicit transition tables for the cluster manager's entities (app, attempt, node, containers).
 * `step` is pure: (state, event) -> next state. A missing entry throws InvalidTransition; transitions
 * that are expected but change nothing are listed with IGNORE rather than silently swallowed.
 * Side effects (persisting, launching, notifying) belong to the daemon that calls step, never here.
 */
import { CinderError } from '../../common/errors.js';

export const IGNORE = Symbol('ignore');
export type Target<S extends string> = S | typeof IGNORE;
export type TransitionTable<S extends string, E extends string> = { readonly [s in S]: Partial<Record<E, Target<S>>> };

export interface Machine<S extends string, E extends string> {
  name: string;
  states: readonly S[];
  events: readonly E[];
  table: TransitionTable<S, E>;
}

export class InvalidTransition extends CinderError {
  constructor(machine: string, state: string, event: string, subject?: string) {
    super(
      'INVALID_TRANSITION',
      `${machine}${subject ? ` ${subject}` : ''}: event ${event} is not valid in state ${state}`,
      'this is a bug or a message out of order; the entity was left unchanged',
    );
    this.name = 'InvalidTransition';
  }
}

export function defineMachine<S extends string, E extends string>(m: Machine<S, E>): Machine<S, E> {
  return m;
}

/** Returns the next state (the same one for an ignored event); throws InvalidTransition on a missing entry. */
export function step<S extends string, E extends string>(m: Machine<S, E>, state: S, event: E, subject?: string): S {
  const t = m.table[state]?.[event];
  if (t === undefined) throw new InvalidTransition(m.name, state, event, subject);
  return t === IGNORE ? state : (t as S);
}

/** True when event is legal (or ignorable) in state. */
export function canStep<S extends string, E extends string>(m: Machine<S, E>, state: S, event: E): boolean {
  return m.table[state]?.[event] !== undefined;
}
