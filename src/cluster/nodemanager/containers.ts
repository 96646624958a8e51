/**
 * The NodeManager's containers: localize, launch (own process group, cwd = container dir, stdout/
 * stderr to the container log dir, CINDER_* env, --max-old-space-size for node), monitor physical
 * memory (kill -104 with used vs limit), kill on request (the whole tree), report statuses and clean
 * up directories. Steps nmContainerMachine for every change. It does not talk to the RM.
 */
import fs from 'node:fs';
import path from 'node:path';
import { logger } from '../../common/log.js';
import {
  type ContainerInfo,
  type ContainerStatus,
  ExitStatus,
  LaunchContext,
  type LogFile,
} from '../../protocol/cluster.js';
import type { NmConfig } from '../common/config.js';
import { type NmContainerEvent, type NmContainerState, nmContainerMachine } from '../common/machines.js';
import { checkPlainName } from '../common/safe-path.js';
import type { Localizer } from './localizer.js';
import { groupRss, killGroup, spawnGroup } from './process-tree.js';

const log = logger('nm-containers');

export interface NmContainer {
  info: ContainerInfo;
  state: NmContainerState;
  pgid: number;
  exitStatus: number | undefined;
  diagnostics: string;
  /** set when we decided to kill it: the status it completes with */
  killStatus: { exitStatus: number; diagnostics: string } | undefined;
  workDir: string;
  logDir: string;
  /** the RM has seen its completion */
  acked: boolean;
  peakRss: number;
  /** when the launch request arrived (epoch ms) */
  requestedAt: number;
}

/** Heap for a node container: container size minus overhead max(10%, 384 MB), at least 64 MB. */
export function heapMB(memoryMB: number): number {
  return Math.max(64, Math.floor(memoryMB - Math.max(0.1 * memoryMB, 384)));
}

export class ContainerManager {
  readonly containers = new Map<string, NmContainer>();
  private monitor: NodeJS.Timeout | undefined;
  readonly pidDir: string;

  constructor(
    private readonly conf: NmConfig,
    private readonly localizer: Localizer,
    private readonly baseEnv: () => Record<string, string>,
    private readonly nodeId: () => string,
  ) {
    this.pidDir = path.join(conf.dir, 'pids');
    fs.mkdirSync(this.pidDir, { recursive: true, mode: 0o700 });
  }

  /** Kills container groups left by a previous NM process on this dir (pid files). */
  async killStale(): Promise<number> {
    const files = fs.readdirSync(this.pidDir);
    await Promise.all(
      files.map(async (f) => {
        const pgid = Number(fs.readFileSync(path.join(this.pidDir, f), 'utf8'));
        if (pgid > 1) await killGroup(pgid, 200);
        fs.rmSync(path.join(this.pidDir, f), { force: true });
      }),
    );
    return files.length;
  }

  startMonitor(): void {
    this.monitor = setInterval(() => this.checkMemory(), this.conf.monitorMs);
    this.monitor.unref();
  }

  private ev(c: NmContainer, e: NmContainerEvent): void {
    c.state = nmContainerMachine.next(c.state, e, c.info.id);
  }

  start(info: ContainerInfo, rawLc: LaunchContext): void {
    if (this.containers.has(info.id)) throw new Error(`container ${info.id} was already started on this node`);
    checkPlainName(info.id, 'container id');
    checkPlainName(info.appId, 'application id');
    const lc = LaunchContext.parse(rawLc);
    const c: NmContainer = {
      info,
      state: 'NEW',
      pgid: -1,
      exitStatus: undefined,
      diagnostics: '',
      killStatus: undefined,
      workDir: path.join(this.conf.dir, 'work', info.appId, info.id),
      logDir: path.join(this.conf.dir, 'logs', info.appId, info.id),
      acked: false,
      peakRss: 0,
      requestedAt: Date.now(),
    };
    this.containers.set(info.id, c);
    this.ev(c, 'INIT');
    fs.mkdirSync(c.workDir, { recursive: true, mode: 0o750 });
    fs.mkdirSync(c.logDir, { recursive: true, mode: 0o750 });
    void this.localizer.localize(info.appId, c.workDir, lc.localResources).then(
      () => {
        this.ev(c, 'LOCALIZED');
        if (c.state === 'RUNNING') this.launch(c, lc);
        else
          this.finish(
            c,
            c.killStatus?.exitStatus ?? ExitStatus.KILLED_BY_APPMASTER,
            c.killStatus?.diagnostics ?? 'killed before launch',
          );
      },
      (e: Error) => {
        this.ev(c, 'LOCALIZATION_FAILED');
        this.finish(c, ExitStatus.INVALID, `localization failed: ${e.message}`);
      },
    );
  }

