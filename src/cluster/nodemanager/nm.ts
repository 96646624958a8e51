/**
 * A NodeManager daemon: registers with the RM and heartbeats (container statuses up, kills and app
 * cleanups down), re-registers after an RM restart or when told to resync (work-preserving: running
 * containers are reported, not killed), serves ToNm for AMs on its own port and for the RM on the
 * connection it dialled, fetches staged resources for the localizer, and aggregates an ended app's
 * logs to the RM before deleting them. On start it takes over its dir: with recoveryEnabled it
 * reacquires the containers a crashed NM left (work-preserving NM restart), else it kills them. A
 * graceful stop kills every container. Container mechanics live in containers.ts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CREDENTIALS_ENV, writeCredentials } from '../../common/credentials.js';
import { CinderError } from '../../common/errors.js';
import { parseContainerId } from '../../common/ids.js';
import { logger } from '../../common/log.js';
import {
  type ContainerStatus,
  type HeartbeatResponse,
  parseToNm,
  type RegisterNodeResponse,
  type ToNm,
  type ToRm,
} from '../../protocol/cluster.js';
import { dial, type ReplyHandle, type RpcConnection, type RpcServer, serve } from '../../rpc/index.js';
import { type NmConfig, parseMaster } from '../common/config.js';
import { containerTokenKey } from '../security/keys.js';
import { fastifyTlsOptions } from '../security/web-tls.js';
import { checkAppScope, checkStart, type NmCaller, nmCallerOf, nmSecretFor } from './container-auth.js';
import { ContainerManager } from './containers.js';
import { AppUids, parseUidRange, untraversableAncestor } from './isolation.js';

/** the engine install (the package root): containers load their code from it */
const ENGINE_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

import { Localizer } from './localizer.js';
import { NmMetrics, startNmHttp } from './nm-http.js';

const log = logger('nm');

export class NodeManager {
  private rmConn: RpcConnection<ToNm, ToRm> | undefined;
  private server: RpcServer<ToNm, ToRm> | undefined;
  private hbTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  nodeId = '';
  readonly containers: ContainerManager;
  readonly localizer: Localizer;
  /** verifies container tokens (derived from the cluster secret, as on the RM) */
  private readonly containerKey: Buffer;
  /** secrets of containers not yet spawned (written to their credentials file at spawn, then dropped) */
  private readonly pendingCredentials = new Map<string, Record<string, string>>();
  private registering: Promise<void> | undefined;
  readonly metrics: NmMetrics;
  private http: Awaited<ReturnType<typeof startNmHttp>> | undefined;
  /** host:port of the HTTP listener ('' when off) */
  get httpAddress(): string {
    return this.http?.address ?? '';
  }

  constructor(
    readonly conf: NmConfig,
    private readonly secret: string,
  ) {
    fs.mkdirSync(conf.dir, { recursive: true, mode: 0o700 });
    this.containerKey = containerTokenKey(secret);
    const uids = isolationPool(conf);
    fs.chmodSync(conf.dir, uids ? 0o711 : 0o700);
    this.localizer = new Localizer(
      path.join(conf.dir, 'cache'),
      async (appId, sha256) => {
        const conn = await this.connection();
        const r = await conn.request<{ data: Uint8Array }>({ type: 'FetchResource', appId, sha256 }, 120_000);
        return r.data;
      },
      conf.maxUnpackedBytes,
      conf.maxCacheBytes,
    );
    const pass = ['PATH', 'HOME', 'LANG', 'TMPDIR', 'TZ', 'CINDER_LOG_LEVEL', 'CINDER_TEST', 'CINDER_RPC_ENCRYPTION'];
    this.containers = new ContainerManager(
      conf,
      this.localizer,
      (info, workDir) => {
        // no daemon secret or key reaches a container: only its own credentials, in a 0600 file in its dir
        const env: Record<string, string> = { CINDER_RM: conf.rm };
        for (const k of pass) if (process.env[k] !== undefined) env[k] = process.env[k]!;
        const creds = this.pendingCredentials.get(info.id);
        this.pendingCredentials.delete(info.id);
        if (creds && Object.keys(creds).length > 0) {
          const file = path.join(workDir, '.cinder-credentials.json');
          writeCredentials(file, creds);
          env[CREDENTIALS_ENV] = file;
        }
        return env;
      },
      () => this.nodeId,
      Date.now,
      uids,
    );
    this.metrics = new NmMetrics({
      running: () =>
        [...this.containers.containers.values()].filter((c) => c.s.status !== 'DONE').map((c) => c.info.resource),
      cacheDir: path.join(conf.dir, 'cache'),
      cacheCounts: () => ({ downloads: this.localizer.downloads, hits: this.localizer.hits }),
    });
  }

