/**
 * The application UI's HTML pages (Spark's jobs, stages, storage, environment, executors tabs, plus
 * an event timeline and the deploy topology), rendered on the server from the same objects the REST
 * API answers with (./rest-views.ts), so what a browser shows and what REST says agree. The live
 * driver and the history server use these pages alike; `base` prefixes every link (the RM proxy path
 * or the history server's /history/<appId>).
 */
import { formatBytes, formatDuration, html, type NavLink, page, type Raw, raw, table } from '../web/html.js';
import type { AppStore, StageRec } from './app-store.js';
import {
  environmentInfo,
  executorSummary,
  jobData,
  type LiveExecutor,
  rddStorageInfo,
  stageData,
  stagesOf,
  taskData,
  taskSummary,
} from './rest-views.js';

export interface PageCtx {
  store: AppStore;
  /** prefix of every link: '' on the driver, the proxy path behind the RM, /history/<id> on the history server */
  base: string;
  /** prefix of /static links (the daemon's static files) */
  staticBase: string;
  live: boolean;
  liveExecutor?(id: string): LiveExecutor | undefined;
  /** extra actions on the executors page (driver only): CPU profile / heap snapshot links */
  profiling?: boolean;
  now: number;
}

const MAX_TASK_ROWS = 1000;

const NAV: NavLink[] = [
  { href: '/jobs/', label: 'Jobs' },
  { href: '/stages/', label: 'Stages' },
  { href: '/timeline/', label: 'Timeline' },
  { href: '/storage/', label: 'Storage' },
  { href: '/environment/', label: 'Environment' },
  { href: '/executors/', label: 'Executors' },
  { href: '/topology/', label: 'Topology' },
];

function layout(c: PageCtx, title: string, active: string, body: Raw, scripts = false): string {
  const a = c.store.app;
  const head = html`<p class="muted" id="app-head">${a.name} · <code>${a.id}</code> · ${
    c.store.completed ? 'finished' : 'running'
  } · started ${new Date(a.startTime).toISOString()}${a.topology ? ` · ${a.topology.deployMode} mode` : ''}</p>`;
  const s = scripts
    ? raw(
        `<script src="${c.staticBase}/static/lib/dagre.js"></script><script src="${c.staticBase}/static/cinder-dag.js"></script>`,
      )
    : '';
  return page({
    title,
    product: c.live ? 'Cinder application' : 'Cinder history',
    nav: NAV,
    active,
    base: c.base,
    body: html`${head}${body}${s}`,
    ...(c.live && !c.store.completed ? { refreshSeconds: 2 } : {}),
  }).replace(`href="${c.base}/static/cinder.css"`, `href="${c.staticBase}/static/cinder.css"`);
}

const date = (ms: number | undefined) =>
  ms === undefined ? '' : new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
const dur = (from: number | undefined, to: number | undefined, now: number) =>
  from === undefined ? '' : formatDuration((to ?? now) - from);
const state = (s: string) => html`<span class="state ${s}">${s}</span>`;

function bar(done: number, total: number, running: number, failed = 0): Raw {
  const pct = (n: number) => (total > 0 ? Math.min(100, (100 * n) / total) : 0);
  return html`<div class="bar" title="${done} of ${total} done, ${running} running${failed ? `, ${failed} failed` : ''}"><span class="ok" style="width:${pct(done)}%"></span><span style="left:${pct(done)}%;width:${pct(running)}%"></span></div><span class="counts">${done}/${total}${running ? ` (${running} running)` : ''}${failed ? ` (${failed} failed)` : ''}</span>`;
}

export function jobsPage(c: PageCtx): string {
  const s = c.store;
  const rows = [...s.jobs.values()].reverse().map((j) => {
    const d = jobData(s, j);
    const stagesTotal = j.stageIds.length;
    return [
      html`<a href="${c.base}/jobs/job/?id=${j.jobId}">${j.jobId}</a>`,
      html`${j.name}${j.error ? html`<div class="muted">${j.error}</div>` : ''}`,
      date(j.submissionTime),
      dur(j.submissionTime, j.completionTime, c.now),
      html`${d.numCompletedStages}/${stagesTotal}${d.numSkippedStages ? ` (${d.numSkippedStages} skipped)` : ''}`,
      bar(d.numCompletedTasks, d.numTasks - d.numSkippedTasks, d.numActiveTasks, d.numFailedTasks),
      state(j.status),
    ];
  });
  const a = s.app;
  const body = html`<dl class="kv"><dt>User</dt><dd>${a.user}</dd><dt>Total uptime</dt><dd>${dur(a.startTime, a.endTime, c.now)}</dd><dt>Jobs</dt><dd id="job-count">${s.jobs.size}</dd><dt>Executors</dt><dd>${[...s.executors.values()].filter((e) => e.removeTime === undefined).length}</dd></dl>
${table(['Job Id', 'Description', 'Submitted', 'Duration', 'Stages: Succeeded/Total', 'Tasks (for all stages): Succeeded/Total', 'Status'], rows, 'jobs')}`;
  return layout(c, 'Jobs', '/jobs/', body);
}