  private launch(c: NmContainer, lc: { command: string[]; env: Record<string, string> }): void {
    let argv = lc.command;
    if (argv[0] === 'node' || argv[0] === process.execPath)
      argv = [process.execPath, `--max-old-space-size=${heapMB(c.info.resource.memoryMB)}`, ...argv.slice(1)];
    const env = {
      ...this.baseEnv(),
      ...lc.env,
      CINDER_CONTAINER_ID: c.info.id,
      CINDER_APP_ID: c.info.appId,
      CINDER_NM_HOST: this.conf.host,
      CINDER_NODE_ID: this.nodeId(),
      CINDER_LOG_DIR: c.logDir,
      CINDER_CONTAINER_MEMORY_MB: String(c.info.resource.memoryMB),
      CINDER_CONTAINER_VCORES: String(c.info.resource.vcores),
      // when this NM received the launch request (epoch ms): executors report their start-up time with it
      CINDER_LAUNCH_REQUESTED_AT: String(c.requestedAt),
    };
    const sp = spawnGroup(argv, c.workDir, env, path.join(c.logDir, 'stdout'), path.join(c.logDir, 'stderr'));
    c.pgid = sp.pgid;
    if (sp.pgid > 0) fs.writeFileSync(path.join(this.pidDir, c.info.id), String(sp.pgid));
    void sp.exited.then(async ({ code, signal }) => {
      // reap whatever the main process left behind in its group
      await killGroup(c.pgid, 0);
      fs.rmSync(path.join(this.pidDir, c.info.id), { force: true });
      const exit = c.killStatus?.exitStatus ?? code ?? 128 + (signal === 'SIGKILL' ? 9 : 15);
      const diag =
        c.killStatus?.diagnostics ??
        (exit === 0 ? '' : `process exited with code ${code ?? `signal ${signal}`}; see the container's stderr`);
      this.ev(c, exit === 0 && !c.killStatus ? 'EXITED_SUCCESS' : 'EXITED_FAILURE');
      this.finish(c, exit, diag);
    });
  }

  private finish(c: NmContainer, exitStatus: number, diagnostics: string): void {
    c.exitStatus = exitStatus;
    c.diagnostics = diagnostics;
    fs.rmSync(c.workDir, { recursive: true, force: true });
    this.ev(c, 'CLEANED');
    log.info({ container: c.info.id, exitStatus }, 'container completed');
  }

  /** Kills a container's whole tree; it completes with exitStatus/diagnostics. */
  async stop(id: string, exitStatus: number, diagnostics: string): Promise<void> {
    const c = this.containers.get(id);
    if (!c || c.state === 'DONE') return;
    c.killStatus ??= { exitStatus, diagnostics };
    const wasRunning = c.state === 'RUNNING';
    this.ev(c, 'KILL');
    if (wasRunning) await killGroup(c.pgid, this.conf.killGraceMs);
  }

