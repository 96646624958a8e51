/**
 * The NodeManager's containers: the shell around container-machine.ts. It turns requests (start, stop,
 * acks), localizer results, process exits, the memory monitor and NM restarts into machine events, and
 * carries out the effects the machine returns: localize, spawn (own process group, cwd = container dir,
 * stdout/stderr to the container log dir, CINDER_* env, --max-old-space-size for node, run under the
 * exit-code wrapper of process-tree.ts), kill the whole tree, watch a reacquired group, write/delete the
 * container's recovery record (atomic, <dir>/recovery/<id>.json) and delete its work dir. Time comes
 * from an injected clock. It does not talk to the RM and decides nothing about a container's lifecycle.
 *
 * Files in the NM dir: container-wrapper.sh (process-tree.ts's exit-code wrapper), recovery/<id>.json
 * (the record), <run>/<id>.launch.sh (the command, exec'd by the wrapper's child), <run>/<id>.exitcode
 * (written by the wrapper when the command ends) and <run>/<id>.exitcode.orphaned (the wrapper's orphan
 * watchdog fired), where <run> is recovery/ when containers run as the NM's user and, when they are
 * isolated (isolation.ts), work/<app>/<id>.run/, owned by the app's uid so its wrapper can write there
 * and no other app can,
 * pids/<id> (the container's pgid while it may be alive: what `cinder cluster down` and test harnesses
 * kill), nm.owner ("PID STARTTIME" of the NM owning the containers, read by the wrappers' watchdogs).
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CREDENTIALS_ENV } from '../../common/credentials.js';
import { CinderError } from '../../common/errors.js';
import { logger } from '../../common/log.js';
import {
  type ContainerInfo,
  type ContainerStatus,
  ExitStatus,
  LaunchContext,
  type LogFile,
} from '../../protocol/cluster.js';
import type { NmConfig } from '../common/config.js';
import { checkPlainName } from '../common/safe-path.js';
import {
  containerMachine,
  type NmContainerEffect,
  type NmContainerEvent,
  type NmContainerState,
  newContainerState,
  type RecordedExit,
  recoveringState,
} from './container-machine.js';
import { type AppIdentity, type AppUids, own } from './isolation.js';
import type { Localizer } from './localizer.js';
import {
  groupLive,
  groupRss,
  killGroup,
  launchScript,
  liveGroups,
  processIdentity,
  spawnGroup,
  wrapCommand,
  writeWrapperScript,
} from './process-tree.js';

const log = logger('nm-containers');

export interface NmContainer {
  info: ContainerInfo;
  /** the machine's state; changed only by dispatch */
  s: NmContainerState;
  workDir: string;
  logDir: string;
  /** where the launch script and exit-code files live (see the header) */
  runDir: string;
  peakRss: number;
  /** the launch context, until spawned (not kept in the recovery record: a lost launch is not redone) */
  lc: LaunchContext | undefined;
  /** the wrapper's process when this NM spawned it (none for a reacquired container) */
  child: ChildProcess | undefined;
  /** the kill in progress (KillGroup effect) */
  killing: Promise<void> | undefined;
}

/** Reads a small regular file without following a symlink a container may have put in its place. */
function readOwnFile(file: string, max: number): Buffer | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) return undefined;
    const len = Math.min(st.size, max);
    const buf = Buffer.alloc(len);
    fs.readSync(fd, buf, 0, len, st.size - len);
    return buf;
  } finally {
    fs.closeSync(fd);
  }
}

/** What the recovery record holds. */
interface RecoveryRecord {
  version: 1;
  info: ContainerInfo;
  state: NmContainerState;
}

/** Heap for a node container: container size minus overhead max(10%, 384 MB), at least 64 MB. */
export function heapMB(memoryMB: number): number {
  return Math.max(64, Math.floor(memoryMB - Math.max(0.1 * memoryMB, 384)));
}

export class ContainerManager {
  readonly containers = new Map<string, NmContainer>();
  private monitor: NodeJS.Timeout | undefined;
  private watchTimer: NodeJS.Timeout | undefined;
  private readonly watched = new Set<NmContainer>();
  private readonly queue: [NmContainer, NmContainerEvent][] = [];
  private draining = false;
  readonly pidDir: string;
  readonly recoveryDir: string;
  readonly ownerFile: string;
  readonly wrapperFile: string;

