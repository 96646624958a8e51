/**
 * How a submitting client finds the cluster secret: CINDER_SECRET, CINDER_SECRET_FILE, or — for a
 * development cluster started with `cinder cluster up` — the secret file recorded in its directory
 * ($CINDER_DEV_DIR or the default) when the master URL matches; the RM retry window from the conf; and
 * the pre-flight size check both deploy modes run on a new application.
 */
import { ClusterClient, rmRetryPolicy } from '../cluster/client.js';
import { defaultDevDir, readDevCluster } from '../cluster/devcluster.js';
import type { Conf } from '../common/conf.js';
import type { Resource } from '../protocol/cluster.js';
import { type ContainerSize, checkFits } from './container-sizing.js';

export function clientSecretFile(master: string): string | undefined {
  if (process.env.CINDER_SECRET || process.env.CINDER_SECRET_FILE) return undefined;
  const info = readDevCluster(process.env.CINDER_DEV_DIR ?? defaultDevDir());
  return info && info.master.replace(/\/$/, '') === master.replace(/\/$/, '') ? info.secretFile : undefined;
}

/** A client of the RM at master; `conf` may set how long to wait for a restarting RM (cinder.rm.connect.*). */
export function connectCluster(master: string, conf: Conf = {}): Promise<ClusterClient> {
  const secretFile = clientSecretFile(master);
  return ClusterClient.connect(master, { ...(secretFile ? { secretFile } : {}), retry: rmRetryPolicy(conf) });
}

/**
 * The pre-flight check of both deploy modes: when a container could never be allocated, the new
 * application is killed (so it does not linger as NEW) and the RESOURCE_TOO_LARGE error is thrown.
 */
export async function rejectUnlessFits(
  client: ClusterClient,
  appId: string,
  containers: ContainerSize[],
  max: Resource,
): Promise<void> {
  try {
    checkFits(containers, max);
  } catch (e) {
    await client.kill(appId, 'rejected before submission').catch(() => {});
    throw e;
  }
}
