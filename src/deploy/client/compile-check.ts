/**
 * Checks that an application compiles (syntax, resolvable imports) before anything is staged or
 * started, with esbuild, and reports errors with file:line.
 */
import * as esbuild from 'esbuild';
import { CinderError } from '../../common/errors.js';

export async function checkCompiles(app: string): Promise<void> {
  try {
    await esbuild.build({
      entryPoints: [app],
      bundle: true,
      write: false,
      platform: 'node',
      format: 'esm',
      external: ['cinder'],
      logLevel: 'silent',
    });
  } catch (e) {
    throw compileError(app, e);
  }
}

/** The CinderError for an esbuild failure on the user's app: file:line: message for the first errors. */
export function compileError(app: string, e: unknown): CinderError {
  const errors = (e as { errors?: esbuild.Message[] }).errors ?? [];
  const lines = errors
    .slice(0, 5)
    .map((m) => `  ${m.location ? `${m.location.file}:${m.location.line}:${m.location.column}: ` : ''}${m.text}`);
  return new CinderError(
    'APP_DOES_NOT_COMPILE',
    `application ${app} does not compile:\n${lines.join('\n') || (e as Error).message}`,
    'fix the errors above; nothing was started',
  );
}