  async start(): Promise<{ port: number }> {
    // HTTPS for /metrics unless webTls=false: refuses a missing certificate before anything starts
    const c = this.conf;
    if (c.httpPort >= 0 && c.webTls && (!c.webCertFile || !c.webKeyFile))
      throw new CinderError(
        'WEB_TLS',
        'the NodeManager serves /metrics over HTTPS (webTls) but has no certificate: webCertFile and webKeyFile are not set',
        '`cinder cluster up` makes one; for a NodeManager started by hand: `cinder cluster cert --ca-dir CA_DIR --host THIS_HOST --out PREFIX`, then --set webCertFile=PREFIX.pem --set webKeyFile=PREFIX.key; or --http-port -1 (no /metrics listener), or --set webTls=false (plain HTTP, trusted single host only)',
      );
    const webTls = c.httpPort >= 0 ? fastifyTlsOptions(c) : {};
    // from here on, containers on this dir (including ones a crashed NM left) belong to this process
    this.containers.claimOwnership();
    const uids = this.containers.recoverUids();
    if (Object.keys(uids).length) log.info({ uids }, 'container uids of the apps with dirs on this node');
    let recovered = 0;
    if (this.conf.recoveryEnabled) {
      const r = await this.containers.recover();
      recovered = r.reacquired + r.completed;
      if (r.reacquired || r.completed || r.killed)
        log.info(r, 'recovered the containers of the previous NodeManager on this dir');
    } else {
      const stale = await this.containers.killStale();
      if (stale) log.warn({ count: stale }, 'killed containers left by a previous NodeManager on this dir');
    }
    // the node id is host:port: with recovered containers and no fixed port, come back on the last port
    // so the RM sees the same node (YARN needs a fixed NM port for recovery)
    const portFile = path.join(this.conf.dir, 'nm.port');
    const last = Number(fs.existsSync(portFile) ? fs.readFileSync(portFile, 'utf8') : 0);
    const serveOn = (port: number) =>
      serve<ToNm, ToRm>(
        {
          parse: parseToNm,
          // AMs dial with a container token of their app; the RM uses the connection this NM dialled
          secretFor: nmSecretFor(this.containerKey),
          host: this.conf.host,
          port,
          name: 'nodemanager',
        },
        (conn) => {
          const from = nmCallerOf(conn.principal);
          return (m, r) => this.handle(m, r, from);
        },
      );
    if (this.conf.port === 0 && recovered > 0 && last > 0)
      this.server = await serveOn(last).catch((e: Error) => {
        log.warn({ port: last, err: e.message }, 'cannot listen on the previous port; the RM will see a new node');
        return undefined;
      });
    this.server ??= await serveOn(this.conf.port);
    fs.writeFileSync(portFile, String(this.server.port));
    this.nodeId = `${this.conf.host}:${this.server.port}`;
    this.containers.startMonitor();
    if (this.conf.httpPort >= 0)
      this.http = await startNmHttp(this.metrics, this.conf.httpHost, this.conf.httpPort, this.secret, webTls);
    await this.register();
    this.hbTimer = setInterval(() => void this.heartbeat(), this.conf.heartbeatMs);
    this.hbTimer.unref();
    return { port: this.server.port };
  }