/** A dagre graph of stages (clusters) and their RDDs. */
function dagData(
  c: PageCtx,
  stages: Array<{ id: number; attempt?: number; rdds: StageRec['rddInfos']; parents: number[]; skipped?: boolean }>,
) {
  const nodes: Array<{ id: string; label: string; cluster?: string; href?: string; cls?: string }> = [];
  const edges: Array<[string, string]> = [];
  const clusters = stages.map((s) => ({ id: `stage_${s.id}`, label: `Stage ${s.id}${s.skipped ? ' (skipped)' : ''}` }));
  const rddStage = new Map<number, number>();
  for (const s of stages) for (const r of s.rdds) if (!rddStage.has(r['RDD ID'])) rddStage.set(r['RDD ID'], s.id);
  for (const s of stages)
    for (const r of s.rdds) {
      if (rddStage.get(r['RDD ID']) !== s.id) continue;
      const cached = r['Storage Level']['Use Memory'] || r['Storage Level']['Use Disk'];
      nodes.push({
        id: `rdd_${r['RDD ID']}`,
        label: `[${r['RDD ID']}] ${r.Name}`,
        cluster: `stage_${s.id}`,
        href: `${c.base}/stages/stage/?id=${s.id}&attempt=${s.attempt ?? 0}`,
        ...(cached ? { cls: 'cached' } : {}),
      });
      for (const p of r['Parent IDs']) edges.push([`rdd_${p}`, `rdd_${r['RDD ID']}`]);
    }
  const known = new Set(nodes.map((n) => n.id));
  return JSON.stringify({ nodes, edges: edges.filter(([a, b]) => known.has(a) && known.has(b)), clusters });
}

function stageRows(c: PageCtx, stages: StageRec[]) {
  return stages.map((st) => {
    const d = stageData(st, false, c.now);
    return [
      html`<a href="${c.base}/stages/stage/?id=${st.stageId}&attempt=${st.attemptId}">${st.stageId}${st.attemptId ? ` (retry ${st.attemptId})` : ''}</a>`,
      html`${st.name}<div class="muted">${st.details}</div>`,
      date(st.submissionTime),
      dur(st.submissionTime, st.completionTime, c.now),
      bar(d.numCompleteTasks, d.numTasks, d.numActiveTasks, d.numFailedTasks),
      formatBytes(d.inputBytes),
      formatBytes(d.shuffleReadBytes),
      formatBytes(d.shuffleWriteBytes),
      html`${state(st.status)}${st.failureReason ? html`<div class="muted">${st.failureReason.split('\n')[0]}</div>` : ''}`,
    ];
  });
}
const STAGE_HEAD = [
  'Stage Id',
  'Description',
  'Submitted',
  'Duration',
  'Tasks: Succeeded/Total',
  'Input',
  'Shuffle Read',
  'Shuffle Write',
  'Status',
];