  constructor(
    private readonly conf: NmConfig,
    private readonly localizer: Localizer,
    /** the env every container gets (and its credentials file, written into its dir) */
    private readonly baseEnv: (info: ContainerInfo, workDir: string) => Record<string, string>,
    private readonly nodeId: () => string,
    private readonly clock: () => number = Date.now,
    /** the apps' uids when containers are isolated (isolation.ts); undefined: they run as the NM's user */
    readonly uids: AppUids | undefined = undefined,
  ) {
    this.pidDir = path.join(conf.dir, 'pids');
    this.recoveryDir = path.join(conf.dir, 'recovery');
    this.ownerFile = path.join(conf.dir, 'nm.owner');
    this.wrapperFile = path.join(conf.dir, 'container-wrapper.sh');
    fs.mkdirSync(this.pidDir, { recursive: true, mode: 0o700 });
    fs.mkdirSync(this.recoveryDir, { recursive: true, mode: 0o700 });
    for (const d of [this.pidDir, this.recoveryDir]) fs.chmodSync(d, 0o700);
    if (uids) {
      // containers (other uids) may traverse the NM dir to their own dirs, but list nothing in it
      fs.chmodSync(conf.dir, 0o711);
      for (const d of ['work', 'logs']) {
        fs.mkdirSync(path.join(conf.dir, d), { recursive: true, mode: 0o711 });
        fs.chmodSync(path.join(conf.dir, d), 0o711);
      }
    }
    writeWrapperScript(this.wrapperFile, uids !== undefined);
  }

  private identity(c: NmContainer): AppIdentity | undefined {
    if (!this.uids) return undefined;
    const id = this.uids.get(c.info.appId);
    if (!id) throw new CinderError('NO_CONTAINER_UID', `no uid recorded for ${c.info.appId} on this node`);
    return id;
  }

  // ------------------------------------------------------------ machine plumbing

  /** Steps the machine for c and performs the effects; events raised by effects are queued, not nested. */
  private dispatch(c: NmContainer, e: NmContainerEvent): void {
    this.queue.push([c, e]);
    if (this.draining) return;
    this.draining = true;
    try {
      for (let next = this.queue.shift(); next; next = this.queue.shift()) this.apply(next[0], next[1]);
    } finally {
      this.draining = false;
    }
  }

  private apply(c: NmContainer, e: NmContainerEvent): void {
    let t: ReturnType<typeof containerMachine.step>;
    try {
      t = containerMachine.step(c.s, e);
    } catch (err) {
      // InvalidTransition: a bug or a message out of order; the container is left as it was
      log.error({ container: c.info.id, err: (err as Error).message }, 'container event refused');
      return;
    }
    c.s = t.state;
    for (const f of t.effects) {
      try {
        this.perform(c, f);
      } catch (err) {
        log.error({ container: c.info.id, effect: f.type, err: (err as Error).message }, 'container effect failed');
      }
    }
  }

  private perform(c: NmContainer, f: NmContainerEffect): void {
    switch (f.type) {
      case 'Localize':
        this.localize(c);
        return;
      case 'Spawn':
        this.spawn(c);
        return;
      case 'KillGroup':
        if (c.s.pgid > 0) c.killing = killGroup(c.s.pgid, this.conf.killGraceMs);
        return;
      case 'Watch':
        this.watch(c);
        return;
      case 'WriteRecoveryRecord':
        if (this.conf.recoveryEnabled) this.writeRecord(c);
        return;
      case 'DeleteRecoveryRecord':
        this.deleteRecord(c);
        return;
      case 'DeleteWorkDir':
        fs.rmSync(c.workDir, { recursive: true, force: true });
        this.dispatch(c, { type: 'Cleaned' });
        return;
      case 'Report':
        log.info({ container: c.info.id, exitStatus: f.exitStatus, diagnostics: f.diagnostics }, 'container completed');
        return;
    }
  }

  // ------------------------------------------------------------ effects

