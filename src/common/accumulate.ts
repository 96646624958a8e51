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
