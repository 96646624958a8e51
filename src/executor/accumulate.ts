/** The executor's side of accumulators: a task's own values, merged into the driver's once per successful task. */
import { accumulate } from '../common/accumulate.js';

/**
 * The task-local face of an accumulator on an executor: add() only; the driver reads the total, and
 * reading `value` here throws, as in PySpark. An accumulator with a custom param (`terms`) keeps the
 * terms added, which the driver folds with its addInPlace.
 */
export class TaskAccumulator {
  /** what goes back to the driver with the task's result */
  partial: unknown = undefined;
  constructor(
    readonly id: number,
    private readonly terms = false,
  ) {}
  add(v: unknown): void {
    if (this.terms) ((this.partial as unknown[] | undefined) ?? (this.partial = [])).push(v);
    else this.partial = accumulate(this.partial, v);
  }
  get value(): never {
    throw new Error(
      `Accumulator.value cannot be accessed inside tasks (accumulator ${this.id}); read it on the driver after the action`,
    );
  }
}
