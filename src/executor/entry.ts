/**
 * Where the executor's entry points live. `npm run build` bundles the executor's main thread and its
 * task thread into one CommonJS file each next to the per-file build (scripts/build.mjs, decision 0007): an
 * executor starts ~0.1 s sooner when Node loads 2 files instead of ~60; a small entry per bundle
 * (`main.entry.cjs`, `worker.entry.cjs`) runs it with a V8 code cache (./code-cache.ts, decision 0030).
 * The per-file modules are used when the bundles are absent (a partial build). Imports nothing of the
 * executor itself.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

function pick(bundled: string, plain: string): string {
  const b = fileURLToPath(new URL(bundled, import.meta.url));
  return fs.existsSync(b) ? b : fileURLToPath(new URL(plain, import.meta.url));
}

/** The executor process's main module (run by the local backend, or by NMs for the AM). */
export const EXECUTOR_MAIN = pick('./main.entry.cjs', './main.js');

/** The task thread module, resolved from the executor main module that starts it. */
export function workerModule(mainUrl: string): string {
  return fileURLToPath(new URL(mainUrl.endsWith('.bundle.cjs') ? './worker.entry.cjs' : './worker.js', mainUrl));
}
