/**
 * Runs a user's application file in this process as the driver: registers the TypeScript loader,
 * passes the app its arguments, and imports it. Used by `cinder submit` (local and client mode) and
 * by the Application Master (cluster mode). Makes sure the context is stopped when the app ends.
 */
import { register } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { TranspiledText } from '../../common/module-text.js';
import { importModule } from '../../executor/code-cache.js';
import { exposeBundledEngine } from './bundled-engine.js';

let registered = false;

/**
 * `transpiled`: TS files already transpiled on this thread, which the hooks thread then serves as they are;
 * `engineFacade`: the module `cinder` resolves to when the CLI runs from its bundle (bundled-engine.ts).
 */
export function registerTsLoader(transpiled: TranspiledText[] = [], engineFacade?: string): void {
  if (registered) return;
  registered = true;
  register(new URL('./ts-loader.js', import.meta.url).href, import.meta.url, { data: { transpiled, engineFacade } });
}

/**
 * Imports the app (its top-level code is the app's main) and waits for it to finish. `hooks: false`
 * (the AM's JavaScript bundle, whose engine imports are file URLs) skips the module hooks and their
 * thread (~150 ms).
 */
export async function runApp(
  appFile: string,
  args: string[],
  opts: { hooks?: boolean; transpiled?: TranspiledText[] } = {},
): Promise<void> {
  if (opts.hooks !== false) registerTsLoader(opts.transpiled, await exposeBundledEngine());
  const abs = path.resolve(appFile);
  process.argv = [process.argv[0]!, abs, ...args];
  try {
    // through the bundle's entry when this runs from a code cache (which has no import() of its own on Node 20)
    await importModule(pathToFileURL(abs).href);
  } catch (e) {
    // positions in the user's source, not in the transpiled code that ran (Node applies no source maps)
    if (e instanceof Error && typeof e.stack === 'string') {
      const [{ remapFileFrames }, { isEngineFile }] = await Promise.all([
        import('../../common/stack.js'),
        import('../../api/imports-bundle.js'),
      ]);
      e.stack = remapFileFrames(e.stack, (f) => !isEngineFile(f));
    }
    throw e;
  }
}
