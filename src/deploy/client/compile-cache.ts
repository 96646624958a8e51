/**
 * What `cinder submit` learned by compiling an app, kept for the next submit of the same files
 * (decision 0034): the app's own source files and the transpiled text of its TypeScript files. When every
 * one of those files still has the content it had (size and SHA-256), the next local or client-mode
 * submit skips esbuild altogether (its service process, the bundling check and the transforms: ~50 ms of
 * CPU and ~30 ms of a tiny job's start), as `python` reuses its `.pyc` files. Any change to any of them, a
 * file gone, another engine or esbuild version: the app is compiled and checked again, and the entry
 * replaced. A changed dependency in node_modules is not tracked: an import that no longer resolves then
 * fails when the app loads (Node's message) instead of in the check.
 *
 * The entries are code the driver runs, so they live in the user's own `~/.cinder/cache/apps` (0700 dir,
 * 0600 files, written whole and renamed into place) and are read only from a directory that is this uid's
 * and closed to others. `CINDER_COMPILE_CACHE=0` turns it off; `CINDER_COMPILE_CACHE_DIR` names another
 * directory. A cache that cannot be read or written only costs the compile.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { isOwnPrivateDir, writeWhole } from '../../common/cache-files.js';
import type { TranspiledText } from '../../common/module-text.js';
import { VERSION } from '../../common/version.js';

export const COMPILE_CACHE_ENV = 'CINDER_COMPILE_CACHE';
export const COMPILE_CACHE_DIR_ENV = 'CINDER_COMPILE_CACHE_DIR';

/** The app's own files (absolute paths) and the transpiled text of its TypeScript ones. */
export interface CompiledApp {
  sources: string[];
  transpiled: TranspiledText[];
}

interface Entry {
  v: 1;
  /** engine and esbuild versions the texts were made with */
  made: string;
  app: string;
  files: Array<{ file: string; size: number; sha256: string }>;
  transpiled: Array<{ file: string; code: string; map: string }>;
}

/** How a submit got its app compiled: from the cache, compiled and stored, or with the cache off. */
export type CompileCacheState = 'used' | 'made' | 'off';

const TS = /\.(m|c)?tsx?$/;

function on(): boolean {
  return process.env[COMPILE_CACHE_ENV] !== '0';
}

function dir(): string {
  return process.env[COMPILE_CACHE_DIR_ENV] || path.join(os.homedir(), '.cinder', 'cache', 'apps');
}

let made: string | undefined;

/** What the texts are made with (read once: a submit that compiles asks when it looks up and when it stores). */
function madeBy(): string {
  made ??= versions();
  return made;
}

function versions(): string {
  let esbuildVersion = '?';
  try {
    // read, not required: requiring it would look like loading esbuild itself
    const pkg = createRequire(import.meta.url).resolve('esbuild/package.json');
    esbuildVersion = (JSON.parse(fs.readFileSync(pkg, 'utf8')) as { version: string }).version;
  } catch {
    /* no version to key on: entries still differ by engine version */
  }
  return `cinder ${VERSION}, esbuild ${esbuildVersion}, node ${process.versions.node}`;
}

function entryFile(app: string): string {
  return path.join(dir(), `${crypto.createHash('sha256').update(app).digest('hex').slice(0, 24)}.json`);
}

function sha256(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** The app as compiled by an earlier submit, if none of its files changed since; undefined otherwise. */
export function lookupCompiled(app: string): CompiledApp | undefined {
  if (!on() || !isOwnPrivateDir(dir())) return undefined;
  try {
    const file = entryFile(app);
    const st = fs.lstatSync(file);
    if (!st.isFile() || st.uid !== process.getuid?.()) return undefined;
    const e = JSON.parse(fs.readFileSync(file, 'utf8')) as Entry;
    if (e.v !== 1 || e.app !== app || e.made !== madeBy()) return undefined;
    const mtimes = new Map<string, number>();
    for (const f of e.files) {
      const s = fs.statSync(f.file, { throwIfNoEntry: false });
      if (!s?.isFile() || s.size !== f.size || sha256(f.file) !== f.sha256) return undefined;
      mtimes.set(f.file, s.mtimeMs);
    }
    const now = new Date();
    fs.utimesSync(file, now, now); // recently used: kept when older entries are pruned
    return {
      sources: e.files.map((f) => f.file),
      transpiled: e.transpiled.map((t) => ({ ...t, mtimeMs: mtimes.get(t.file) ?? -1 })),
    };
  } catch {
    return undefined;
  }
}

/** Entries kept at most: the oldest go first (an app last submitted long ago, or from a temp dir). */
const MAX_ENTRIES = 200;

/**
 * Keeps what this submit compiled; says whether it did. Files that changed while it compiled (their mtime
 * is not the one their text was made from) are not kept: the next submit compiles again.
 */
export function storeCompiled(app: string, c: CompiledApp): CompileCacheState | 'not kept' {
  if (!on()) return 'off';
  try {
    const byFile = new Map(c.transpiled.map((t) => [t.file, t]));
    const files: Entry['files'] = [];
    for (const file of c.sources) {
      const s = fs.statSync(file);
      const t = byFile.get(file);
      // a TypeScript file kept without its text would need esbuild again: keep nothing
      if (t ? s.mtimeMs !== t.mtimeMs : TS.test(file)) return 'not kept';
      files.push({ file, size: s.size, sha256: sha256(file) });
    }
    const entry: Entry = {
      v: 1,
      made: madeBy(),
      app,
      files,
      transpiled: c.transpiled.map(({ file, code, map }) => ({ file, code, map })),
    };
    const d = dir();
    fs.mkdirSync(d, { recursive: true, mode: 0o700 });
    if (!isOwnPrivateDir(d)) return 'not kept';
    writeWhole(entryFile(app), JSON.stringify(entry), 0o600);
    prune(d);
    return 'made';
  } catch {
    // a cache we cannot write only costs the next submit its compile
    return 'not kept';
  }
}

function prune(d: string): void {
  const names = fs.readdirSync(d).filter((n) => n.endsWith('.json'));
  if (names.length <= MAX_ENTRIES) return;
  const byAge = names
    .map((n) => ({ f: path.join(d, n), t: fs.statSync(path.join(d, n), { throwIfNoEntry: false })?.mtimeMs ?? 0 }))
    .sort((a, b) => a.t - b.t);
  for (const { f } of byAge.slice(0, names.length - MAX_ENTRIES)) fs.rmSync(f, { force: true });
}
