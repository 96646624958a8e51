/**
 * Checks that an application compiles (syntax, resolvable imports) before anything is staged or
 * started, with esbuild, and reports errors with file:line.
 */
import path from 'node:path';
import type * as Esbuild from 'esbuild';
import { isEngineFile } from '../../api/imports-bundle.js';
import { CinderError } from '../../common/errors.js';
import { esbuild } from '../../common/lazy-esbuild.js';

/**
 * The engine imported by path (`../src/index.js` from a file inside this install, as the bench's job.js
 * does) is the engine, like `cinder`: not part of the app (not checked, not among its sources).
 */
const engineByPath: Esbuild.Plugin = {
  name: 'engine-by-path',
  setup(b) {
    b.onResolve({ filter: /^(\.|\/)/ }, (args) => {
      const p = path.resolve(args.resolveDir, args.path);
      return isEngineFile(p) ? { path: p, external: true } : undefined;
    });
  },
};

/** Returns the app's own source files (absolute paths, not node_modules) that the check read. */
export async function checkCompiles(app: string): Promise<string[]> {
  try {
    const r = await esbuild().build({
      entryPoints: [app],
      bundle: true,
      write: false,
      platform: 'node',
      format: 'esm',
      external: ['cinder'],
      plugins: [engineByPath],
      logLevel: 'silent',
      metafile: true,
    });
    return Object.keys(r.metafile.inputs)
      .filter((f) => !f.includes('node_modules') && !f.startsWith('<') && !f.includes(':'))
      .map((f) => path.resolve(f));
  } catch (e) {
    throw compileError(app, e);
  }
}

/** The CinderError for an esbuild failure on the user's app: file:line: message for the first errors. */
export function compileError(app: string, e: unknown): CinderError {
  const errors = (e as { errors?: Esbuild.Message[] }).errors ?? [];
  const lines = errors
    .slice(0, 5)
    .map((m) => `  ${m.location ? `${m.location.file}:${m.location.line}:${m.location.column}: ` : ''}${m.text}`);
  return new CinderError(
    'APP_DOES_NOT_COMPILE',
    `application ${app} does not compile:\n${lines.join('\n') || (e as Error).message}`,
    'fix the errors above; nothing was started',
  );
}
