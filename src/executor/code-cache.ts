/**
 * Runs the executor's CommonJS bundles with a V8 code cache (docs/decisions/0030-startup-code-cache.md).
 * Node 20 has no compile cache for modules (`module.enableCompileCache` is Node 22), so the build makes the
 * executor's main thread and task thread one CommonJS file each (scripts/build.mjs) and a small entry
 * compiles it with `vm.Script` and `cachedData`: V8 then skips parsing and compiling what the cache holds
 * (the bundle's top level and every function that had run when the cache was made).
 *
 * The cache is made on the first run of a bundle (or when V8 rejects it: another Node, other flags) at a
 * checkpoint the bundle chooses (`codeCacheCheckpoint`: the task thread after its first task, the main
 * thread once registered, or at its exit), so it holds the functions a job's start runs. It is written next
 * to the bundle (`code-cache/`, the install dir) or else in `~/.cinder/cache/code-cache/`, keyed by a hash of
 * the bundle, Node's version, arch and flags; unreadable or unwritable places are skipped silently.
 * `CINDER_CODE_CACHE_DIR` names another directory, `CINDER_CODE_CACHE=0` turns it off. Imports only Node
 * built-ins.
 */
import { isAscii } from 'node:buffer';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import vm from 'node:vm';
import { isOwnPrivateDir, writeWhole } from '../common/cache-files.js';

/** Set to 0 to load the bundles without a code cache. */
export const CODE_CACHE_ENV = 'CINDER_CODE_CACHE';

/** A directory to keep the caches in instead of the install dir or the home dir. */
export const CODE_CACHE_DIR_ENV = 'CINDER_CODE_CACHE_DIR';

const SAVE = Symbol.for('cinder.codeCache.save');
const STATE = Symbol.for('cinder.codeCache.state');
const IMPORT = Symbol.for('cinder.codeCache.import');

/** How this thread's bundle was compiled: from its cache, without one (one is made), or with the cache off. */
export type CodeCacheState = 'used' | 'made' | 'rejected' | 'off';

/**
 * The directories a cache is looked for and written in: the install dir's (its owner's runs), the user's
 * `~/.cinder/cache`, and a directory of this uid's own in the system's temp dir (NM containers run as a uid
 * that cannot write the install dir, with HOME and TMPDIR in the container's dir, which goes with it).
 */
export function cacheDirs(bundleFile: string): string[] {
  const dir = process.env[CODE_CACHE_DIR_ENV];
  if (dir) return [dir];
  const dirs = [path.join(path.dirname(bundleFile), 'code-cache')];
  if (!process.env.CINDER_CONTAINER_ID) dirs.push(path.join(os.homedir(), '.cinder', 'cache', 'code-cache'));
  const uid = process.getuid?.();
  if (uid !== undefined)
    dirs.push(path.join(process.env.CINDER_CONTAINER_ID ? '/tmp' : os.tmpdir(), `cinder-code-cache-${uid}`));
  return dirs;
}

/**
 * A code cache is code: it is read only from a directory its reader trusts. A directory in a shared temp
 * dir must be this uid's own and closed to others (else anyone could plant bytecode in our executors).
 */
function trusted(dir: string): boolean {
  return !path.basename(dir).startsWith('cinder-code-cache-') || isOwnPrivateDir(dir);
}

/**
 * The cache file name: the bundle's name and a hash of everything that makes V8 reject a cache (its
 * flags) or that V8 does not check (the source's content: it compares only its length), so a cache is
 * never used with code it was not made from.
 */
export function cacheName(bundleFile: string, sourceHash: string): string {
  const h = crypto.createHash('sha256');
  for (const part of [process.version, process.arch, process.execArgv.join(' '), sourceHash])
    h.update(part).update('\0');
  return `${path.basename(bundleFile)}-${h.digest('hex').slice(0, 20)}.v8`;
}

function readCache(dirs: string[], name: string): Buffer | undefined {
  for (const d of dirs) {
    try {
      if (trusted(d)) return fs.readFileSync(path.join(d, name));
    } catch {}
  }
  return undefined;
}

/**
 * Removes the caches of `bundleFile`'s earlier builds from `dir` (made before the bundle was written), so
 * a directory that outlives builds (the home dir's, the temp dir's) does not fill up with them. Caches of
 * the same build under other flags stay.
 */
