/** GET /cluster/app/:id: one application (view ACL): its report, attempts and every container. */
import { formatDuration, html, table } from '../../../web/html.js';
import type { Principal } from '../callers.js';
import type { ResourceManager } from '../rm.js';
import { bar, num, rmPage, state, when } from './layout.js';
import { appContainers, yarnAppOf, yarnAttempts } from './model.js';
import { historyLink } from './proxy.js';

export function appPage(rm: ResourceManager, appId: string, who: Principal): string {
  const a = yarnAppOf(rm, appId, who);
  const attempts = yarnAttempts(rm, appId, who);
  const containers = appContainers(rm, appId);
  const logs = (cid: string) => `/cluster/containerlogs/${cid}/${encodeURIComponent(a.user)}`;
  const ui = a.trackingUrl ? new URL(a.trackingUrl).pathname : '';
  const ended = ['FINISHED', 'FAILED', 'KILLED'].includes(a.state);
  const hist = ended ? historyLink(rm, appId) : '';
  const body = html`<div class="kv" id="app-info">
<dt>User</dt><dd>${a.user}</dd><dt>Name</dt><dd>${a.name}</dd><dt>Type</dt><dd>${a.applicationType}</dd>
<dt>Queue</dt><dd>${a.queue}</dd><dt>State</dt><dd id="app-state">${state(a.state)}</dd>
<dt>Final status</dt><dd>${state(a.finalStatus)}</dd><dt>Progress</dt><dd>${bar(a.progress)}</dd>
<dt>Started</dt><dd>${when(a.startedTime)}</dd><dt>Finished</dt><dd>${when(a.finishedTime)}</dd>
<dt>Elapsed</dt><dd>${formatDuration(a.elapsedTime)}</dd>
<dt>Running containers</dt><dd id="app-running">${a.runningContainers}</dd>
<dt>Allocated</dt><dd><span id="app-mb">${a.allocatedMB}</span> MB, <span id="app-vcores">${a.allocatedVCores}</span> vcores</dd>
<dt>AM</dt><dd>${a.amRPCAddress}${a.masterNodeId ? html` on node ${a.masterNodeId}` : ''}</dd>
<dt>Tracking UI</dt><dd>${
    hist
      ? html`<a id="history-link" href="${hist}">History</a>`
      : ui
        ? html`<a id="tracking-link" href="${ui}">${a.trackingUI}</a>`
        : a.trackingUI
  }</dd>
<dt>AM logs</dt><dd>${a.amContainerLogs ? html`<a id="am-logs" href="${new URL(a.amContainerLogs).pathname}">logs</a>` : ''}</dd>
<dt>Log aggregation</dt><dd>${a.logAggregationStatus}</dd>
<dt>Diagnostics</dt><dd><pre id="app-diagnostics">${a.diagnostics}</pre></dd></div>
<h2>Attempts</h2>
${table(
  ['Attempt', 'State', 'Started', 'Finished', 'AM container', 'Node', 'Logs', 'Diagnostics'],
  attempts.map((t) => [
    t.appAttemptId,
    state(t.appAttemptState),
    when(t.startTime),
    when(t.finishedTime),
    t.containerId,
    t.nodeId,
    t.logsLink ? html`<a href="${new URL(t.logsLink).pathname}">logs</a>` : '',
    t.diagnosticsInfo,
  ]),
  'attempts',
)}
<h2>Containers</h2>
${table(
  ['Container', 'Role', 'Attempt', 'Node', 'Memory (MB)', 'VCores', 'State', 'Exit status', 'Diagnostics', 'Logs'],
  containers.map((c) => [
    c.id,
    c.isAm ? 'AM' : 'executor',
    num(c.attempt),
    html`<a href="/cluster/nodes#${c.nodeId}">${c.nodeId}</a>`,
    num(c.memoryMB),
    num(c.vcores),
    state(c.state),
    c.exitStatus === undefined ? '' : num(c.exitStatus),
    c.diagnostics,
    html`<a class="container-logs" href="${logs(c.id)}">logs</a>`,
  ]),
  'containers',
)}`;
  return rmPage(
    appId,
    '/cluster/apps',
    body,
    who.user,
    a.state === 'RUNNING' || a.state === 'ACCEPTED' ? 5 : undefined,
  );
}
