/**
 * Synchronous input listing and split planning for the driver: RDD transformations such as
 * textFile() are synchronous (as in PySpark), so their partitions are planned at call time.
 * Same rules as paths.ts/splits.ts (see their headers); the planning itself is shared (textSplitsOf).
 */
import type { Dirent, Stats } from 'node:fs';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CinderError } from '../common/errors.js';
import { globToRegExp, hasGlob, splitPathList } from './glob.js';
import { type InputFile, isHiddenName } from './paths.js';
import { type TextSplit, textSplitsOf, type WholeFilesSplit, wholeFilesSplitsOf } from './splits.js';

export function planTextSplitsSync(paths: string, minPartitions: number): TextSplit[] {
  return textSplitsOf(listInputFilesSync(paths), minPartitions);
}

export function planWholeFilesSync(paths: string, minPartitions: number): WholeFilesSplit[] {
  return wholeFilesSplitsOf(listInputFilesSync(paths), minPartitions);
}

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
