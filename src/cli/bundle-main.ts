/**
 * The entry of the CLI bundle (decision 0035): `cinder submit` runs the CLI, the driver and the engine as
 * one CommonJS file (build/src/cli/cli.bundle.cjs, built by scripts/build.mjs) from a V8 code cache
 * (cli.entry.cjs runs it through src/executor/code-cache.ts, as the executors' bundles are run): Node 20
 * cannot cache the compiled code of ES modules, and compiling the ~110 the driver loads was the largest
 * part of its start. The app's own `import 'cinder'` is given this bundle's engine
 * (src/deploy/driver/bundled-engine.ts).
 */
import { useBundledEngine } from '../deploy/driver/bundled-engine.js';
import { main } from './main.js';
import * as submit from './submit.js';

useBundledEngine(() => import('../index.js'));
// `submit` only: the other commands run from the per-file modules (bin/cinder.js)
void main(async () => [submit]);
