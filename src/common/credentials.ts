/**
 * Secrets a process receives in a 0600 file named by $CINDER_CREDENTIALS_FILE (in a container, the NM
 * writes it into the container's dir; local mode writes one per executor): the per-app secret, an AM's
 * token. Never in env or argv, so /proc/PID/environ and `ps` do not show them. `takeCredentials` reads
 * the file once, deletes it and the variable (user subprocesses inherit neither), and keeps the values
 * in this module only.
 */
import fs from 'node:fs';
import { CinderError } from './errors.js';
import { assertPrivate } from './private-file.js';

export const CREDENTIALS_ENV = 'CINDER_CREDENTIALS_FILE';

let taken: Record<string, string> | undefined;

export function takeCredentials(): Record<string, string> {
  if (taken) return taken;
  const file = process.env[CREDENTIALS_ENV];
  taken = {};
  if (!file) return taken;
  try {
    const st = fs.statSync(file);
    assertPrivate(file, st, 'INSECURE_CREDENTIALS', 'credentials file');
    taken = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, string>;
  } catch (e) {
    if (e instanceof CinderError) throw e;
    throw new CinderError('NO_CREDENTIALS', `cannot read the credentials file ${file}: ${(e as Error).message}`);
  } finally {
    fs.rmSync(file, { force: true });
    delete process.env[CREDENTIALS_ENV];
  }
  return taken;
}

/** Writes credentials to a new 0600 file (created exclusively: an existing file or link is refused). */
export function writeCredentials(file: string, creds: Record<string, string>): void {
  fs.rmSync(file, { force: true });
  fs.writeFileSync(file, JSON.stringify(creds), { mode: 0o600, flag: 'wx' });
}
