/**
 * How a submitting client finds the cluster secret: CINDER_SECRET, CINDER_SECRET_FILE, or — for a
 * development cluster started with `cinder cluster up` — the secret file recorded in its directory
 * ($CINDER_DEV_DIR or the default) when the master URL matches.
 */
import { ClusterClient } from '../cluster/client.js';
import { defaultDevDir, readDevCluster } from '../cluster/devcluster.js';

export function clientSecretFile(master: string): string | undefined {
  if (process.env.CINDER_SECRET || process.env.CINDER_SECRET_FILE) return undefined;
  const info = readDevCluster(process.env.CINDER_DEV_DIR ?? defaultDevDir());
  return info && info.master.replace(/\/$/, '') === master.replace(/\/$/, '') ? info.secretFile : undefined;
}

export function connectCluster(master: string): Promise<ClusterClient> {
  const secretFile = clientSecretFile(master);
  return ClusterClient.connect(master, secretFile ? { secretFile } : {});
}
