/** GET /cluster/nodes: every node with its capacity and use, and the containers it runs. */
import { html, table } from '../../../web/html.js';
import type { ResourceManager } from '../rm.js';
import { appLink, bar, num, rmPage, state, when } from './layout.js';
import { nodeContainers, yarnNodes } from './model.js';

export function nodesPage(rm: ResourceManager, user: string): string {
  const nodes = yarnNodes(rm);
  const body = html`${table(
    [
      'Node',
      'Host',
      'HTTP',
      'State',
      'Last heartbeat',
      'Containers',
      'Memory used / total (MB)',
      'VCores used / total',
      'Usage',
      'Labels',
      'Health',
    ],
    nodes.map((n) => [
      html`<a href="#${n.id}">${n.id}</a>`,
      n.nodeHostName,
      n.nodeHTTPAddress,
      state(n.state),
      when(n.lastHealthUpdate),
      num(n.numContainers),
      `${n.usedMemoryMB} / ${n.totalResource.memory}`,
      `${n.usedVirtualCores} / ${n.totalResource.vCores}`,
      bar(n.totalResource.memory ? (n.usedMemoryMB * 100) / n.totalResource.memory : 0),
      n.nodeLabels.join(', '),
      n.healthReport,
    ]),
    'nodes',
  )}
${nodes.map(
  (n) =>
    html`<h2 id="${n.id}">Node ${n.id}</h2>${table(
      ['Container', 'Application', 'Role', 'Memory (MB)', 'VCores', 'State'],
      nodeContainers(rm, n.id).map((c) => [
        c.id,
        appLink(c.appId),
        c.isAm ? 'AM' : 'executor',
        num(c.resource.memoryMB),
        num(c.resource.vcores),
        state(c.state),
      ]),
    )}`,
)}`;
  return rmPage('Nodes', '/cluster/nodes', body, user, 5);
}
