/** GET /cluster/scheduler: every queue (parents and leaves) with its shares, usage and apps. */
import { html, type Raw, table } from '../../../web/html.js';
import type { ResourceManager } from '../rm.js';
import { bar, num, rmPage, state } from './layout.js';
import { type YarnQueue, yarnScheduler } from './model.js';

function rows(q: YarnQueue, depth: number): Raw[][] {
  const own: Raw[] = [
    html`<span style="padding-left:${depth * 16}px" data-queue="${q.queuePath}">${q.queueName}</span>`,
    state(q.state),
    num(q.capacity),
    num(q.maxCapacity),
    num(q.absoluteCapacity),
    html`<span class="num" data-used="${q.queuePath}">${q.absoluteUsedCapacity}</span>`,
    bar(q.usedCapacity),
    num(q.resourcesUsed.memory),
    num(q.resourcesUsed.vCores),
    html`<span class="num" data-running="${q.queuePath}">${q.numActiveApplications ?? ''}</span>`,
    html`<span class="num" data-pending="${q.queuePath}">${q.numPendingApplications ?? ''}</span>`,
    num(q.numContainers ?? ''),
    q.type
      ? html`<a href="/cluster/apps?queue=${encodeURIComponent(q.queueName)}">apps</a>`
      : html`<span class="muted">parent</span>`,
  ];
  return [own, ...(q.queues?.queue ?? []).flatMap((c) => rows(c, depth + 1))];
}

export function schedulerPage(rm: ResourceManager, user: string): string {
  const s = yarnScheduler(rm).scheduler.schedulerInfo;
  const body = html`<p>Capacity scheduler. Root used capacity: <b id="root-used">${s.usedCapacity}</b>% of the cluster's memory.</p>
${table(
  [
    'Queue',
    'State',
    'Capacity %',
    'Max capacity %',
    'Absolute capacity %',
    'Absolute used %',
    'Used of guarantee',
    'Memory used (MB)',
    'VCores used',
    'Running apps',
    'Pending apps',
    'Containers',
    '',
  ],
  s.queues.queue.flatMap((q) => rows(q, 0)),
  'queues',
)}`;
  return rmPage('Scheduler', '/cluster/scheduler', body, user, 5);
}
