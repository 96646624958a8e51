/**
 * Files of the caches that hold code a process later runs (the V8 code caches of src/executor/code-cache.ts,
 * the compiled apps of src/deploy/client/compile-cache.ts): where they may be read from, and how they are
 * written. Imports only Node built-ins (the executor's entries load it before anything else).
 */
import fs from 'node:fs';
import path from 'node:path';

/** A directory that is this uid's own and closed to group and others: no one else can plant code in it. */
export function isOwnPrivateDir(dir: string): boolean {
  try {
    const st = fs.lstatSync(dir);
    return st.isDirectory() && st.uid === process.getuid?.() && (st.mode & 0o077) === 0;
  } catch {
    return false;
  }
}

/**
 * Writes `data` to `file` whole: into a temporary file beside it (unique per process and thread), renamed
 * over `file`, so a reader sees the old content or the new, never part of it. The temporary file is removed
 * if anything fails; the failure is thrown.
 */
export function writeWhole(file: string, data: string | Buffer, mode: number): void {
  const tmp = path.join(
    path.dirname(file),
    `.${path.basename(file)}.${process.pid}.${Math.random().toString(36).slice(2)}`,
  );
  try {
    fs.writeFileSync(tmp, data, { mode });
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}
