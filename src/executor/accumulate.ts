/**
 * How accumulator values combine: numbers, bigints and strings add, arrays concatenate, plain
 * objects merge key-wise by the same rules. Shared by the executor (task-local values) and the driver.
 */
export function accumulate(a: unknown, b: unknown): unknown {
  if (a === undefined || a === null) return b;
  if (b === undefined || b === null) return a;
  if (Array.isArray(a)) return a.concat(b as unknown[]);
  if (typeof a === 'object') {
    const out: Record<string, unknown> = { ...(a as Record<string, unknown>) };
    for (const [k, v] of Object.entries(b as Record<string, unknown>)) out[k] = accumulate(out[k], v);
    return out;
  }
  return (a as number) + (b as number);
}

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