export function jobPage(c: PageCtx, jobId: number): string | undefined {
  const s = c.store;
  const j = s.jobs.get(jobId);
  if (!j) return undefined;
  const d = jobData(s, j);
  const ran = stagesOf(s, j);
  const ranIds = new Set(ran.map((st) => st.stageId));
  const graph = dagData(
    c,
    j.stageInfos.map((i) => ({
      id: i['Stage ID'],
      attempt: s.stage(i['Stage ID'])?.attemptId ?? 0,
      rdds: i['RDD Info'],
      parents: i['Parent IDs'],
      skipped: !ranIds.has(i['Stage ID']) && j.status !== 'RUNNING',
    })),
  );
  const pending = j.stageInfos.filter((i) => !ranIds.has(i['Stage ID']));
  const body = html`<dl class="kv"><dt>Status</dt><dd>${state(j.status)}</dd><dt>Call site</dt><dd><code id="callsite">${j.name}</code></dd><dt>Submitted</dt><dd>${date(j.submissionTime)}</dd><dt>Duration</dt><dd>${dur(j.submissionTime, j.completionTime, c.now)}</dd><dt>Tasks</dt><dd>${bar(d.numCompletedTasks, d.numTasks - d.numSkippedTasks, d.numActiveTasks, d.numFailedTasks)}</dd>${j.error ? html`<dt>Error</dt><dd><pre>${j.error}</pre></dd>` : ''}</dl>
<h2>DAG</h2><div class="dag" id="job-dag" data-graph="${graph}">loading…</div>
<h2>Stages</h2>${table(STAGE_HEAD, stageRows(c, ran.reverse()), 'job-stages')}
${
  pending.length
    ? html`<h2>${j.status === 'RUNNING' ? 'Pending' : 'Skipped'} stages</h2>${table(
        ['Stage Id', 'Description', 'Tasks'],
        pending.map((i) => [i['Stage ID'], i['Stage Name'], i['Number of Tasks']]),
      )}`
    : ''
}`;
  return layout(c, `Job ${jobId}`, '/jobs/', body, true);
}

export function stagesPage(c: PageCtx): string {
  const all = [...c.store.stages.values()].reverse();
  const by = (st: string) => all.filter((x) => x.status === st);
  const section = (title: string, list: StageRec[], id: string) =>
    list.length ? html`<h2>${title} (${list.length})</h2>${table(STAGE_HEAD, stageRows(c, list), id)}` : '';
  const body = html`${section('Active Stages', by('ACTIVE'), 'active-stages')}${section('Pending Stages', by('PENDING'), 'pending-stages')}${section('Completed Stages', by('COMPLETE'), 'completed-stages')}${section('Skipped Stages', by('SKIPPED'), 'skipped-stages')}${section('Failed Stages', by('FAILED'), 'failed-stages')}${all.length === 0 ? html`<p class="muted">No stages yet.</p>` : ''}`;
  return layout(c, 'Stages', '/stages/', body);
}