function pruneStale(dir: string, bundleFile: string): void {
  try {
    const builtAt = fs.statSync(bundleFile).mtimeMs;
    const prefix = `${path.basename(bundleFile)}-`;
    for (const f of fs.readdirSync(dir)) {
      if (!f.startsWith(prefix) || !f.endsWith('.v8')) continue;
      const p = path.join(dir, f);
      if (fs.statSync(p).mtimeMs < builtAt) fs.rmSync(p, { force: true });
    }
  } catch {} // another process pruned or wrote at the same time: the next write prunes again
}

function writeCache(dirs: string[], name: string, data: Buffer, bundleFile: string): void {
  for (const d of dirs) {
    try {
      fs.mkdirSync(d, { recursive: true, mode: path.basename(d).startsWith('cinder-code-cache-') ? 0o700 : 0o755 });
      if (!trusted(d)) continue;
      writeWhole(path.join(d, name), data, 0o644);
      pruneStale(d, bundleFile);
      return;
    } catch {} // the next place, if any
  }
}

/**
 * The bundle's text. The build writes it as ASCII (scripts/build.mjs escapes what esbuild leaves, e.g. a
 * dash in a comment), which V8 keeps as a one-byte string: decoding ~650 KB as Latin-1 cost ~0.5 ms, as
 * UTF-8 ~2.2 ms (one non-ASCII character makes the whole text two-byte). Other text is read as UTF-8.
 */
function readSource(file: string): string {
  const buf = fs.readFileSync(file);
  return buf.toString(isAscii(buf) ? 'latin1' : 'utf8');
}

/**
 * Runs `bundleFile` (CommonJS) as this thread's main code, from the code cache when there is a usable one.
 * `sourceHash`: the bundle's content hash, computed by the build that wrote it (else here). Returns whether
 * the cache was used.
 */
export function runCachedBundle(bundleFile: string, sourceHash?: string): boolean {
  const source = readSource(bundleFile);
  const enabled = process.env[CODE_CACHE_ENV] !== '0';
  const dirs = cacheDirs(bundleFile);
  const hash = sourceHash ?? (enabled ? crypto.createHash('sha256').update(source).digest('hex').slice(0, 20) : '');
  const name = enabled ? cacheName(bundleFile, hash) : '';
  const cachedData = enabled ? readCache(dirs, name) : undefined;
  // one line of wrapper before the source keeps the bundle's line numbers in stack traces
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: bundleFile,
    cachedData,
  });
  const used = cachedData !== undefined && !script.cachedDataRejected;
  const state: CodeCacheState = !enabled ? 'off' : used ? 'used' : cachedData ? 'rejected' : 'made';
  (globalThis as Record<symbol, unknown>)[STATE] = state;
  if (enabled && !used) {
    let saved = false;
    const save = () => {
      if (saved) return;
      saved = true;
      try {
        writeCache(dirs, name, script.createCachedData(), bundleFile);
      } catch {} // the cache is an optimisation: never a reason for the executor to fail
    };
    (globalThis as Record<symbol, unknown>)[SAVE] = save;
    process.once('exit', save);
  }
  // `import()` in a script compiled from a code cache has no loader on Node 20 (the script's
  // importModuleDynamically is lost with the cache): the bundle's dynamic imports go through this module's
  (globalThis as Record<symbol, unknown>)[IMPORT] = (url: string) => import(url);
  const mod = { exports: {} };
  const fn = script.runInThisContext() as (...args: unknown[]) => void;
  fn.call(mod.exports, mod.exports, createRequire(bundleFile), mod, bundleFile, path.dirname(bundleFile));
  return used;
}

/**
 * Called by the bundled code once it has run what a job's start needs: makes the cache then (synchronously,
 * a few ms, so an executor stopped right after cannot cut it short), when this thread was started without a
 * usable one. Does nothing otherwise, and only the first call of a thread does anything.
 */
export function codeCacheCheckpoint(): void {
  const save = (globalThis as Record<symbol, unknown>)[SAVE] as (() => void) | undefined;
  save?.();
}

/** How this thread's code was loaded, for the start-up trace: 'used', 'made', 'rejected', 'off' or 'none' (not a bundle). */
export function codeCacheState(): CodeCacheState | 'none' {
  return ((globalThis as Record<symbol, unknown>)[STATE] as CodeCacheState | undefined) ?? 'none';
}

/**
 * `import(url)` for code in the bundles (an absolute URL): through the entry's loader when the code runs
 * from `runCachedBundle`, directly otherwise (the per-file build).
 */
export function importModule(url: string): Promise<unknown> {
  const viaEntry = (globalThis as Record<symbol, unknown>)[IMPORT] as ((u: string) => Promise<unknown>) | undefined;
  return viaEntry ? viaEntry(url) : import(url);
}
