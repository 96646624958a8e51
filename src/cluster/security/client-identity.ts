/**
 * Which identity a client uses: --identity FILE, else $CINDER_IDENTITY, else — for a development
 * cluster whose master matches (or when no master is named) — its admin identity DIR/admin.identity
 * ($CINDER_DEV_DIR or the default dir), so the quick start needs no setup. CINDER_USER confers nothing.
 */
import { CinderError } from '../../common/errors.js';
import type { UserIdentity } from '../../protocol/cluster.js';
import { defaultDevDir, readDevCluster } from '../dev-dir.js';
import { IDENTITY_HINT, readIdentity } from './identity.js';

const norm = (m: string) => m.replace(/^cinder:\/\//, '').replace(/\/$/, '');

export function identityFileFor(master: string | undefined, file?: string, devDir?: string): string | undefined {
  if (file) return file;
  if (process.env.CINDER_IDENTITY) return process.env.CINDER_IDENTITY;
  const dev = readDevCluster(devDir ?? process.env.CINDER_DEV_DIR ?? defaultDevDir());
  if (dev?.identityFile && (!master || norm(dev.master) === norm(master))) return dev.identityFile;
  return undefined;
}

export function resolveIdentity(master: string | undefined, file?: string, devDir?: string): UserIdentity {
  const f = identityFileFor(master, file, devDir);
  if (!f)
    throw new CinderError('NO_IDENTITY', `no user identity for the cluster at ${master ?? '(none)'}`, IDENTITY_HINT);
  return readIdentity(f);
}