  /** Handles ToNm from AMs (own port, app-scoped by their container token) and from the RM (its connection). */
  private handle(m: ToNm, r: ReplyHandle | undefined, from: NmCaller): void {
    const ok = (v: unknown) => r?.reply(v ?? {});
    const fail = (e: unknown) => r?.fail(e);
    try {
      switch (m.type) {
        case 'StartContainer': {
          if (this.stopped)
            throw new CinderError(
              'NM_STOPPING',
              `NodeManager ${this.nodeId} is shutting down and starts no containers`,
              'the ResourceManager places it elsewhere',
            );
          const granted = checkStart(this.containerKey, this.nodeId, m, from, Date.now());
          const { token: _token, ...info } = m.container;
          // isolated: the container runs as the uid the RM gave its user (refused when missing or out of range)
          this.containers.uids?.assign(info.appId, granted.uid);
          if (m.credentials) this.pendingCredentials.set(info.id, m.credentials);
          try {
            this.containers.start(info, m.launchContext);
            this.metrics.launched();
          } catch (e) {
            this.pendingCredentials.delete(info.id);
            throw e;
          }
          ok({ containerId: m.container.id });
          return;
        }
        case 'StopContainer': {
          const c = this.containers.containers.get(m.containerId);
          if (c) checkAppScope(from, c.info.appId, `StopContainer ${m.containerId}`);
          else if (from.kind === 'app')
            checkAppScope(from, parseContainerId(m.containerId)?.app ?? '', `StopContainer ${m.containerId}`);
          void this.containers
            .stop(m.containerId, m.exitStatus ?? -105, m.diagnostics ?? 'stopped by the ApplicationMaster')
            .then(() => ok({}), fail);
          return;
        }
        case 'GetContainerStatuses': {
          const all = [...this.containers.containers.values()]
            .filter((c) => from.kind === 'rm' || c.info.appId === from.appId)
            .map((c) => this.containers.status(c));
          ok({ statuses: m.containerIds ? all.filter((s) => m.containerIds!.includes(s.containerId)) : all });
          return;
        }
        case 'GetContainerLogs':
          // the RM checked the app's view ACL; an AM reads only its own app's logs
          checkAppScope(from, m.appId, `GetContainerLogs of ${m.appId}`);
          ok({ logs: this.containers.logs(m.appId, m.containerId) });
          return;
      }
    } catch (e) {
      fail(e);
    }
  }

  private async connection(): Promise<RpcConnection<ToNm, ToRm>> {
    if (this.rmConn && !this.rmConn.isClosed) return this.rmConn;
    const { host, port } = parseMaster(this.conf.rm);
    const conn = await dial<ToNm, ToRm>(
      {
        host,
        port,
        principal: 'cluster',
        secret: this.secret,
        parse: parseToNm,
        name: 'nm->rm',
        connectTimeoutMs: 3_000,
      },
      (m, r) => this.handle(m, r, { kind: 'rm' }),
    );
    conn.on('close', () => {
      if (this.rmConn === conn) this.rmConn = undefined;
    });
    this.rmConn = conn;
    return conn;
  }

  /**
   * (Re-)registers, reporting live containers (an RM restart or this NM's own restart keeps them) and
   * every app it holds containers or dirs for; the RM answers with the ended ones, cleaned up here as
   * after a heartbeat.
   */
  private register(): Promise<void> {
    this.registering ??= (async () => {
      const conn = await this.connection();
      const sts = this.containers.reportable();
      const r = await conn.request<Partial<RegisterNodeResponse> & { nodeId: string }>(
        {
          type: 'RegisterNode',
          host: this.conf.host,
          port: Number(this.nodeId.split(':').pop()),
          capacity: { memoryMB: this.conf.memoryMB, vcores: this.conf.vcores },
          labels: this.conf.labels,
          containers: sts,
          runningApps: this.containers.heldApps(),
          ...(this.http ? { httpAddress: this.http.address } : {}),
        },
        10_000,
      );
      this.containers.ack(sts);
      this.metrics.reported(sts);
      this.lastRegisteredConn = conn;
      log.info({ nodeId: r.nodeId, appsToCleanup: r.appsToCleanup ?? [] }, 'registered with the ResourceManager');
      // an RM without the runningApps answer replies without appsToCleanup
      for (const appId of r.appsToCleanup ?? []) void this.cleanupApp(appId);
    })().finally(() => {
      this.registering = undefined;
    });
    return this.registering;
  }

  private beating = false;
  private async heartbeat(): Promise<void> {
    if (this.beating || this.stopped) return;
    this.beating = true;
    try {
      const conn = await this.connection().catch(() => undefined);
      if (!conn) return;
      if (conn !== this.lastRegisteredConn) {
        // a new connection means the RM may have restarted: register again first
        await this.register();
        return;
      }
      const sts: ContainerStatus[] = this.containers.reportable();
      const r = await conn.request<HeartbeatResponse>(
        { type: 'NodeHeartbeat', nodeId: this.nodeId, containers: sts },
        10_000,
      );
      if (r.resync) {
        await this.register();
        return;
      }
      this.containers.ack(sts);
      this.metrics.reported(sts);
      for (const k of r.containersToKill) void this.containers.stop(k.containerId, k.exitStatus, k.diagnostics);
      for (const appId of r.appsToCleanup) void this.cleanupApp(appId);
    } catch (e) {
      log.debug({ err: (e as Error).message }, 'heartbeat failed; will retry');
    } finally {
      this.beating = false;
    }
  }
  private lastRegisteredConn: RpcConnection<ToNm, ToRm> | undefined;

