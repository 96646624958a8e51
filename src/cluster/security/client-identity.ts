/**
 * Which identity a client uses: --identity FILE, else $CINDER_IDENTITY, else — for a development
 * cluster whose master matches (or when no master is named) — its admin identity DIR/admin.identity
 * ($CINDER_DEV_DIR or the default dir), so the quick start needs no setup; else, when
 * $CINDER_SECRET_FILE names a dev cluster's secret (a dev cluster in another dir, set up the way clients
 * found it before identities existed), the admin identity beside it. CINDER_USER confers nothing.
 */
import fs from 'node:fs';
import path from 'node:path';
import { CinderError } from '../../common/errors.js';
import type { UserIdentity } from '../../protocol/cluster.js';
import { defaultDevDir, readDevCluster } from '../dev-dir.js';
import { IDENTITY_HINT, readIdentity } from './identity.js';

const norm = (m: string) => m.replace(/^cinder:\/\//, '').replace(/\/$/, '');

export function identityFileFor(master: string | undefined, file?: string, devDir?: string): string | undefined {
  if (file) return file;
  if (process.env.CINDER_IDENTITY) return process.env.CINDER_IDENTITY;
  const dev = readDevCluster(devDir ?? (process.env.CINDER_DEV_DIR || defaultDevDir()));
  if (dev?.identityFile && (!master || norm(dev.master) === norm(master))) return dev.identityFile;
  // whoever can read a dev cluster's daemon secret controls that cluster anyway
  const secret = process.env.CINDER_SECRET_FILE;
  const beside = secret ? path.join(path.dirname(secret), 'admin.identity') : undefined;
  if (beside && fs.existsSync(beside)) return beside;
  return undefined;
}

export function resolveIdentity(master: string | undefined, file?: string, devDir?: string): UserIdentity {
  const f = identityFileFor(master, file, devDir);
  if (!f)
    throw new CinderError('NO_IDENTITY', `no user identity for the cluster at ${master ?? '(none)'}`, IDENTITY_HINT);
  return readIdentity(f);
}
