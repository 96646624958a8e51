/**
 * The few conventions shared by the driver (closure capture, imports bundles) and the executor
 * (fn-loader) for how shipped code is laid out. No imports: executors load this without the
 * parser or bundler.
 */

/** How a function's source is wrapped to become an expression: `(src)` or a method shorthand in an object. */
export type FnShape = 'expr' | 'method';

/** Wraps a function's source so it evaluates to the function; the source always starts on line 2. */
export function wrapSource(src: string, shape: FnShape): string {
  return shape === 'expr' ? `(\n${src}\n)` : `Object.values({\n${src}\n})[0]`;
}

/** Line in compiled code (1-based) where the function's source starts (see wrapSource and fn-loader). */
export const SRC_FIRST_LINE = 2;

/** First line of an imports bundle that reads the engine's exports (the executor loads them first). */
export const ENGINE_MARKER = '// cinder:engine';

/**
 * The module specifier an imports bundle uses for the engine ('cinder' in the user's code): the
 * executor replaces it with its own engine's URL when it writes the bundle, so no global is needed.
 */
export const ENGINE_SPECIFIER = 'cinder:engine';

/**
 * The parameter through which the executor hands engine-written functions (rdd.ts's max, min, lookup)
 * the engine helpers they use: `cinder$.compareKeys(a, b)`. Passed to every compiled function factory
 * by src/executor/fn-loader.ts; never a global.
 */
export const ENGINE_PARAM = 'cinder$';

/** What ENGINE_PARAM holds. */
export interface EngineHelpers {
  compareKeys(a: unknown, b: unknown): number;
  mapKey(k: unknown): unknown;
  portableHash(k: unknown): number;
}
