/**
 * Where token keys come from. The RM's master key (signs AM and user tokens) is 32 random bytes in
 * <rm dir>/master.key (0600), created on first use and kept across restarts so identities and AM tokens
 * survive an RM restart; it never leaves the RM host. The container-token key is derived from the
 * cluster (daemon) secret, so NodeManagers can verify container tokens without it being sent anywhere.
 */
import { createHmac, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { CinderError } from '../../common/errors.js';
import { assertPrivate } from '../../common/private-file.js';

export function masterKeyFile(rmDir: string): string {
  return path.join(rmDir, 'master.key');
}

/** The RM's master key, created (0600) when absent; refuses a file others can read. */
export function loadOrCreateMasterKey(rmDir: string): Buffer {
  const file = masterKeyFile(rmDir);
  fs.mkdirSync(rmDir, { recursive: true, mode: 0o700 });
  if (!fs.existsSync(file)) {
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, randomBytes(32).toString('hex'), { mode: 0o600 });
    // two processes creating it at once: the first rename wins, both then read the same key
    try {
      fs.linkSync(tmp, file);
    } catch {}
    fs.rmSync(tmp, { force: true });
  }
  const st = fs.statSync(file);
  assertPrivate(file, st, 'INSECURE_KEY', 'master key');
  const hex = fs.readFileSync(file, 'utf8').trim();
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new CinderError('BAD_KEY', `master key ${file} is not 64 hex digits`);
  return Buffer.from(hex, 'hex');
}

/** The container-token key, the same on the RM and every NM of a cluster. */
export function containerTokenKey(clusterSecret: string): Buffer {
  return createHmac('sha256', clusterSecret).update('cinder-container-token-key-v1').digest();
}
