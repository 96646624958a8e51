/**
 * Client deploy mode, driver side: the driver runs in this (the submitting) process. This backend
 * submits an Application Master to the ResourceManager, waits for it to dial back over the AM
 * channel (src/protocol/am.ts), asks it for executors, answers its liveness pings, and stops it with
 * the application's outcome. Executors on the cluster dial this driver directly.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import type { ClusterClient } from '../cluster/client.js';
import { type Conf, intConf, type Master, parseMb, strConf } from '../common/conf.js';
import { CinderError } from '../common/errors.js';
import { logger } from '../common/log.js';
import { type AmToDriver, type DriverToAm, parseAmToDriver } from '../protocol/am.js';
import type { AppReport, LocalResource } from '../protocol/cluster.js';
import { type RpcConnection, type RpcServer, serve } from '../rpc/index.js';
import type { DriverAddress, ExecutorBackend } from '../scheduler/backend.js';
import { AM_MAIN } from './am-launch.js';
import { connectCluster, rejectUnlessFits } from './cluster-connect.js';
import { clientAmSize, executorSize, totalMB } from './container-sizing.js';
import { stageFiles } from './staging.js';

const log = logger('cluster-backend');
const TERMINAL = new Set(['FINISHED', 'FAILED', 'KILLED']);

export interface ClusterBackendOptions {
  master: Extract<Master, { kind: 'cluster' }>;
  conf: Conf;
  appName: string;
  files: string[];
  archives: string[];
  onFatal(e: Error): void;
}

export class ClusterBackend implements ExecutorBackend {
  private client: ClusterClient | undefined;
  private appId = '';
  private readonly secret = randomBytes(32).toString('hex');
  private amServer: RpcServer<AmToDriver, DriverToAm> | undefined;
  private amConn: RpcConnection<AmToDriver, DriverToAm> | undefined;
  private uiUrl: string | undefined;

  setUiUrl(url: string): void {
    this.uiUrl = url;
    if (this.amConn && !this.amConn.isClosed) this.amConn.send({ type: 'TrackingUrl', url });
  }
  private monitor: NodeJS.Timeout | undefined;
  private resources: Record<string, LocalResource> = {};
  private ended = false;
  readonly targetCores: number;
  private readonly numExecutors: number;
  private readonly masterUrl: string;

  constructor(private readonly o: ClusterBackendOptions) {
    this.numExecutors = Number(o.conf['cinder.executor.instances'] ?? '2');
    this.targetCores = this.numExecutors * intConf(o.conf, 'cinder.executor.cores');
    this.masterUrl = `cinder://${o.master.host}:${o.master.port}`;
  }

  /** Gets an application id from the RM and stages --files/--archives for the executors. */
  async prepare(): Promise<{ appId: string; secret: string; driverHost: string }> {
    this.client = await connectCluster(this.masterUrl);
    const { appId, maxCapability } = await this.client.newApplication();
    this.appId = appId;
    // client mode checks its containers before anything starts, as cluster mode does
    await rejectUnlessFits(this.client, appId, [clientAmSize(this.o.conf), executorSize(this.o.conf)], maxCapability);
    this.resources = await stageFiles(this.client, appId, this.o.files, this.o.archives);
    const driverHost =
      this.o.conf['cinder.driver.host'] ?? (await localAddressTowards(this.o.master.host, this.o.master.port));
    return { appId, secret: this.secret, driverHost };
  }

  async start(
    driver: DriverAddress,
    waitForRegistered: (n: number, timeoutMs: number) => Promise<void>,
  ): Promise<void> {
    const client = this.client!;
    let registered!: () => void;
    const amRegistered = new Promise<void>((r) => (registered = r));
    this.amServer = await serve<AmToDriver, DriverToAm>(
      {
        host: driver.host,
        port: 0,
        name: 'driver-am',
        parse: parseAmToDriver,
        secretFor: (p) => (p === this.appId ? this.secret : undefined),
      },
      (conn) => (m, reply) => this.onAm(conn, m, reply, registered),
    );
    const conf = this.o.conf;
    const am = clientAmSize(conf);
    const env: Record<string, string> = {
      CINDER_AM_MODE: 'client',
      CINDER_APP_ID: this.appId,
      CINDER_DRIVER_URL: `${driver.host}:${driver.port}`,
      CINDER_DRIVER_AM_URL: `${driver.host}:${this.amServer.port}`,
      CINDER_DRIVER_SECRET: this.secret,
      ...(driver.uiUrl ? { CINDER_DRIVER_UI_URL: driver.uiUrl } : {}),
      CINDER_SUBMIT_CONF: JSON.stringify({ appName: this.o.appName, conf }),
      CINDER_EXEC_RESOURCES: JSON.stringify(this.resources),
      CINDER_MAX_ATTEMPTS: conf['cinder.yarn.maxAppAttempts'] ?? '2',
    };
    await client.submitApplication({
      appId: this.appId,
      name: this.o.appName,
      queue: conf['cinder.yarn.queue'] ?? 'default',
      amResource: { memoryMB: totalMB(am), vcores: am.vcores },
      amLaunchContext: { command: ['node', AM_MAIN], env, localResources: {} },
      maxAttempts: Number(env.CINDER_MAX_ATTEMPTS),
      tags: ['deploy-mode:client', `driver:${driver.host}:${driver.port}`],
    });
    log.info({ appId: this.appId }, 'application submitted; waiting for the AM');
    await this.waitFor(amRegistered, intConf(conf, 'cinder.am.waitTime'));
    this.monitor = setInterval(() => void this.checkApp(), intConf(conf, 'cinder.yarn.report.interval') || 1000);
    this.monitor.unref();
    const wait = intConf(conf, 'cinder.scheduler.maxRegisteredResourcesWaitingTime');
    await waitForRegistered(Math.max(1, Math.ceil(this.numExecutors * 0.8)), wait);
  }

  /** Waits for the AM to register, failing early with the app's diagnostics if it ends first. */
  private async waitFor(p: Promise<void>, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let done = false;
    void p.then(() => (done = true));
    while (!done) {
      const r = await this.client!.getApplication(this.appId);
      if (TERMINAL.has(r.state))
        throw new CinderError(
          'APP_ENDED',
          `application ${this.appId} ended ${r.state}/${r.finalStatus} before its AM registered: ${r.diagnostics}`,
        );
      if (Date.now() > deadline)
        throw new CinderError(
          'AM_TIMEOUT',
          `the AM of ${this.appId} did not register within ${timeoutMs} ms (state ${r.state}: ${r.diagnostics})`,
          'check `cinder status` and the AM log (`cinder logs`)',
        );
      await Promise.race([p, new Promise((r2) => setTimeout(r2, 200))]);
    }
  }

  private onAm(
    conn: RpcConnection<AmToDriver, DriverToAm>,
    m: AmToDriver,
    reply: { reply(b: unknown): void; fail(e: unknown): void } | undefined,
    registered: () => void,
  ): void {
    switch (m.type) {
      case 'RegisterClusterManager': {
        this.amConn = conn;
        reply?.reply({ ok: true });
        if (this.uiUrl) conn.send({ type: 'TrackingUrl', url: this.uiUrl });
        log.info({ attemptId: m.attemptId, amHost: m.amHost }, 'AM registered with the driver');
        const memoryMB = parseMb(strConf(this.o.conf, 'cinder.executor.memory')!, 'cinder.executor.memory');
        conn.send({
          type: 'RequestExecutors',
          total: this.numExecutors,
          memoryMB,
          cores: intConf(this.o.conf, 'cinder.executor.cores'),
        });
        registered();
        return;
      }
      case 'Ping':
        reply?.reply({ at: m.at });
        return;
      case 'ExecutorExited':
        if (m.countsAsFailure)
          log.warn(
            { executorId: m.executorId, exitStatus: m.exitStatus, diagnostics: m.diagnostics },
            'executor container failed',
          );
        return;
      case 'AppFailing':
        this.o.onFatal(
          new CinderError(
            'APP_FAILED',
            `the application is failing on the cluster (exit ${m.exitCode}): ${m.diagnostics}`,
          ),
        );
        return;
    }
  }

  private async checkApp(): Promise<void> {
    if (this.ended) return;
    let r: AppReport;
    try {
      r = await this.client!.getApplication(this.appId);
    } catch {
      return;
    }
    if (TERMINAL.has(r.state)) {
      this.ended = true;
      this.o.onFatal(
        new CinderError(
          'APP_ENDED',
          `application ${this.appId} ended on the cluster: ${r.state}/${r.finalStatus}: ${r.diagnostics}`,
        ),
      );
    }
  }

  executorLost(): void {
    // the AM sees the container complete and asks the RM for a replacement
  }

  async stop(outcome = { succeeded: true, diagnostics: '' }): Promise<void> {
    if (this.monitor) clearInterval(this.monitor);
    const client = this.client;
    if (this.amConn && !this.amConn.isClosed) this.amConn.send({ type: 'Shutdown', ...outcome });
    else if (client && this.appId && !this.ended)
      await client.kill(this.appId, 'driver stopped before its AM registered').catch(() => {});
    if (client && this.appId) {
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline) {
        const r = await client.getApplication(this.appId).catch(() => undefined);
        if (!r || TERMINAL.has(r.state)) break;
        await new Promise((res) => setTimeout(res, 200));
      }
    }
    this.amConn?.close();
    await this.amServer?.close();
    client?.close();
  }
}

/** The local address this host uses to reach host:port (what executors on the cluster can dial back). */
function localAddressTowards(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port }, () => {
      const a = s.localAddress ?? '127.0.0.1';
      s.destroy();
      resolve(a.replace(/^::ffff:/, ''));
    });
    s.on('error', () => resolve('127.0.0.1'));
  });
}
