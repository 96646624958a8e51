/**
 * esbuild, loaded on first use: the driver needs it only when a shipped function imports modules or
 * the app is TypeScript, and loading it eagerly adds ~50 ms to every process that imports the engine.
 */
import { createRequire } from 'node:module';
import type * as Esbuild from 'esbuild';

let mod: typeof Esbuild | undefined;

export function esbuild(): typeof Esbuild {
  mod ??= createRequire(import.meta.url)('esbuild') as typeof Esbuild;
  return mod;
}
