/**
 * Secrets, keys, identities and credentials live in files only their owner may read (0600). One check for
 * all of them, so each says the same thing: which file, its mode, and the chmod that fixes it.
 */
import type fs from 'node:fs';
import { CinderError } from './errors.js';

/** Throws `code` when `file` (whose stat is `st`) is open to group or others; `what` names it ("secret file"). */
export function assertPrivate(file: string, st: fs.Stats, code: string, what: string): void {
  if ((st.mode & 0o077) !== 0)
    throw new CinderError(
      code,
      `${what} ${file} is readable by others (mode ${(st.mode & 0o777).toString(8)})`,
      `chmod 600 ${file}`,
    );
}