export function stagePage(c: PageCtx, stageId: number, attempt: number): string | undefined {
  const st = c.store.stage(stageId, attempt);
  if (!st) return undefined;
  const d = stageData(st, false, c.now);
  const graph = dagData(c, [{ id: st.stageId, attempt: st.attemptId, rdds: st.rddInfos, parents: st.parentIds }]);
  const q = [0, 0.25, 0.5, 0.75, 1];
  const sum = taskSummary(st, q);
  const qrow = (label: string, v: number[] | undefined, f: (n: number) => string) => [
    label,
    ...(v ?? []).map((x) => f(x)),
  ];
  const ms = (n: number) => formatDuration(n);
  const summary = sum
    ? table(
        ['Metric', 'Min', '25th percentile', 'Median', '75th percentile', 'Max'],
        [
          qrow('Duration', sum.duration, ms),
          qrow('GC Time', sum.jvmGcTime, ms),
          qrow('Input Size', sum.inputMetrics.bytesRead, formatBytes),
          qrow('Input Records', sum.inputMetrics.recordsRead, String),
          qrow('Shuffle Read Size', sum.shuffleReadMetrics.readBytes, formatBytes),
          qrow('Shuffle Read Records', sum.shuffleReadMetrics.readRecords, String),
          qrow('Shuffle Write Size', sum.shuffleWriteMetrics.writeBytes, formatBytes),
          qrow('Shuffle Write Records', sum.shuffleWriteMetrics.writeRecords, String),
          qrow('Spill (Disk)', sum.diskBytesSpilled, formatBytes),
        ],
        'task-summary',
      )
    : html`<p class="muted">No task has finished yet.</p>`;
  // the page shows the first MAX_TASK_ROWS attempts by id; REST's taskList pages through all of them
  const all = [...st.tasks.values()].sort((a, b) => a.taskId - b.taskId);
  const tasks = all.slice(0, MAX_TASK_ROWS).map((t) => taskData(t, c.now));
  const rows = tasks.map((t) => {
    const m = t.taskMetrics;
    return [
      t.index,
      t.taskId,
      t.attempt,
      state(t.status),
      t.executorId,
      t.host,
      date(Date.parse(t.launchTime!.replace('GMT', 'Z'))),
      raw(`<span class="num">${t.duration}</span> ms`),
      m ? `${m.jvmGcTime} ms` : '',
      m ? `${formatBytes(m.inputMetrics.bytesRead)} / ${m.inputMetrics.recordsRead}` : '',
      m
        ? `${formatBytes(m.shuffleReadMetrics.remoteBytesRead + m.shuffleReadMetrics.localBytesRead)} / ${m.shuffleReadMetrics.recordsRead}`
        : '',
      m ? `${formatBytes(m.shuffleWriteMetrics.bytesWritten)} / ${m.shuffleWriteMetrics.recordsWritten}` : '',
      m ? formatBytes(m.diskBytesSpilled + m.memoryBytesSpilled) : '',
      t.errorMessage ? html`<pre>${t.errorMessage}</pre>` : '',
    ];
  });
  const body = html`<dl class="kv"><dt>Status</dt><dd>${state(st.status)}</dd><dt>Tasks</dt><dd id="stage-progress">${bar(d.numCompleteTasks, d.numTasks, d.numActiveTasks, d.numFailedTasks)}</dd><dt>Total time across tasks</dt><dd>${formatDuration(d.executorRunTime)}</dd><dt>Input</dt><dd>${formatBytes(d.inputBytes)} / ${d.inputRecords} records</dd><dt>Shuffle read</dt><dd>${formatBytes(d.shuffleReadBytes)} / ${d.shuffleReadRecords} records</dd><dt>Shuffle write</dt><dd>${formatBytes(d.shuffleWriteBytes)} / ${d.shuffleWriteRecords} records</dd><dt>Call site</dt><dd><code>${st.details}</code></dd>${st.failureReason ? html`<dt>Failure</dt><dd><pre>${st.failureReason}</pre></dd>` : ''}</dl>
<h2>DAG</h2><div class="dag" id="stage-dag" data-graph="${graph}">loading…</div>
<h2>Summary metrics for ${sum ? all.filter((t) => t.status === 'SUCCESS').length : 0} completed tasks</h2>${summary}
<h2>Tasks (${all.length})</h2>${all.length > tasks.length ? html`<p class="muted">Showing the first ${tasks.length}; all are in the REST task list (<code>/api/v1/applications/${c.store.app.id}/stages/${st.stageId}/${st.attemptId}/taskList?offset=&amp;length=</code>).</p>` : ''}${table(['Index', 'Task ID', 'Attempt', 'Status', 'Executor', 'Host', 'Launch Time', 'Duration', 'GC Time', 'Input Size / Records', 'Shuffle Read Size / Records', 'Shuffle Write Size / Records', 'Spill', 'Errors'], rows, 'tasks')}`;
  return layout(c, `Stage ${stageId} (attempt ${attempt})`, '/stages/', body, true);
}

export function storagePage(c: PageCtx): string {
  const rdds = rddStorageInfo(c.store);
  const body = rdds.length
    ? table(
        ['RDD', 'Storage Level', 'Cached Partitions', 'Fraction Cached', 'Size in Memory', 'Size on Disk', 'Executors'],
        rdds.map((r) => [
          `${r.id} ${r.name}`,
          r.storageLevel,
          r.numCachedPartitions,
          `${Math.round((100 * r.numCachedPartitions) / Math.max(1, r.numPartitions))}%`,
          formatBytes(r.memoryUsed),
          formatBytes(r.diskUsed),
          r.dataDistribution.map((x) => x.address).join(', '),
        ]),
        'rdds',
      )
    : html`<p class="muted">No cached RDDs.</p>`;
  return layout(c, 'Storage', '/storage/', body);
}

export function environmentPage(c: PageCtx): string {
  const e = environmentInfo(c.store);
  const body = html`<h2>Runtime</h2>${table(['Name', 'Value'], Object.entries(c.store.env.runtime))}
<h2>Cinder Properties</h2>${table(['Name', 'Value'], e.sparkProperties, 'properties')}
<h2>System Properties</h2>${table(['Name', 'Value'], e.systemProperties)}`;
  return layout(c, 'Environment', '/environment/', body);
}

