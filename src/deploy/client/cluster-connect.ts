/**
 * How a submitting client connects: as the user of its identity (--identity, $CINDER_IDENTITY, or — for a development cluster started with `cinder cluster up` whose master matches —
 * its admin identity; see security/client-identity.ts); the RM retry window from the conf; and the
 * pre-flight size check both deploy modes run on a new application.
 */
import { ClusterClient, rmRetryPolicy } from '../../cluster/client.js';
import { resolveIdentity } from '../../cluster/security/client-identity.js';
import type { Conf } from '../../common/conf.js';
import type { Resource } from '../../protocol/cluster.js';
import { type ContainerSize, checkFits } from '../container-sizing.js';

/** A client of the RM at master; `conf` may set how long to wait for a restarting RM (cinder.rm.connect.*). */
export function connectCluster(master: string, conf: Conf = {}, identityFile?: string): Promise<ClusterClient> {
  const identity = resolveIdentity(master, identityFile);
  return ClusterClient.connect(master, { identity, retry: rmRetryPolicy(conf) });
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
