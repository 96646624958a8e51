/** GET /cluster/apps?state=&user=&queue=: applications, newest first, filterable as YARN's list is. */
import { formatDuration, html, table } from '../../../web/html.js';
import type { Principal } from '../callers.js';
import type { ResourceManager } from '../rm.js';
import { appLink, bar, num, rmPage, state, when } from './layout.js';
import { yarnApps } from './model.js';

const STATES = ['NEW', 'SUBMITTED', 'ACCEPTED', 'RUNNING', 'FINISHED', 'FAILED', 'KILLED'];

export interface AppsQuery {
  state?: string;
  user?: string;
  queue?: string;
}

export function appsPage(rm: ResourceManager, q: AppsQuery, who: Principal): string {
  const st = (q.state ?? '').toUpperCase();
  const apps = yarnApps(
    rm,
    { states: st && STATES.includes(st) ? [st] : undefined, user: q.user || undefined, queue: q.queue || undefined },
    who,
  );
  const body = html`<form class="filters" method="get" action="/cluster/apps" id="app-filters">
<label>State <select name="state" id="f-state"><option value="">any</option>${STATES.map(
    (s) => html`<option value="${s}"${s === st ? html` selected` : ''}>${s}</option>`,
  )}</select></label>
<label>User <input name="user" id="f-user" value="${q.user ?? ''}" size="12"></label>
<label>Queue <input name="queue" id="f-queue" value="${q.queue ?? ''}" size="12"></label>
<button type="submit">Filter</button> <a href="/cluster/apps">clear</a></form>
<p><span id="app-count">${apps.length}</span> application(s)</p>
${table(
  [
    'Id',
    'User',
    'Name',
    'Type',
    'Queue',
    'Started',
    'Elapsed',
    'State',
    'Final status',
    'Containers',
    'Memory (MB)',
    'VCores',
    'Progress',
    'Tracking UI',
  ],
  apps.map((a) => [
    appLink(a.id),
    a.user,
    a.name,
    a.applicationType,
    a.queue,
    when(a.startedTime),
    formatDuration(a.elapsedTime),
    state(a.state),
    state(a.finalStatus),
    num(a.runningContainers),
    num(a.allocatedMB),
    num(a.allocatedVCores),
    bar(a.progress),
    a.trackingUrl ? html`<a href="${new URL(a.trackingUrl).pathname}">${a.trackingUI}</a>` : a.trackingUI,
  ]),
  'apps',
)}`;
  return rmPage('Applications', '/cluster/apps', body, who.user, 5);
}
