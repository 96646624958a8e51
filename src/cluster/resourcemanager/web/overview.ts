/** GET /cluster: the cluster's apps, containers, memory and vcores (clusterMetrics) and its nodes. */
import { html, table } from '../../../web/html.js';
import type { ResourceManager } from '../rm.js';
import { bar, num, rmPage, state } from './layout.js';
import { yarnClusterInfo, yarnMetrics, yarnNodes } from './model.js';

export function overviewPage(rm: ResourceManager, user: string): string {
  const m = yarnMetrics(rm).clusterMetrics;
  const info = yarnClusterInfo(rm).clusterInfo;
  const nodes = yarnNodes(rm);
  const pct = (a: number, t: number) => (t > 0 ? (a * 100) / t : 0);
  const metric = (label: string, key: keyof typeof m) =>
    html`<tr><th>${label}</th><td class="num" data-metric="${key}">${m[key]}</td></tr>`;
  const body = html`<div class="kv"><dt>Cluster id</dt><dd>${info.id}</dd><dt>Version</dt><dd>${info.resourceManagerVersion}</dd>
<dt>Started</dt><dd>${new Date(info.startedOn).toISOString()}</dd></div>
<h2>Applications</h2>
<table id="app-metrics" style="width:auto;min-width:280px"><tbody>${metric('Submitted', 'appsSubmitted')}${metric('Pending', 'appsPending')}${metric('Running', 'appsRunning')}${metric('Completed', 'appsCompleted')}${metric('Failed', 'appsFailed')}${metric('Killed', 'appsKilled')}</tbody></table>
<h2>Resources</h2>
<table id="resource-metrics"><thead><tr><th></th><th class="num">Used</th><th class="num">Available</th><th class="num">Pending</th><th class="num">Total</th><th>Usage</th></tr></thead><tbody>
<tr><th>Memory (MB)</th><td class="num" data-metric="allocatedMB">${m.allocatedMB}</td><td class="num" data-metric="availableMB">${m.availableMB}</td><td class="num" data-metric="pendingMB">${m.pendingMB}</td><td class="num" data-metric="totalMB">${m.totalMB}</td><td>${bar(pct(m.allocatedMB, m.totalMB))}</td></tr>
<tr><th>VCores</th><td class="num" data-metric="allocatedVirtualCores">${m.allocatedVirtualCores}</td><td class="num" data-metric="availableVirtualCores">${m.availableVirtualCores}</td><td class="num" data-metric="pendingVirtualCores">${m.pendingVirtualCores}</td><td class="num" data-metric="totalVirtualCores">${m.totalVirtualCores}</td><td>${bar(pct(m.allocatedVirtualCores, m.totalVirtualCores))}</td></tr>
<tr><th>Containers</th><td class="num" data-metric="containersAllocated">${m.containersAllocated}</td><td></td><td class="num" data-metric="containersPending">${m.containersPending}</td><td></td><td></td></tr>
</tbody></table>
<h2>Nodes</h2>
<table id="node-metrics" style="width:auto;min-width:280px"><tbody>${metric('Total', 'totalNodes')}${metric('Active', 'activeNodes')}${metric('Lost', 'lostNodes')}${metric('Shut down', 'shutdownNodes')}</tbody></table>
${table(
  ['Node', 'State', 'Containers', 'Memory used / total (MB)', 'VCores used / total', 'Usage'],
  nodes.map((n) => [
    html`<a href="/cluster/nodes#${n.id}">${n.id}</a>`,
    state(n.state),
    num(n.numContainers),
    `${n.usedMemoryMB} / ${n.totalResource.memory}`,
    `${n.usedVirtualCores} / ${n.totalResource.vCores}`,
    bar(pct(n.usedMemoryMB, n.totalResource.memory)),
  ]),
  'overview-nodes',
)}`;
  return rmPage('Cluster overview', '/cluster', body, user, 5);
}
