/**
 * The one transition-table helper behind every lifecycle in Cinder (jobs, stages, task sets, tasks,
 * applications, attempts, containers, nodes). A machine is a table: for each status of an entity, the
 * events it accepts and what each one does. An entry is
 *   - a status: the entity moves there and nothing else happens,
 *   - IGNORE: the event is expected in that status and changes nothing (listed, never silently swallowed),
 *   - a handler `(state, event) => { state, effects }` for a transition that computes its next state or
 *     asks for effects.
 * A missing entry is an illegal transition: `step` throws InvalidTransition and the caller's state is
 * untouched.
 *
 * `step` is deterministic and does no I/O: it reads no clock (time arrives inside events) and carries
 * out no effect. The shell that calls it (a daemon, a backend) turns messages, timers and process exits
 * into events and performs the effects it gets back (send, launch, persist, kill). Entities with many
 * instances (the RM's books at 10,000 nodes) may be updated in place by their handlers, as dask's
 * WorkerState is; the contract is the same: everything a transition decides is in its return value.
 */
import { CinderError } from './errors.js';

export const IGNORE: unique symbol = Symbol('ignore');

export interface Transition<S, F> {
  state: S;
  effects: F[];
}

export type Handler<S, E, F> = (state: S, event: E) => Transition<S, F>;
export type Entry<K extends string, S, E, F> = K | typeof IGNORE | Handler<S, E, F>;

export type Table<K extends string, S, E extends { type: string }, F> = {
  readonly [k in K]: { readonly [T in E['type']]?: Entry<K, S, Extract<E, { type: T }>, F> };
};

export interface MachineSpec<K extends string, S, E extends { type: string }, F> {
  /** shown in errors and docs: "stage", "application", "container (NM)" */
  name: string;
  statuses: readonly K[];
  /** the status of a state (identity for plain status machines) */
  status(state: S): K;
  /** the state moved to status k, for plain-status entries */
  moveTo(state: S, k: K): S;
  /** which entity, for error messages */
  subject?(state: S): string;
  table: Table<K, S, E, F>;
}

export interface Machine<K extends string, S, E extends { type: string }, F> extends MachineSpec<K, S, E, F> {
  step(state: S, event: E): Transition<S, F>;
  /** true when `event` is legal (or ignorable) in the state's status */
  accepts(state: S, event: E): boolean;
  /** the raw table entry, for docs and for table-shaped tests */
  entry(k: K, type: E['type']): Entry<K, S, E, F> | undefined;
}

export class InvalidTransition extends CinderError {
  constructor(
    readonly machine: string,
    readonly status: string,
    readonly event: string,
    subject?: string,
  ) {
    super(
      'INVALID_TRANSITION',
      `${machine}${subject ? ` ${subject}` : ''}: event ${event} is not valid in state ${status}`,
      'this is a bug or a message out of order; the entity was left unchanged',
    );
    this.name = 'InvalidTransition';
  }
}

export function defineMachine<K extends string, S, E extends { type: string }, F>(
  spec: MachineSpec<K, S, E, F>,
): Machine<K, S, E, F> {
  const entry = (k: K, type: E['type']) =>
    (spec.table[k] as Record<string, Entry<K, S, E, F> | undefined> | undefined)?.[type];
  return {
    ...spec,
    entry,
    accepts: (s, e) => entry(spec.status(s), e.type) !== undefined,
    step(s, e) {
      const k = spec.status(s);
      const t = entry(k, e.type);
      if (t === undefined) throw new InvalidTransition(spec.name, k, e.type, spec.subject?.(s));
      if (t === IGNORE) return { state: s, effects: [] };
      if (typeof t === 'function') return t(s, e);
      return { state: spec.moveTo(s, t), effects: [] };
    },
  };
}

/** A machine whose whole state is its status (a string) and whose events carry no data. */
export function statusMachine<K extends string, T extends string>(
  name: string,
  statuses: readonly K[],
  table: { readonly [k in K]: { readonly [t in T]?: K | typeof IGNORE } },
): Machine<K, K, { type: T }, never> & { next(k: K, type: T, subject?: string): K } {
  const m = defineMachine<K, K, { type: T }, never>({
    name,
    statuses,
    status: (k) => k,
    moveTo: (_, k) => k,
    table: table as Table<K, K, { type: T }, never>,
  });
  return {
    ...m,
    next(k, type, subject) {
      const t = m.entry(k, type);
      if (t === undefined) throw new InvalidTransition(name, k, type, subject);
      return t === IGNORE ? k : (t as K);
    },
  };
}
