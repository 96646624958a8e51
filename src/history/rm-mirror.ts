/**
 * The history server's view of a cluster without access to the RM's disk: with the user's identity it
 * asks the ResourceManager (the same client RPC as `cinder logs`, so view ACLs apply) for each app's
 * event log, found among the app's container logs (the AM container's `<appId>.jsonl[.inprogress]`,
 * live from the NM while the app runs, aggregated afterwards), and keeps a copy in a local cache
 * directory that the history server reads like any other log directory. Finished apps are fetched
 * once; running ones on every refresh.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ClusterClient } from '../cluster/client.js';
import { hasEnded } from '../protocol/cluster.js';

export class RmEventLogMirror {
  private readonly done = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private busy = false;

  constructor(
    private readonly client: ClusterClient,
    readonly cacheDir: string,
    private readonly refreshMs = 5000,
  ) {
    fs.mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
  }

  /** One pass: copies new or grown event logs of the apps this user may view. */
  async refresh(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      for (const app of await this.client.listApplications()) {
        if (this.done.has(app.id)) continue;
        const ended = hasEnded(app.state);
        let logs: Awaited<ReturnType<ClusterClient['getLogs']>>;
        try {
          logs = await this.client.getLogs(app.id);
        } catch {
          continue; // not viewable, or the node holding it is gone
        }
        const mine = logs.filter((l) => l.file === `${app.id}.jsonl` || l.file === `${app.id}.jsonl.inprogress`);
        const best = mine.find((l) => l.file.endsWith('.jsonl')) ?? mine[0];
        if (!best) continue;
        const dir = path.join(this.cacheDir, app.id);
        fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
        for (const f of fs.readdirSync(dir)) if (f !== best.file) fs.rmSync(path.join(dir, f), { force: true });
        fs.writeFileSync(path.join(dir, best.file), best.data, { mode: 0o600 });
        if (ended && best.file.endsWith('.jsonl')) this.done.add(app.id);
      }
    } finally {
      this.busy = false;
    }
  }

  start(): void {
    const tick = () =>
      void this.refresh()
        .catch(() => {})
        .finally(() => {
          this.timer = setTimeout(tick, this.refreshMs);
          this.timer.unref();
        });
    tick();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.client.close();
  }
}