  private readonly cleaning = new Set<string>();
  /** App ended: kill leftovers, upload logs to the RM, delete the app's dirs. */
  private async cleanupApp(appId: string): Promise<void> {
    if (this.cleaning.has(appId)) return;
    this.cleaning.add(appId);
    try {
      await this.containers.stopApp(appId);
      const logs = this.containers.logs(appId);
      if (logs.length) {
        const conn = await this.connection();
        await conn.request(
          {
            type: 'UploadLogs',
            appId,
            nodeId: this.nodeId,
            logs: logs.map((l) => ({ containerId: l.containerId, file: l.file, data: Buffer.from(l.data) })),
          },
          60_000,
        );
      }
      this.containers.deleteAppDirs(appId);
    } catch (e) {
      log.warn({ app: appId, err: (e as Error).message }, 'app cleanup / log aggregation failed');
    } finally {
      this.cleaning.delete(appId);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.hbTimer) clearInterval(this.hbTimer);
    // leave the RM first, so nothing more is placed here while the containers are stopped
    if (this.rmConn && !this.rmConn.isClosed && this.nodeId)
      await this.rmConn.request({ type: 'UnregisterNode', nodeId: this.nodeId }, 2_000).catch(() => {});
    await this.containers.stopAll();
    await this.http?.app.close();
    this.rmConn?.close();
    await this.server?.close();
  }

  /** Closes the daemon without touching its containers (they stay recoverable on disk). */
  async abandon(): Promise<void> {
    this.stopped = true;
    if (this.hbTimer) clearInterval(this.hbTimer);
    this.containers.detach();
    this.rmConn?.close();
    await this.http?.app.close();
    await this.server?.close();
  }
}

/**
 * The app -> uid records when containers are isolated: the NM is root and containerUidRange is set. Says clearly
 * when they are not; refuses to start when a container could not reach its own dir under conf.dir.
 */
function isolationPool(conf: NmConfig): AppUids | undefined {
  const range = parseUidRange(conf.containerUidRange);
  const root = process.getuid?.() === 0;
  if (!root || !range) {
    log.warn(
      { user: os.userInfo().username, containerUidRange: conf.containerUidRange },
      root
        ? 'containers are NOT isolated: containerUidRange is none, so they run as root and can read this NodeManager dir and each other'
        : `containers are NOT isolated: the NodeManager is not root, so every container runs as its user (${os.userInfo().username}) and can read this NodeManager dir and the other containers (run it as root to run each container as its submitting user's uid)`,
    );
    return undefined;
  }
  // a container must reach its own dir under conf.dir, and read the engine's code (and node) it runs
  const needs: Array<[string, string]> = [
    [path.dirname(path.resolve(conf.dir)), `their dirs under ${conf.dir}`],
    [ENGINE_ROOT, `Cinder's code at ${ENGINE_ROOT}`],
    [path.dirname(process.execPath), `node at ${process.execPath}`],
  ];
  for (const [dir, what] of needs) {
    const blocked = untraversableAncestor(dir);
    if (!blocked) continue;
    const fix = `chmod o+x ${blocked}, or install Cinder and choose the NM --dir under directories others can enter (e.g. /opt, /var/lib)`;
    if (range.auto) {
      log.warn(
        { blocked, containerUidRange: conf.containerUidRange },
        `containers are NOT isolated: they would run as uids ${range.lo}-${range.hi} but could not reach ${what} (${blocked} is not searchable by others); ${fix}`,
      );
      return undefined;
    }
    throw new CinderError(
      'NM_ISOLATION',
      `containers run as uids ${conf.containerUidRange} but cannot reach ${what}: ${blocked} is not searchable by others`,
      `${fix}, or set containerUidRange=none (containers not isolated)`,
    );
  }
  log.info(
    { containerUidRange: conf.containerUidRange },
    'containers are isolated: each runs as the uid of its submitting user (assigned by the ResourceManager)',
  );
  return new AppUids(range.lo, range.hi);
}

export async function startNodeManager(conf: NmConfig, secret: string): Promise<{ nm: NodeManager; port: number }> {
  const nm = new NodeManager(conf, secret);
  try {
    const { port } = await nm.start();
    return { nm, port };
  } catch (e) {
    // a failed start (port taken, RM unreachable) must not kill the containers it just reacquired: the
    // next NM on this dir takes them over (or they end themselves after orphanKillMs)
    await nm.abandon().catch(() => {});
    throw e instanceof CinderError
      ? e
      : new CinderError('NM_START', `NodeManager could not start: ${(e as Error).message}`);
  }
}