  private checkMemory(): void {
    if (!this.conf.pmemCheck) return;
    const live = [...this.containers.values()].filter((c) => c.state === 'RUNNING' && c.pgid > 0);
    if (!live.length) return;
    const rss = groupRss(new Set(live.map((c) => c.pgid)));
    for (const c of live) {
      const used = rss.get(c.pgid) ?? 0;
      c.peakRss = Math.max(c.peakRss, used);
      const limit = c.info.resource.memoryMB * 1024 * 1024;
      if (used > limit) {
        const mb = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MB`;
        const diag = `Container ${c.info.id} is running beyond physical memory limits. Current usage: ${mb(used)} of ${mb(limit)} physical memory used. Killing container (exit ${ExitStatus.KILLED_EXCEEDED_PMEM}).`;
        log.warn({ container: c.info.id, used, limit }, 'killing container over its memory limit');
        void this.stop(c.info.id, ExitStatus.KILLED_EXCEEDED_PMEM, diag);
      }
    }
  }

  status(c: NmContainer): ContainerStatus {
    const done = c.state === 'DONE';
    return {
      containerId: c.info.id,
      appId: c.info.appId,
      state: done ? 'COMPLETE' : c.state === 'NEW' ? 'NEW' : 'RUNNING',
      ...(done ? { exitStatus: c.exitStatus } : {}),
      diagnostics: c.diagnostics,
      resource: c.info.resource,
    };
  }

  /** Live containers plus completions the RM has not acknowledged yet. */
  reportable(): ContainerStatus[] {
    return [...this.containers.values()].filter((c) => c.state !== 'DONE' || !c.acked).map((c) => this.status(c));
  }

  ack(statuses: ContainerStatus[]): void {
    for (const s of statuses) {
      const c = this.containers.get(s.containerId);
      if (c && s.state === 'COMPLETE') c.acked = true;
    }
  }

  logs(appId: string, containerId?: string): LogFile[] {
    checkPlainName(appId, 'application id');
    const dir = path.join(this.conf.dir, 'logs', appId);
    const out: LogFile[] = [];
    if (!fs.existsSync(dir)) return out;
    for (const cid of fs.readdirSync(dir)) {
      if (containerId && cid !== containerId) continue;
      for (const file of fs.readdirSync(path.join(dir, cid))) {
        const p = path.join(dir, cid, file);
        const st = fs.statSync(p);
        // cap each file at its last 8 MB so one chatty container cannot blow up a reply
        const max = 8 * 1024 * 1024;
        const fd = fs.openSync(p, 'r');
        const len = Math.min(st.size, max);
        const buf = Buffer.alloc(len);
        fs.readSync(fd, buf, 0, len, st.size - len);
        fs.closeSync(fd);
        out.push({ containerId: cid, nodeId: this.nodeId(), file, data: buf.toString('utf8') });
      }
    }
    return out;
  }

  /** Kills an app's remaining containers and waits for them. */
  async stopApp(appId: string): Promise<void> {
    await Promise.all(
      [...this.containers.values()]
        .filter((c) => c.info.appId === appId && c.state !== 'DONE')
        .map((c) => this.stop(c.info.id, ExitStatus.KILLED_AFTER_APP_COMPLETION, `application ${appId} finished`)),
    );
    const deadline = Date.now() + this.conf.killGraceMs + 3_000;
    while (
      Date.now() < deadline &&
      [...this.containers.values()].some((c) => c.info.appId === appId && c.state !== 'DONE')
    )
      await new Promise((r) => setTimeout(r, 25));
  }

  deleteAppDirs(appId: string): void {
    fs.rmSync(path.join(this.conf.dir, 'logs', appId), { recursive: true, force: true });
    fs.rmSync(path.join(this.conf.dir, 'work', appId), { recursive: true, force: true });
    for (const [id, c] of this.containers)
      if (c.info.appId === appId && c.state === 'DONE' && c.acked) this.containers.delete(id);
  }

  async stopAll(): Promise<void> {
    if (this.monitor) clearInterval(this.monitor);
    await Promise.all(
      [...this.containers.keys()].map((id) =>
        this.stop(id, ExitStatus.KILLED_BY_RESOURCEMANAGER, 'NodeManager shutting down'),
      ),
    );
  }
}
