/**
 * File names that come from clients (staged files, link names, log file names) must stay inside
 * their directory: plain names only, no separators, no "." / "..", no NUL. Owns only the check.
 */
import { CinderError } from '../../common/errors.js';

export function checkPlainName(name: string, what: string): string {
  if (
    name.length === 0 ||
    name.length > 255 ||
    name === '.' ||
    name === '..' ||
    name === '__proto__' ||
    name.includes('/') ||
    name.includes('\\') ||
    name.includes('\0')
  )
    throw new CinderError(
      'BAD_FILE_NAME',
      `${what} name ${JSON.stringify(name)} is not allowed: it must be a plain file name (no "/", "\\", "." or "..")`,
      'rename the file, or use path#alias to give it a plain link name',
    );
  return name;
}
