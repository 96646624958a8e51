/**
 * GET /cluster/containerlogs/:containerId/:user[?file=stderr&start=-4096]: a container's log files
 * (aggregated on the RM, or live from its node), behind the app's view ACL. YARN's NM page shape,
 * served by the RM so one address and one login reach every log. `start` is a byte offset (negative:
 * from the end), as YARN's; by default the last 1 MiB of each file is shown.
 */
import { CinderError } from '../../../common/errors.js';
import { formatBytes, html } from '../../../web/html.js';
import type { Principal } from '../callers.js';
import { getLogs } from '../client-service.js';
import type { ResourceManager } from '../rm.js';
import { appLink, rmPage } from './layout.js';

const DEFAULT_TAIL = 1024 * 1024;

export function appOfContainer(containerId: string): string {
  const m = /^container_(\d+)_(\d+)_\d+_\d+$/.exec(containerId);
  if (!m)
    throw new CinderError(
      'BAD_REQUEST',
      `"${containerId}" is not a container id (container_<cluster>_<app>_<attempt>_<n>)`,
    );
  return `application_${m[1]}_${m[2]}`;
}

export async function logsPage(
  rm: ResourceManager,
  containerId: string,
  q: { file?: string; start?: string },
  who: Principal,
): Promise<string> {
  const appId = appOfContainer(containerId);
  const files = (await getLogs(rm, appId, who, containerId)).filter((l) => !q.file || l.file === q.file);
  const start = q.start !== undefined && /^-?\d+$/.test(q.start) ? Number(q.start) : -DEFAULT_TAIL;
  const body = html`<p>Application ${appLink(appId)} · container <b>${containerId}</b>${q.file ? html` · <a href="?">all files</a>` : ''}</p>
${files.length ? '' : html`<p id="no-logs">No logs found for this container (yet): its node may not have reported any, or it has not started.</p>`}
${files.map((l) => {
  const len = Buffer.byteLength(l.data);
  const from = start < 0 ? Math.max(0, len - -start) : Math.min(start, len);
  const shown = from > 0 ? Buffer.from(l.data).subarray(from).toString('utf8') : l.data;
  return html`<h2 class="log-file"><a href="?file=${encodeURIComponent(l.file)}">${l.file}</a> <span class="muted">(${formatBytes(len)} on ${l.nodeId}${from > 0 ? html`, showing from byte ${from}: <a href="?file=${encodeURIComponent(l.file)}&amp;start=0">whole file</a>` : ''})</span></h2><pre class="log" data-file="${l.file}">${shown}</pre>`;
})}`;
  return rmPage(`Logs of ${containerId}`, '/cluster/apps', body, who.user);
}
