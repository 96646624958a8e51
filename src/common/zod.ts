/**
 * The one place the engine imports zod from. `npm run build` replaces this module's output with zod
 * bundled into a single file (scripts/build.mjs): loading zod's ~120 ESM files took ~100 ms of every
 * process start (CLI, AM, executors), the single file ~40 ms. See docs/decisions/0006-vendor-zod.md.
 */
export { z } from 'zod';
