/**
 * The engine an app gets when `cinder submit` runs from the CLI bundle (decision 0035). The CLI, the
 * driver and the engine then run as one CommonJS file from a V8 code cache (src/cli/bundle-main.ts), so
 * the app's `import 'cinder'` must reach that same engine, not load the per-file ES modules as a second
 * copy (whose CinderContext the submit would never see). The bundle's entry names a loader here; before
 * the app is imported the engine's exports are put under a global symbol, and the TS loader's hooks
 * resolve `cinder` to a generated module (build/src/cli/engine-facade.js) that re-exports them.
 * Outside the bundle (the per-file build, the AM, tests) nothing is set and `cinder` resolves as usual.
 */
const ENGINE_KEY = Symbol.for('cinder.bundledEngine');

let loadEngine: (() => Promise<object>) | undefined;

/** Called by the bundle's entry only: how to get the bundle's own engine (loaded lazily, on first use). */
export function useBundledEngine(load: () => Promise<object>): void {
  loadEngine = load;
}

/**
 * When this process runs from the CLI bundle: exposes its engine for the facade module and returns that
 * module's URL (for the loader hooks). Undefined otherwise.
 */
export async function exposeBundledEngine(): Promise<string | undefined> {
  if (!loadEngine) return undefined;
  (globalThis as Record<symbol, unknown>)[ENGINE_KEY] = await loadEngine();
  return new URL('../../cli/engine-facade.js', import.meta.url).href;
}