  /**
   * Makes the container's dirs. Isolated: the app dirs are root's (0711: a container reaches only its own
   * dirs, lists none), the container's dirs are made root-only (0700) and given to the app's uid only after
   * the NM has written into them (giveDirs), so no process of the app can swap a path under the NM.
   */
  private localize(c: NmContainer): void {
    try {
      const id = this.identity(c);
      for (const d of [path.dirname(c.workDir), path.dirname(c.logDir)])
        fs.mkdirSync(d, { recursive: true, mode: id ? 0o711 : 0o750 });
      fs.mkdirSync(c.workDir, { mode: id ? 0o700 : 0o750 });
      fs.mkdirSync(c.logDir, { mode: id ? 0o700 : 0o750 });
      if (id) fs.mkdirSync(c.runDir, { mode: 0o700 });
    } catch (e) {
      this.dispatch(c, { type: 'LocalizationFailed', message: (e as Error).message });
      return;
    }
    const resources = LaunchContext.parse(c.lc).localResources;
    void this.localizer.localize(c.info.appId, c.workDir, resources).then(
      () => this.dispatch(c, { type: 'Localized' }),
      (e: Error) => this.dispatch(c, { type: 'LocalizationFailed', message: e.message }),
    );
  }

  /** Isolated: a home/tmp dir and the container's credentials file, then the dirs go to the app's uid. */
  private giveDirs(c: NmContainer, id: AppIdentity, env: Record<string, string>): void {
    // named in src/deploy/client/staging.ts RESERVED_LINKS: no resource can take it
    const tmp = path.join(c.workDir, '.cinder-tmp');
    fs.mkdirSync(tmp, { mode: 0o700 });
    own(tmp, id);
    env.HOME = c.workDir;
    env.TMPDIR = tmp;
    // the container's own credentials (tokens, app secret): readable by its uid only
    const creds = env[CREDENTIALS_ENV];
    if (creds) own(creds, id, 0o600);
    for (const d of [c.workDir, c.logDir, c.runDir]) fs.lchownSync(d, id.uid, id.gid);
  }

  private spawn(c: NmContainer): void {
    const lc = LaunchContext.parse(c.lc);
    c.lc = undefined;
    let argv = lc.command;
    if (argv[0] === 'node' || argv[0] === process.execPath)
      argv = [process.execPath, `--max-old-space-size=${heapMB(c.info.resource.memoryMB)}`, ...argv.slice(1)];
    const env = {
      ...this.baseEnv(c.info, c.workDir),
      ...lc.env,
      CINDER_CONTAINER_ID: c.info.id,
      CINDER_APP_ID: c.info.appId,
      CINDER_NM_HOST: this.conf.host,
      CINDER_NODE_ID: this.nodeId(),
      CINDER_LOG_DIR: c.logDir,
      CINDER_CONTAINER_MEMORY_MB: String(c.info.resource.memoryMB),
      CINDER_CONTAINER_VCORES: String(c.info.resource.vcores),
      // when this NM received the launch request (epoch ms): executors report their start-up time with it
      CINDER_LAUNCH_REQUESTED_AT: String(c.s.requestedAt),
    };
    const exitFile = this.exitFile(c);
    fs.rmSync(exitFile, { force: true });
    fs.rmSync(`${exitFile}.orphaned`, { force: true });
    const launchFile = path.join(c.runDir, `${c.info.id}.launch.sh`);
    fs.writeFileSync(launchFile, launchScript(argv), { mode: 0o600 });
    let id: AppIdentity | undefined;
    try {
      id = this.identity(c);
      if (id) {
        own(launchFile, id, 0o600);
        this.giveDirs(c, id, env);
      }
    } catch (e) {
      log.error({ container: c.info.id, err: (e as Error).message }, 'could not prepare the container for its uid');
      this.dispatch(c, { type: 'Exited', code: 127, signal: null, at: this.clock() });
      return;
    }
    const wrapped = wrapCommand({
      wrapperFile: this.wrapperFile,
      launchFile,
      exitFile,
      ownerFile: this.ownerFile,
      orphanKillMs: this.conf.orphanKillMs,
      killGraceMs: this.conf.killGraceMs,
    });
    let sp: ReturnType<typeof spawnGroup>;
    try {
      sp = spawnGroup(wrapped, c.workDir, env, path.join(c.logDir, 'stdout'), path.join(c.logDir, 'stderr'), id);
    } catch (e) {
      log.error({ container: c.info.id, err: (e as Error).message }, 'could not spawn the container');
      this.dispatch(c, { type: 'Exited', code: 127, signal: null, at: this.clock() });
      return;
    }
    c.child = sp.child;
    if (sp.pgid > 0) fs.writeFileSync(path.join(this.pidDir, c.info.id), String(sp.pgid));
    this.dispatch(c, { type: 'Launched', pgid: sp.pgid, at: this.clock() });
    void sp.exited.then(async ({ code, signal }) => {
      c.child = undefined;
      const x = this.readExit(c);
      // reap whatever the main process left behind in its group (the wrapper normally did)
      await killGroup(sp.pgid, 0);
      fs.rmSync(path.join(this.pidDir, c.info.id), { force: true });
      // the wrapper ends by SIGKILLing its own group: its exit-code file is the command's status
      this.dispatch(
        c,
        x?.code !== undefined || x?.orphaned
          ? { type: 'Exited', code: x.code ?? null, signal: null, orphaned: x.orphaned, at: this.clock() }
          : { type: 'Exited', code, signal, at: this.clock() },
      );
    });
  }

