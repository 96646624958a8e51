/**
 * Driver-side input path expansion (Hadoop FileInputFormat.listStatus semantics): comma lists, directories
 * (their files, non-recursive), globs in any segment, hidden-file filtering. Owns turning a user's `paths`
 * string into a list of regular files with sizes; it must not read file contents or plan splits.
 *
 * Rules:
 * - `paths` is one path or a comma-separated list (commas inside `{a,b}` do not separate). Relative paths resolve
 *   against the driver's cwd; `file:` URIs are accepted; other schemes are refused.
 * - A directory contributes its regular files, sorted by name; sub-directories are ignored (non-recursive).
 * - A glob's matches are sorted; a matched directory contributes its files as above.
 * - Hidden files (`.x`, `_x`, e.g. `_SUCCESS`, `.crc`) found by listing a directory or a glob are skipped.
 *   A file named explicitly (no glob) is always used.
 * - A missing path, or a glob matching nothing, throws CinderError('INPUT_NOT_FOUND'). An existing empty
 *   directory yields no files (no error), like Hadoop.
 * - Files are not de-duplicated: naming a file twice reads it twice, like Hadoop.
 */
import type { Dirent, Stats } from 'node:fs';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CinderError } from '../common/errors.js';
import { globToRegExp, hasGlob, splitPathList } from './glob.js';

export interface InputFile {
  /** Absolute path. */
  path: string;
  /** Size in bytes at planning time. */
  size: number;
}

/** True for names Hadoop's hiddenFileFilter skips: `_SUCCESS`, `_temporary`, `.part-00000.crc`… */
export function isHiddenName(name: string): boolean {
  return name.startsWith('_') || name.startsWith('.');
}

/**
 * Expands `paths` into absolute file paths (see module header for the rules).
 * @example await expandPaths('/data/logs/2024-*,/data/extra.txt')
 */
export async function expandPaths(paths: string): Promise<string[]> {
  return listInputFilesSync(paths).map((f) => f.path);
}

/** Like expandPaths, with each file's size. */
export async function listInputFiles(paths: string): Promise<InputFile[]> {
  return listInputFilesSync(paths);
}

/**
 * The listing itself is synchronous: RDD sources such as textFile() are planned when they are
 * called (transformations are synchronous, as in PySpark), and a listing is a few stat calls.
 */
export function listInputFilesSync(paths: string): InputFile[] {
  const parts = splitPathList(paths);
  if (parts.length === 0) {
    throw new CinderError('INPUT_NOT_FOUND', `No input path given (got '${paths}')`, 'pass a file, directory or glob');
  }
  const out: InputFile[] = [];
  for (const p of parts) out.push(...expandOne(p));
  return out;
}

function toLocalPath(p: string): string {
  if (p.startsWith('file://')) return fileURLToPath(p);
  if (p.startsWith('file:')) return p.slice('file:'.length);
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]+):\/\//.exec(p);
  if (scheme) {
    throw new CinderError(
      'UNSUPPORTED_FS',
      `Input path '${p}' uses the '${scheme[1]}' scheme, which Cinder cannot read`,
      'use a local path or a shared file system mounted on every node (NFS etc.)',
    );
  }
  return path.resolve(p);
}

function statOrUndefined(p: string): Stats | undefined {
  try {
    return fs.statSync(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') {
      return undefined;
    }
    throw e;
  }
}

function expandOne(userPath: string): InputFile[] {
  const abs = toLocalPath(userPath);
  if (!hasGlob(abs)) {
    const st = statOrUndefined(abs);
    if (!st) {
      throw new CinderError(
        'INPUT_NOT_FOUND',
        `Input path does not exist: ${userPath}${abs !== userPath ? ` (resolved to ${abs})` : ''}`,
        `check the spelling; relative paths resolve against the driver's working directory (${process.cwd()})`,
      );
    }
    return st.isDirectory() ? listDir(abs) : [{ path: abs, size: st.size }];
  }
  const matches = globMatches(abs);
  const visible: { path: string; st: Stats }[] = [];
  for (const m of matches) {
    if (isHiddenName(path.basename(m))) continue;
    const st = statOrUndefined(m);
    if (st) visible.push({ path: m, st });
  }
  if (visible.length === 0) {
    // a literal name that merely looks like a glob (`report[1].txt`) is still found
    const st = statOrUndefined(abs);
    if (st) return st.isDirectory() ? listDir(abs) : [{ path: abs, size: st.size }];
    throw new CinderError(
      'INPUT_NOT_FOUND',
      `Input pattern ${userPath} matches 0 files`,
      'check the pattern (hidden files starting with "." or "_" are never matched); ' +
        `relative paths resolve against ${process.cwd()}`,
    );
  }
  const out: InputFile[] = [];
  for (const v of visible) {
    if (v.st.isDirectory()) out.push(...listDir(v.path));
    else out.push({ path: v.path, size: v.st.size });
  }
  return out;
}

/** Non-hidden regular files (symlinks followed) directly inside dir, sorted by name. */
function listDir(dir: string): InputFile[] {
  const entries = fs.readdirSync(dir, { withFileTypes: true }).filter((e) => !isHiddenName(e.name));
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const out: InputFile[] = [];
  for (const e of entries) {
    const st = statEntry(dir, e);
    if (st?.isFile()) out.push({ path: path.join(dir, e.name), size: st.size });
  }
  return out;
}

function statEntry(dir: string, e: Dirent): Stats | undefined {
  if (e.isDirectory()) return undefined;
  return statOrUndefined(path.join(dir, e.name));
}

/** All existing paths matching an absolute glob, sorted. Globs may appear in any segment. */
function globMatches(abs: string): string[] {
  const root = path.parse(abs).root;
  const segments = abs
    .slice(root.length)
    .split('/')
    .filter((s) => s.length > 0);
  let current = [root];
  for (const seg of segments) {
    const next: string[] = [];
    if (!hasGlob(seg)) {
      const lit = seg.replace(/\\(.)/g, '$1');
      for (const c of current) next.push(path.join(c, lit));
    } else {
      const re = globToRegExp(seg);
      for (const c of current) {
        let names: string[];
        try {
          names = fs.readdirSync(c);
        } catch {
          continue; // not a directory, or gone: contributes nothing
        }
        names.sort();
        for (const n of names) if (re.test(n)) next.push(path.join(c, n));
      }
    }
    current = next;
    if (current.length === 0) break;
  }
  return current;
}