export function executorsPage(c: PageCtx): string {
  const s = c.store;
  const rows = [...s.executors.values()].map((e) => {
    const x = executorSummary(s, e, c.liveExecutor?.(e.id));
    const cid = e.attributes.containerId;
    // behind the RM's web proxy the page's origin is the RM's, whose UI serves container logs
    const viaRm = cid && c.base.startsWith('/proxy/') && Object.keys(x.executorLogs).length === 0;
    const logLinks: Record<string, string> = viaRm
      ? Object.fromEntries(
          ['stdout', 'stderr'].map((f) => [f, `/cluster/containerlogs/${cid}/${encodeURIComponent(s.app.user)}/${f}`]),
        )
      : x.executorLogs;
    const logs = html`${Object.entries(logLinks).map(([k, v]) => html`<a href="${v}">${k}</a> `)}${
      cid && !viaRm ? html`<div class="muted">logs: <code>cinder logs ${s.app.id}</code> (container ${cid})</div>` : ''
    }`;
    const threads = ['main', ...Array.from({ length: x.totalCores }, (_, i) => String(i))];
    const prof =
      c.profiling && x.isActive
        ? html`<div class="profiling">CPU profile (5 s): ${threads.map((t) => html`<a href="${c.base}/executors/profile/?id=${e.id}&thread=${t}&seconds=5">${t === 'main' ? 'main' : `t${t}`}</a> `)}<br>heap snapshot: ${threads.map((t) => html`<a href="${c.base}/executors/heap/?id=${e.id}&thread=${t}">${t === 'main' ? 'main' : `t${t}`}</a> `)}</div>`
        : '';
    return [
      x.id,
      x.hostPort,
      x.isActive ? state('ACTIVE') : html`${state('FAILED')}<div class="muted">${x.removeReason ?? ''}</div>`,
      x.totalCores,
      x.activeTasks,
      x.failedTasks,
      x.completedTasks,
      x.maxMemory ? `${formatBytes(x.memoryUsed)} / ${formatBytes(x.maxMemory)}` : formatBytes(x.memoryUsed),
      x.peakMemoryMetrics?.ProcessTreeJVMRSSMemory ? formatBytes(x.peakMemoryMetrics.ProcessTreeJVMRSSMemory) : '',
      x.peakMemoryMetrics?.JVMHeapMemory ? formatBytes(x.peakMemoryMetrics.JVMHeapMemory) : '',
      formatDuration(x.totalDuration),
      formatDuration(x.totalGCTime),
      formatBytes(x.totalInputBytes),
      formatBytes(x.totalShuffleRead),
      formatBytes(x.totalShuffleWrite),
      html`${logs}${prof}`,
    ];
  });
  const body = table(
    [
      'Executor ID',
      'Address',
      'Status',
      'Cores',
      'Active Tasks',
      'Failed Tasks',
      'Complete Tasks',
      'Memory (RSS)',
      'Heap Used',
      'Task Time',
      'GC Time',
      'Input',
      'Shuffle Read',
      'Shuffle Write',
      'Logs / Profiling',
    ],
    rows,
    'executors',
  );
  return layout(c, 'Executors', '/executors/', body);
}