  /** A reacquired container (no child handle): poll its group and exit-code file. */
  private watch(c: NmContainer): void {
    this.watched.add(c);
    if (!this.watchTimer) {
      this.watchTimer = setInterval(() => this.pollWatched(), Math.min(this.conf.heartbeatMs, 1_000));
      this.watchTimer.unref();
    }
  }

  private pollWatched(): void {
    if (!this.watched.size) return;
    const live = liveGroups(new Set([...this.watched].map((c) => c.s.pgid)));
    for (const c of [...this.watched]) {
      const x = this.readExit(c);
      if (x?.code === undefined && live.has(c.s.pgid)) continue;
      this.watched.delete(c);
      if (live.has(c.s.pgid)) void killGroup(c.s.pgid, 0);
      fs.rmSync(path.join(this.pidDir, c.info.id), { force: true });
      this.dispatch(c, {
        type: 'Exited',
        code: x?.code ?? null,
        signal: null,
        ...(x?.orphaned ? { orphaned: true } : {}),
        at: this.clock(),
      });
    }
  }

  private recordFile(id: string): string {
    return path.join(this.recoveryDir, `${id}.json`);
  }
  private exitFile(c: NmContainer): string {
    return path.join(c.runDir, `${c.info.id}.exitcode`);
  }

  private writeRecord(c: NmContainer): void {
    const rec: RecoveryRecord = { version: 1, info: c.info, state: c.s };
    const file = this.recordFile(c.info.id);
    const tmp = `${file}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(rec), { mode: 0o600 });
    fs.renameSync(tmp, file);
  }

  private deleteRecord(c: NmContainer): void {
    const id = c.info.id;
    const x = this.exitFile(c);
    for (const f of [this.recordFile(id), x, `${x}.orphaned`, path.join(c.runDir, `${id}.launch.sh`)])
      fs.rmSync(f, { force: true });
    if (c.runDir !== this.recoveryDir) fs.rmSync(c.runDir, { recursive: true, force: true });
  }

  /** The wrapper's exit-code file: undefined when the command has not ended (or the wrapper was killed). */
  private readExit(c: NmContainer): RecordedExit | undefined {
    const x = this.exitFile(c);
    const text = readOwnFile(x, 64)?.toString('utf8').trim();
    const orphaned = fs.existsSync(`${x}.orphaned`);
    const code = text && /^\d+$/.test(text) ? Number(text) : undefined;
    return code === undefined && !orphaned ? undefined : { code, orphaned };
  }

  // ------------------------------------------------------------ NM start: ownership, recovery, stale kill

  /** Makes this process the owner of the dir's containers (their wrappers' orphan watchdogs read it). */
  claimOwnership(): void {
    const id = processIdentity(process.pid) ?? `${process.pid} 0`;
    const tmp = `${this.ownerFile}.tmp`;
    // "PID STARTTIME", no secret: the wrappers of isolated containers (other uids) read it
    fs.writeFileSync(tmp, `${id}\n`, { mode: 0o644 });
    fs.chmodSync(tmp, 0o644);
    fs.renameSync(tmp, this.ownerFile);
  }

  /**
   * Work-preserving restart: every recorded container whose process group is alive is reacquired
   * (RUNNING, watched, memory-monitored); one whose process is gone completes with its recorded exit code
   * (or -100 when it left none). Completions stay until the RM acknowledges them. Groups in pids/ without
   * a record (left by an NM with recovery disabled) are killed.
   */
  async recover(): Promise<{ reacquired: number; completed: number; killed: number }> {
    let reacquired = 0;
    let completed = 0;
    for (const f of fs.readdirSync(this.recoveryDir)) {
      if (!f.endsWith('.json')) continue;
      let rec: RecoveryRecord;
      try {
        rec = JSON.parse(fs.readFileSync(path.join(this.recoveryDir, f), 'utf8')) as RecoveryRecord;
        if (rec.version !== 1 || rec.state?.id !== rec.info?.id || `${rec.info.id}.json` !== f)
          throw new Error('not a version 1 record of this container');
        checkPlainName(rec.info.id, 'container id');
        checkPlainName(rec.info.appId, 'application id');
      } catch (e) {
        log.warn({ file: f, err: (e as Error).message }, 'unreadable container recovery record; ignored');
        fs.rmSync(path.join(this.recoveryDir, f), { force: true });
        continue;
      }
      const id = rec.info.id;
      const c = this.newContainer(rec.info, recoveringState(rec.state));
      this.containers.set(id, c);
      const x = this.readExit(c);
      const pgid = c.s.pgid;
      // killed between spawning and recording the pgid: pids/<id> is written first, kill that group
      if (pgid <= 0 && fs.existsSync(path.join(this.pidDir, id))) await this.killPidFile(id);
      const alive = pgid > 0 && x?.code === undefined && groupLive(pgid);
      if (pgid > 0 && !alive) {
        await killGroup(pgid, 0);
        fs.rmSync(path.join(this.pidDir, id), { force: true });
      }
      this.dispatch(c, { type: 'Recovered', alive, exit: x, at: this.clock() });
      if (c.s.status === 'RUNNING' || c.s.status === 'KILLING') reacquired++;
      else completed++;
      log.info(
        { container: id, status: c.s.status, pgid, exitStatus: c.s.exitStatus },
        alive ? 'reacquired a container left by the previous NodeManager' : 'recovered a completed container',
      );
    }
    let killed = 0;
    for (const f of fs.readdirSync(this.pidDir)) {
      if (this.containers.has(f)) continue;
      killed += await this.killPidFile(f);
    }
    for (const f of fs.readdirSync(this.recoveryDir))
      if (
        !f.endsWith('.json') &&
        !this.containers.has(f.replace(/\.exitcode(\.orphaned)?$|\.json\.tmp$|\.launch\.sh$/, ''))
      )
        fs.rmSync(path.join(this.recoveryDir, f), { force: true });
    return { reacquired, completed, killed };
  }

  /** Recovery disabled: kills container groups left by a previous NM process on this dir and forgets them. */
  async killStale(): Promise<number> {
    let n = 0;
    for (const f of fs.readdirSync(this.recoveryDir)) {
      if (!f.endsWith('.json')) continue;
      try {
        const rec = JSON.parse(fs.readFileSync(path.join(this.recoveryDir, f), 'utf8')) as RecoveryRecord;
        if (rec.state.pgid > 1 && groupLive(rec.state.pgid)) {
          await killGroup(rec.state.pgid, 200);
          n++;
        }
      } catch {}
    }
    for (const f of fs.readdirSync(this.pidDir)) n += await this.killPidFile(f);
    this.forgetAll();
    return n;
  }

  private async killPidFile(f: string): Promise<number> {
    const file = path.join(this.pidDir, f);
    const pgid = Number(fs.readFileSync(file, 'utf8'));
    const was = pgid > 1 && groupLive(pgid);
    if (was) await killGroup(pgid, 200);
    fs.rmSync(file, { force: true });
    return was ? 1 : 0;
  }

  /** Deletes every recovery record and pid file (graceful stop: the node unregistered, nothing to recover). */
  private forgetAll(): void {
    for (const d of [this.recoveryDir, this.pidDir])
      for (const f of fs.readdirSync(d)) fs.rmSync(path.join(d, f), { force: true });
  }

  // ------------------------------------------------------------ requests

  startMonitor(): void {
    this.monitor = setInterval(() => this.checkMemory(), this.conf.monitorMs);
    this.monitor.unref();
  }

  private newContainer(info: ContainerInfo, s: NmContainerState): NmContainer {
    return {
      info,
      s,
      runDir: this.uids ? path.join(this.conf.dir, 'work', info.appId, `${info.id}.run`) : this.recoveryDir,
      workDir: path.join(this.conf.dir, 'work', info.appId, info.id),
      logDir: path.join(this.conf.dir, 'logs', info.appId, info.id),
      peakRss: 0,
      lc: undefined,
      child: undefined,
      killing: undefined,
    };
  }

  start(info: ContainerInfo, rawLc: LaunchContext): void {
    if (this.containers.has(info.id)) throw new Error(`container ${info.id} was already started on this node`);
    checkPlainName(info.id, 'container id');
    checkPlainName(info.appId, 'application id');
    const c = this.newContainer(info, newContainerState(info.id));
    c.lc = LaunchContext.parse(rawLc);
    this.containers.set(info.id, c);
    this.dispatch(c, { type: 'Init', at: this.clock() });
  }

  /** Kills a container's whole tree; it completes with exitStatus/diagnostics (the first kill decides). */
  async stop(id: string, exitStatus: number, diagnostics: string): Promise<void> {
    const c = this.containers.get(id);
    if (!c || c.s.status === 'DONE') return;
    this.dispatch(c, { type: 'KillRequested', exitStatus, diagnostics });
    await c.killing;
  }

  private checkMemory(): void {
    if (!this.conf.pmemCheck) return;
    const live = [...this.containers.values()].filter((c) => c.s.status === 'RUNNING' && c.s.pgid > 0);
    if (!live.length) return;
    const rss = groupRss(new Set(live.map((c) => c.s.pgid)));
    for (const c of live) {
      const used = rss.get(c.s.pgid) ?? 0;
      c.peakRss = Math.max(c.peakRss, used);
      const limit = c.info.resource.memoryMB * 1024 * 1024;
      if (used > limit) {
        log.warn({ container: c.info.id, used, limit }, 'killing container over its memory limit');
        this.dispatch(c, { type: 'MemoryExceeded', usedMB: used / 1024 / 1024, limitMB: c.info.resource.memoryMB });
      }
    }
  }

  status(c: NmContainer): ContainerStatus {
    const done = c.s.status === 'DONE';
    return {
      containerId: c.info.id,
      appId: c.info.appId,
      state: done ? 'COMPLETE' : c.s.status === 'NEW' ? 'NEW' : 'RUNNING',
      ...(done ? { exitStatus: c.s.exitStatus } : {}),
      diagnostics: c.s.diagnostics,
      resource: c.info.resource,
    };
  }

  /** Live containers plus completions the RM has not acknowledged yet. */
  reportable(): ContainerStatus[] {
    return [...this.containers.values()].filter((c) => c.s.status !== 'DONE' || !c.s.acked).map((c) => this.status(c));
  }

  /** The RM received these statuses: completed ones are acknowledged (their recovery records go). */
  ack(statuses: ContainerStatus[]): void {
    for (const s of statuses) {
      const c = this.containers.get(s.containerId);
      if (c && s.state === 'COMPLETE' && c.s.status === 'DONE') this.dispatch(c, { type: 'Acked' });
    }
  }

  /** Apps this node holds containers or dirs for (RegisterNode.runningApps). */
  heldApps(): string[] {
    const apps = new Set([...this.containers.values()].map((c) => c.info.appId));
    for (const d of ['work', 'logs']) {
      const dir = path.join(this.conf.dir, d);
      if (fs.existsSync(dir)) for (const a of fs.readdirSync(dir)) apps.add(a);
    }
    return [...apps].sort();
  }

  logs(appId: string, containerId?: string): LogFile[] {
    checkPlainName(appId, 'application id');
    const dir = path.join(this.conf.dir, 'logs', appId);
    const out: LogFile[] = [];
    if (!fs.existsSync(dir)) return out;
    for (const cid of fs.readdirSync(dir)) {
      if (containerId && cid !== containerId) continue;
      const cdir = path.join(dir, cid);
      if (!fs.lstatSync(cdir).isDirectory()) continue;
      for (const file of fs.readdirSync(cdir)) {
        // the container owns its log dir: a symlink it put there (to a key, to /dev/zero) is not followed;
        // each file is capped at its last 8 MB so one chatty container cannot blow up a reply
        const buf = readOwnFile(path.join(cdir, file), 8 * 1024 * 1024);
        if (buf) out.push({ containerId: cid, nodeId: this.nodeId(), file, data: buf.toString('utf8') });
      }
    }
    return out;
  }

  /** Waits (bounded) until none of the chosen containers is still running or being killed. */
  private async settle(pick: (c: NmContainer) => boolean): Promise<void> {
    const deadline = Date.now() + this.conf.killGraceMs + 3_000;
    while (Date.now() < deadline && [...this.containers.values()].some((c) => pick(c) && c.s.status !== 'DONE'))
      await new Promise((r) => setTimeout(r, 25));
  }

  /** Kills an app's remaining containers and waits for them. */
  async stopApp(appId: string): Promise<void> {
    await Promise.all(
      [...this.containers.values()]
        .filter((c) => c.info.appId === appId && c.s.status !== 'DONE')
        .map((c) => this.stop(c.info.id, ExitStatus.KILLED_AFTER_APP_COMPLETION, `application ${appId} finished`)),
    );
    await this.settle((c) => c.info.appId === appId);
  }

  /** The app was cleaned up here: its dirs go, its uid is free again, cache entries only it used are evicted. */
  deleteAppDirs(appId: string): void {
    fs.rmSync(path.join(this.conf.dir, 'logs', appId), { recursive: true, force: true });
    fs.rmSync(path.join(this.conf.dir, 'work', appId), { recursive: true, force: true });
    for (const [id, c] of this.containers)
      if (c.info.appId === appId && c.s.status === 'DONE' && c.s.acked) this.containers.delete(id);
    // no process of the app is left (stopApp waited for them) and its dirs are gone: the uid is free
    if (![...this.containers.values()].some((c) => c.info.appId === appId && c.s.status !== 'DONE'))
      this.uids?.release(appId);
    this.localizer.release(appId);
  }

  /**
   * NM restart with isolation: the uid of each app with dirs here is the owner of its container dirs
   * (the allocation is recorded nowhere else). Returns appId -> uid adopted.
   */
  recoverUids(): Record<string, number> {
    if (!this.uids) return {};
    const work = path.join(this.conf.dir, 'work');
    for (const app of fs.existsSync(work) ? fs.readdirSync(work) : []) {
      for (const e of fs.readdirSync(path.join(work, app), { withFileTypes: true })) {
        if (!e.isDirectory()) continue;
        const uid = fs.lstatSync(path.join(work, app, e.name)).uid;
        if (uid !== process.getuid?.() && this.uids.adopt(app, uid)) break;
      }
    }
    return this.uids.snapshot();
  }

  /** Stops monitoring and watching; the containers and their records are left as they are. */
  detach(): void {
    if (this.monitor) clearInterval(this.monitor);
    if (this.watchTimer) clearInterval(this.watchTimer);
    this.watched.clear();
  }

  /** Graceful stop: kills every container (-106), waits for them, and leaves nothing to recover. */
  async stopAll(): Promise<void> {
    if (this.monitor) clearInterval(this.monitor);
    await Promise.all(
      [...this.containers.keys()].map((id) =>
        this.stop(id, ExitStatus.KILLED_BY_RESOURCEMANAGER, 'NodeManager shutting down'),
      ),
    );
    await this.settle(() => true);
    if (this.watchTimer) clearInterval(this.watchTimer);
    this.forgetAll();
    fs.rmSync(this.ownerFile, { force: true });
  }
}
