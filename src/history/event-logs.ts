/**
 * Finds and replays event logs (src/ui/event-log.ts) for the history server. A log directory may be a
 * local one (~/.cinder/event-logs), a ResourceManager's store (<rm dir>/app-logs, where the NMs
 * aggregate cluster-mode drivers' container logs, the event log among them) or a NodeManager's log dir
 * (running cluster-mode apps): files named <appId>[.<part>].jsonl[.inprogress] are found up to a few
 * directories deep, grouped by app, and replayed in part order into an AppStore. A replay is cached
 * until one of the app's files changes (size or mtime), so a running app's page follows its log.
 */
import fs from 'node:fs';
import path from 'node:path';
import { AppStore } from '../ui/app-store.js';
import type { SparkEvent } from '../ui/spark-events.js';

const LOG_FILE = /^((?:application|local)[-_][A-Za-z0-9_-]+?)(?:\.(\d+))?\.jsonl(\.inprogress)?$/;
const MAX_DEPTH = 4;

export interface AppLog {
  appId: string;
  files: Array<{ path: string; part: number; size: number; mtimeMs: number }>;
}

/** Every app's log files under the given directories. */
export function scanLogDirs(dirs: readonly string[]): Map<string, AppLog> {
  const apps = new Map<string, AppLog>();
  const walk = (dir: string, depth: number) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (depth < MAX_DEPTH) walk(p, depth + 1);
        continue;
      }
      const m = LOG_FILE.exec(e.name);
      if (!m || !e.isFile()) continue;
      let st: fs.Stats;
      try {
        st = fs.statSync(p);
      } catch {
        continue;
      }
      const appId = m[1] as string;
      let a = apps.get(appId);
      if (!a) apps.set(appId, (a = { appId, files: [] }));
      const part = Number(m[2] ?? 0);
      // the same part seen twice (an NM's live copy and the RM's aggregated one): keep the larger
      const same = a.files.findIndex((f) => f.part === part);
      const rec = { path: p, part, size: st.size, mtimeMs: st.mtimeMs };
      if (same < 0) a.files.push(rec);
      else if (st.size > (a.files[same]?.size ?? 0)) a.files[same] = rec;
    }
  };
  for (const d of dirs) walk(d, 0);
  for (const a of apps.values()) a.files.sort((x, y) => x.part - y.part);
  return apps;
}

/** Replays one app's log files into a fresh store; a torn last line (a running app's) is skipped. */
export function replay(log: AppLog): AppStore {
  const store = new AppStore();
  for (const f of log.files) {
    let text: string;
    try {
      text = fs.readFileSync(f.path, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      if (!line) continue;
      let e: SparkEvent;
      try {
        e = JSON.parse(line) as SparkEvent;
      } catch {
        continue;
      }
      if (e && typeof e.Event === 'string') store.apply(e);
    }
  }
  return store;
}

/** Apps under the log directories, replayed on demand and cached until their files change. */
export class HistoryProvider {
  private readonly cache = new Map<string, { sig: string; store: AppStore }>();
  private scanned: { at: number; apps: Map<string, AppLog> } | undefined;

  constructor(
    readonly dirs: readonly string[],
    /** how long a directory scan is reused (ms) */
    private readonly scanMs = 1000,
  ) {}

  private apps(): Map<string, AppLog> {
    const now = Date.now();
    if (!this.scanned || now - this.scanned.at > this.scanMs) this.scanned = { at: now, apps: scanLogDirs(this.dirs) };
    return this.scanned.apps;
  }

  get(appId: string): AppStore | undefined {
    const log = this.apps().get(appId);
    if (!log) return undefined;
    const sig = log.files.map((f) => `${f.path}:${f.size}:${f.mtimeMs}`).join('|');
    const hit = this.cache.get(appId);
    if (hit?.sig === sig) return hit.store;
    const store = replay(log);
    if (!store.app.id) return undefined; // no application start event yet
    this.cache.set(appId, { sig, store });
    return store;
  }

  list(): AppStore[] {
    const out: AppStore[] = [];
    for (const id of this.apps().keys()) {
      const s = this.get(id);
      if (s) out.push(s);
    }
    return out;
  }
}