/** Executors' lifetimes and jobs' durations on one time axis (server-drawn SVG). */
export function timelinePage(c: PageCtx): string {
  const s = c.store;
  const t0 = s.app.startTime;
  const t1 = Math.max(s.app.endTime ?? c.now, t0 + 1);
  const W = 1000;
  const x = (t: number) => Math.round(((t - t0) / (t1 - t0)) * (W - 160)) + 150;
  const rows: Array<{ label: string; from: number; to: number; cls: string; href?: string }> = [];
  for (const e of s.executors.values())
    rows.push({
      label: `executor ${e.id}`,
      from: e.addTime,
      to: e.removeTime ?? s.app.endTime ?? c.now,
      cls: e.removeTime ? 'removed' : 'exec',
    });
  for (const j of [...s.jobs.values()].slice(-40))
    rows.push({
      label: `job ${j.jobId}`,
      from: j.submissionTime ?? t0,
      to: j.completionTime ?? c.now,
      cls: j.status,
      href: `${c.base}/jobs/job/?id=${j.jobId}`,
    });
  const H = rows.length * 22 + 30;
  const color: Record<string, string> = {
    exec: '#69db7c',
    removed: '#ced4da',
    RUNNING: '#74c0fc',
    SUCCEEDED: '#8ce99a',
    FAILED: '#ffa8a8',
    UNKNOWN: '#dee2e6',
  };
  const bars = rows.map((r, i) => {
    const y = 20 + i * 22;
    const rect = html`<rect x="${x(r.from)}" y="${y}" width="${Math.max(2, x(r.to) - x(r.from))}" height="16" fill="${color[r.cls] ?? '#adb5bd'}"><title>${r.label}: ${formatDuration(r.to - r.from)}</title></rect>`;
    return html`<text x="4" y="${y + 12}" font-size="12">${r.label}</text>${r.href ? html`<a href="${r.href}">${rect}</a>` : rect}`;
  });
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => {
    const t = t0 + f * (t1 - t0);
    return html`<line x1="${x(t)}" y1="12" x2="${x(t)}" y2="${H}" stroke="#e9ecef"/><text x="${x(t)}" y="10" font-size="10" text-anchor="${f === 1 ? 'end' : f === 0 ? 'start' : 'middle'}" fill="#5b6570">+${formatDuration(t - t0) || '0 ms'}</text>`;
  });
  const body = html`<p class="muted">From ${date(t0)} to ${s.app.endTime ? date(t1) : 'now'} (${formatDuration(t1 - t0)}). Green: executors alive and jobs that succeeded; blue: running; red: failed; grey: removed. Click a job for its stages.</p><svg id="timeline" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">${ticks}<line x1="150" y1="10" x2="150" y2="${H}" stroke="#adb5bd"/>${bars}</svg>`;
  return layout(c, 'Event timeline', '/timeline/', body);
}

/** Where the client, driver, AM and executors run, and the deploy mode. */
export function topologyPage(c: PageCtx): string {
  const s = c.store;
  const t = s.app.topology;
  if (!t) return layout(c, 'Deploy topology', '/topology/', html`<p class="muted">No topology recorded.</p>`);
  const hosts = new Map<string, string[]>();
  const put = (h: string, what: string) => {
    const l = hosts.get(h) ?? [];
    l.push(what);
    hosts.set(h, l);
  };
  if (t.client) put(t.client.host, 'client (cinder submit)');
  put(t.driver.host, `driver (pid ${t.driver.pid}${t.driver.containerId ? `, ${t.driver.containerId}` : ''})`);
  if (t.am)
    put(
      t.am.host ?? '(not registered yet)',
      `ApplicationMaster${t.am.containerId ? ` (${t.am.containerId})` : t.am.attemptId ? ` (${t.am.attemptId})` : ''}`,
    );
  for (const e of s.executors.values())
    if (e.removeTime === undefined)
      put(
        e.host,
        `executor ${e.id} (${e.totalCores} cores${e.attributes.containerId ? `, ${e.attributes.containerId}` : ''})`,
      );
  const nodes: Array<{ id: string; label: string; cluster: string }> = [];
  const edges: Array<[string, string]> = [];
  const clusters = [...hosts.keys()].map((h) => ({ id: `host_${h}`, label: h }));
  for (const [h, what] of hosts)
    what.forEach((w, i) => {
      const id = `${h}_${i}`;
      nodes.push({ id, label: w, cluster: `host_${h}` });
    });
  const find = (prefix: string) => nodes.find((n) => n.label.startsWith(prefix))?.id;
  const driver = find('driver');
  const client = find('client');
  const am = find('ApplicationMaster');
  if (client && driver) edges.push([client, driver]);
  if (am && driver) edges.push(t.deployMode === 'cluster' ? [am, driver] : [driver, am]);
  for (const n of nodes) if (n.label.startsWith('executor') && driver) edges.push([driver, n.id]);
  const explain =
    t.deployMode === 'cluster'
      ? 'Cluster mode: the driver runs inside the ApplicationMaster container on a cluster node; the client only submitted the app.'
      : t.deployMode === 'client'
        ? 'Client mode: the driver runs in the submitting process; the ApplicationMaster only asks for executor containers.'
        : 'Local mode: the driver and its executor processes run on this machine.';
  const body = html`<p id="deploy-mode"><strong>${t.deployMode} mode</strong> · master <code>${t.master}</code></p><p class="muted">${explain}</p>
<div class="dag" id="topology-dag" data-graph="${JSON.stringify({ nodes, edges, clusters })}">loading…</div>
${table(
  ['Host', 'Processes'],
  [...hosts].map(([h, w]) => [h, w.join(', ')]),
  'topology',
)}`;
  return layout(c, 'Deploy topology', '/topology/', body, true);
}
