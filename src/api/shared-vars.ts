/**
 * Broadcast variables and accumulators. Both are captured into shipped functions by reference
 * (SHIP_REF), never by value: a broadcast value travels once per executor, and an accumulator's
 * task-local updates come back with each successful task and are merged exactly once.
 */

import { accumulate } from '../common/accumulate.js';
import { CinderError } from '../common/errors.js';
import { SHIP_REF } from './closure.js';

/** The shipped ref keeps its variable alive (non-enumerable: never serialized) as long as a lineage uses it. */
function keepAlive<R extends object>(ref: R, owner: object): R {
  Object.defineProperty(ref, 'owner', { value: owner, enumerable: false });
  return ref;
}

/**
 * A read-only value sent once to each executor (sc.broadcast). Capture it and read `.value` in functions.
 * @example const lookup = sc.broadcast(new Map([[1, 'a']])); rdd.map((k) => lookup.value.get(k), { lookup })
 */
export class Broadcast<T> {
  private destroyed = false;
  constructor(
    readonly id: number,
    private readonly v: T,
    private readonly onDestroy: (id: number) => void,
  ) {}
  /** The value (on the driver, and inside functions on executors). */
  get value(): T {
    if (this.destroyed) throw new CinderError('BROADCAST_DESTROYED', `broadcast ${this.id} was destroyed`);
    return this.v;
  }
  /** PySpark's unpersist: executors keep their copy until the broadcast is destroyed or unreachable. */
  unpersist(_blocking = false): void {}
  /** Releases the value on the driver; using it in a task afterwards fails. */
  destroy(_blocking = false): void {
    this.destroyed = true;
    this.onDestroy(this.id);
  }
  [SHIP_REF](): { t: 'b'; id: number } {
    if (this.destroyed)
      throw new CinderError('BROADCAST_DESTROYED', `broadcast ${this.id} was destroyed and cannot be used in a task`);
    return { t: 'b', id: this.id };
  }
}

/** PySpark's AccumulatorParam: how a custom accumulator's values combine. */
export interface AccumulatorParam<T> {
  /** the zero value for a type like `value` (PySpark's zero) */
  zero(value: T): T;
  /** a + b (may change and return a) */
  addInPlace(a: T, b: T): T;
}

/**
 * A variable tasks add to (sc.accumulator); the driver reads the total after an action. Each successful
 * task's additions count once (a retried task's do not count twice).
 * @example const acc = sc.accumulator(0); await rdd.foreach((x) => acc.add(x), { acc }); acc.value // the sum
 */
export class Accumulator<T> {
  private v: T;
  constructor(
    readonly id: number,
    initial: T,
    private readonly param?: AccumulatorParam<T>,
  ) {
    this.v = initial;
  }
  /** Total of all successful tasks' updates (read it on the driver). */
  get value(): T {
    return this.v;
  }
  set value(v: T) {
    this.v = v;
  }
  add(term: T): void {
    this.v = this.param ? this.param.addInPlace(this.v, term) : (accumulate(this.v, term) as T);
  }
  /** internal: merge a task's update (with a custom param: the terms the task added, in order) */
  merge(update: unknown): void {
    if (this.param) for (const t of update as T[]) this.v = this.param.addInPlace(this.v, t);
    else this.v = accumulate(this.v, update) as T;
  }
  [SHIP_REF](): { t: 'a'; id: number; terms?: true } {
    return keepAlive(this.param ? { t: 'a', id: this.id, terms: true } : { t: 'a', id: this.id }, this);
  }
  toString(): string {
    return String(this.v);
  }
}
