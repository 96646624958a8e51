/**
 * Where an application's parts run, from its RM report: deploy mode and driver address (tags set by
 * `cinder submit`), the AM's host, and the nodes of its executor containers. For `cinder apps/status`.
 */
import type { AppReport } from '../../protocol/cluster.js';

export interface Placement {
  deployMode: string;
  driver: string;
  am: string;
  executors: string;
}

function tag(r: AppReport, key: string): string | undefined {
  return r.tags.find((t) => t.startsWith(`${key}:`))?.slice(key.length + 1);
}

export function placementOf(r: AppReport): Placement {
  const deployMode = tag(r, 'deploy-mode') ?? '-';
  const containers = r.containers ?? [];
  // the AM is always container n°1 of its attempt
  const am = containers.find((c) => c.id.endsWith('_000001'));
  const perNode = new Map<string, number>();
  for (const c of containers) if (c !== am) perNode.set(c.nodeId, (perNode.get(c.nodeId) ?? 0) + 1);
  const executors = [...perNode].map(([n, k]) => `${n} x${k}`).join(', ') || '-';
  const amWhere = am ? `${am.nodeId} (${am.id})` : (r.amHost ?? '-');
  const driver =
    deployMode === 'client'
      ? `client ${tag(r, 'driver') ?? '?'}`
      : deployMode === 'cluster'
        ? `in the AM${am ? ` on ${am.nodeId}` : r.amHost ? ` on ${r.amHost}` : ''}`
        : '-';
  return { deployMode, driver, am: amWhere, executors };
}
