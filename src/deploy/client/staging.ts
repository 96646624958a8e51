/**
 * Stages an application's files on the ResourceManager (content-addressed, checked there):
 * `--files` and `--archives` (with `path#alias` link names) and, for cluster mode, the app itself:
 * bundled with esbuild keeping one output module per user source file (code splitting), so the
 * driver in the AM still sees each module's imports, then packed in memory as a .tgz archive (tar.ts).
 */

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type * as Esbuild from 'esbuild';
import type { ClusterClient } from '../../cluster/client.js';
import { CinderError } from '../../common/errors.js';
import { esbuild } from '../../common/lazy-esbuild.js';
import { AM_LAUNCH_FILE } from '../../protocol/am-launch.js';
import type { LocalResource } from '../../protocol/cluster.js';
import { compileError } from './compile-check.js';
import { tarGz } from './tar.js';

export const APP_LINK = '__app__';

/**
 * Names in a container's dir that are not the user's: the app bundle, the executor's work dir and the
 * NM's tmp dir for isolated containers. A `--files`/`--archives` link with one of them would replace
 * them, so it is refused at submit.
 */
export const RESERVED_LINKS: readonly string[] = [
  APP_LINK,
  `${APP_LINK}.tgz`,
  AM_LAUNCH_FILE,
  'cinder-work',
  '.cinder-tmp',
];

/**
 * The engine's own sources: an app that imports them by path, or imports `cinder`, gets the engine
 * installed on the node instead, by its file URL (the engine is installed at the same path on every
 * node, as the AM's and executors' commands already assume). So the AM imports a JavaScript bundle
 * without module hooks, whose thread costs ~150 ms of its start (src/deploy/run-app.ts).
 */
const ENGINE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const engineDirs = [path.join(ENGINE_ROOT, 'src'), path.join(ENGINE_ROOT, 'build', 'src')];
const ENGINE_URL = pathToFileURL(path.join(ENGINE_ROOT, 'build', 'src', 'index.js')).href;
const engineExternal: Esbuild.Plugin = {
  name: 'cinder-engine-external',
  setup(b) {
    b.onResolve({ filter: /^cinder$/ }, () => ({ path: ENGINE_URL, external: true }));
    b.onResolve({ filter: /^\.{1,2}\// }, (args) => {
      const abs = path.resolve(args.resolveDir, args.path);
      return engineDirs.some((d) => abs.startsWith(d + path.sep)) ? { path: ENGINE_URL, external: true } : undefined;
    });
  },
};

/** Splits `path#alias` into the source path and the link name; refuses names that could escape the cwd. */
export function linkOf(spec: string): { file: string; link: string } {
  const [file, alias] = spec.split('#') as [string, string | undefined];
  const link = alias ?? path.basename(file);
  if (!link || link === '.' || link === '..' || link.includes('/') || link.includes('\\'))
    throw new CinderError(
      'BAD_ARGUMENT',
      `invalid link name '${link}' in '${spec}'`,
      'use path#name with a plain file name',
    );
  if (RESERVED_LINKS.includes(link))
    throw new CinderError(
      'BAD_ARGUMENT',
      `link name '${link}' in '${spec}' is reserved: the container's ${link === 'cinder-work' || link === '.cinder-tmp' ? 'work dir' : 'app bundle'} has it`,
      `give the file another name with ${file}#other-name`,
    );
  return { file, link };
}

export async function stageFiles(
  client: ClusterClient,
  appId: string,
  files: string[],
  archives: string[],
): Promise<Record<string, LocalResource>> {
  const out: Record<string, LocalResource> = {};
  const add = async (spec: string, type: 'FILE' | 'ARCHIVE') => {
    const { file, link } = linkOf(spec);
    if (out[link])
      throw new CinderError(
        'BAD_ARGUMENT',
        `two resources use the link name '${link}'`,
        'give one of them another #alias',
      );
    const st = fs.statSync(file, { throwIfNoEntry: false });
    if (!st?.isFile()) throw new CinderError('INPUT_NOT_FOUND', `${file} does not exist or is not a file`);
    const r = await client.uploadFile(appId, link, fs.readFileSync(file));
    out[link] = { ...r, type };
  };
  for (const f of files) await add(f, 'FILE');
  for (const a of archives) await add(a, 'ARCHIVE');
  return out;
}

/** Bundles the app for the AM; returns the archive bytes and the entry module's path inside it. */
export async function packageApp(app: string): Promise<{ archive: Buffer; entry: string }> {
  const probe = await esbuild()
    .build({
      entryPoints: [app],
      bundle: true,
      write: false,
      metafile: true,
      platform: 'node',
      format: 'esm',
      external: ['cinder'],
      plugins: [engineExternal],
      logLevel: 'silent',
    })
    .catch((e: unknown) => {
      throw compileError(app, e);
    });
  const inputs = Object.keys(probe.metafile!.inputs)
    .filter((f) => !f.includes('node_modules') && !f.startsWith('<'))
    .map((f) => path.resolve(f));
  const outbase = commonDir(inputs);
  // nothing is written: outdir only names the outputs, which stay in memory and go into the archive
  const outdir = path.join(os.tmpdir(), 'cinder-app');
  const built = await esbuild().build({
    entryPoints: inputs,
    outdir,
    outbase,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: 'linked',
    external: ['cinder'],
    plugins: [engineExternal],
    outExtension: { '.js': '.mjs' },
    banner: {
      js: "import { createRequire as __cinderCreateRequire } from 'node:module'; const require = __cinderCreateRequire(import.meta.url);",
    },
    write: false,
    logLevel: 'silent',
  });
  const files = built.outputFiles.map((f) => ({
    path: path.relative(outdir, f.path).split(path.sep).join('/'),
    data: f.contents,
  }));
  const entry = path.relative(outbase, app).replace(/\.(m|c)?[jt]sx?$/, '.mjs');
  return { archive: tarGz(files), entry: path.join(APP_LINK, entry) };
}

function commonDir(files: string[]): string {
  let dir = path.dirname(files[0]!);
  for (const f of files) while (!f.startsWith(dir + path.sep)) dir = path.dirname(dir);
  return dir;
}
