/**
 * Client deploy mode, driver side: the driver runs in this (the submitting) process. This backend
 * submits an Application Master to the ResourceManager, waits for it to dial back over the AM
 * channel (src/protocol/am.ts), asks it for executors, answers its liveness pings, and stops it with
 * the application's outcome. Executors on the cluster dial this driver directly.
 *
 * Stopping gets the driver's result recorded by the RM: Shutdown goes to the AM, which answers once it
 * has unregistered with it; if the AM is gone (it died near the end), the next AM attempt that dials in
 * gets the Shutdown instead. The RM's final report is then left for `cinder submit` (client-outcome.ts),
 * which exits 0 only when that record is SUCCEEDED. The app is killed only if no AM ever reached this
 * driver.
 */

import { randomBytes } from 'node:crypto';
import net from 'node:net';
import type { ClusterClient } from '../../cluster/client.js';
import { type Conf, intConf, type Master, parseMb, strConf } from '../../common/conf.js';
import { CinderError } from '../../common/errors.js';
import { logger } from '../../common/log.js';
import { setExecutorUser } from '../../io/output.js';
import { type AmToDriver, type DriverToAm, parseAmToDriver } from '../../protocol/am.js';
import { AM_LAUNCH_FILE, AM_LAUNCH_VERSION, encodeAmLaunch } from '../../protocol/am-launch.js';
import type { AppReport, LocalResource } from '../../protocol/cluster.js';
import { hasEnded } from '../../protocol/cluster.js';
import { type RpcConnection, type RpcServer, serve } from '../../rpc/index.js';
import type { DriverAddress, ExecutorBackend } from '../../scheduler/backend.js';
import { AM_MAIN } from '../am/am-main.js';
import { type ClientOutcome, recordClientOutcome } from '../client/client-outcome.js';
import { connectCluster, rejectUnlessFits } from '../client/cluster-connect.js';
import { ReportLines } from '../client/report-lines.js';
import { stageFiles } from '../client/staging.js';
import { clientAmSize, executorSize, totalMB } from '../container-sizing.js';

const log = logger('cluster-backend');

export interface ClientModeBackendOptions {
  master: Extract<Master, { kind: 'cluster' }>;
  conf: Conf;
  appName: string;
  files: string[];
  archives: string[];
  onFatal(e: Error): void;
}

export class ClientModeBackend implements ExecutorBackend {
  onAmRegistered: ExecutorBackend['onAmRegistered'];
  private client: ClusterClient | undefined;
  private appId = '';
  /** under `cinder submit`, the app's id, tracking address and state changes go to stderr as in cluster mode */
  private readonly lines = process.env.CINDER_SUBMIT_CONF ? new ReportLines((l) => process.stderr.write(l)) : undefined;
  private readonly secret = randomBytes(32).toString('hex');
  private amServer: RpcServer<AmToDriver, DriverToAm> | undefined;
  private amConn: RpcConnection<AmToDriver, DriverToAm> | undefined;

  /** event log lines written before the AM connected (bounded) */
  private eventLogBacklog: Array<{ data: string; final: boolean }> = [];
  private eventLogBacklogBytes = 0;

  mirrorEventLog(data: string, final: boolean): void {
    const c = this.amConn;
    if (c && !c.isClosed) {
      c.send({ type: 'EventLog', data, final });
      return;
    }
    if (this.eventLogBacklogBytes + data.length > 32 * 1024 * 1024) return; // the AM's copy stays partial
    this.eventLogBacklog.push({ data, final });
    this.eventLogBacklogBytes += data.length;
  }

  private monitor: NodeJS.Timeout | undefined;
  private checking = false;
  private resources: Record<string, LocalResource> = {};
  private ended = false;
  /** the RM's terminal report, once the monitor saw one */
  private endedReport: AppReport | undefined;
  private submitted = false;
  /** an AM attempt registered with this driver at least once */
  private amSeen = false;
  /** set while stopping: the result every AM that dials in from now on is told */
  private stopping: { succeeded: boolean; diagnostics: string } | undefined;
  /** wakes the stop loop when an AM (re)registers */
  private wake: (() => void) | undefined;
  /** start() completed; a context that failed to start is stopped as if it succeeded, which it did not */
  private started = false;
  private startError: Error | undefined;
  readonly targetCores: number;
  private readonly numExecutors: number;
  private readonly masterUrl: string;

  constructor(private readonly o: ClientModeBackendOptions) {
    this.numExecutors = Number(o.conf['cinder.executor.instances'] ?? '2');
    this.targetCores = this.numExecutors * intConf(o.conf, 'cinder.executor.cores');
    this.masterUrl = `cinder://${o.master.host}:${o.master.port}`;
  }

  /** Gets an application id from the RM and stages --files/--archives for the executors. */
  async prepare(): Promise<{ appId: string; secret: string; driverHost: string }> {
    this.client = await connectCluster(this.masterUrl, this.o.conf);
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
    try {
      await this.startOnCluster(driver, waitForRegistered);
      this.started = true;
    } catch (e) {
      this.startError = e as Error;
      throw e;
    }
  }

  private async startOnCluster(
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
    const maxAttempts = Number(conf['cinder.yarn.maxAppAttempts'] ?? '2');
    const contract = await client.uploadFile(
      this.appId,
      AM_LAUNCH_FILE,
      encodeAmLaunch({
        version: AM_LAUNCH_VERSION,
        mode: 'client',
        appName: this.o.appName,
        conf,
        driverUrl: `${driver.host}:${driver.port}`,
        driverAmUrl: `${driver.host}:${this.amServer.port}`,
        ...(driver.uiUrl ? { driverUiUrl: driver.uiUrl } : {}),
        executorResources: this.resources,
        maxAttempts,
      }),
    );
    await client.submitApplication({
      appId: this.appId,
      name: this.o.appName,
      queue: conf['cinder.yarn.queue'] ?? 'default',
      amResource: { memoryMB: totalMB(am), vcores: am.vcores },
      amLaunchContext: {
        command: ['node', AM_MAIN],
        env: {},
        localResources: { [AM_LAUNCH_FILE]: { ...contract, type: 'FILE' } },
      },
      maxAttempts,
      // the driver's secret becomes the app secret: the AM gets it in its credentials file, not its env
      appSecret: this.secret,
      tags: ['deploy-mode:client', `driver:${driver.host}:${driver.port}`],
    });
    this.submitted = true;
    this.lines?.submitted(this.appId, 'client', conf['cinder.yarn.queue'] ?? 'default');
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
      this.lines?.report(r);
      if (hasEnded(r.state))
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
        this.amSeen = true;
        // containers of another uid (NMs run them as the submitting user's): output dirs are handed to it
        setExecutorUser(
          m.uid !== undefined && m.uid !== process.getuid?.() ? { uid: m.uid, gid: m.gid ?? m.uid } : undefined,
        );
        reply?.reply({ ok: true });
        log.info({ attemptId: m.attemptId, amHost: m.amHost }, 'AM registered with the driver');
        this.onAmRegistered?.({ host: m.amHost, attemptId: m.attemptId });
        if (this.stopping) {
          // the driver is done: this attempt is only there to record its result (stop's loop tells it)
          this.wake?.();
          return;
        }
        for (const e of this.eventLogBacklog.splice(0)) conn.send({ type: 'EventLog', ...e });
        this.eventLogBacklogBytes = 0;
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

  /** The monitor: an app that ended on the cluster (killed, failed) or an RM gone for good ends the driver. */
  private async checkApp(): Promise<void> {
    if (this.ended || this.checking || this.stopping) return;
    this.checking = true;
    let r: AppReport;
    try {
      r = await this.client!.getApplication(this.appId);
    } catch (e) {
      // retried for the whole window already (src/rpc/reconnecting.ts)
      if (this.stopping) return;
      this.ended = true;
      return this.o.onFatal(
        new CinderError(
          (e as CinderError).code === 'UNREACHABLE' ? 'RM_LOST' : 'REPORT_FAILED',
          `the ResourceManager gave no report on ${this.appId}: ${(e as Error).message}`,
        ),
      );
    } finally {
      this.checking = false;
    }
    this.lines?.report(r);
    if (hasEnded(r.state) && !this.stopping) {
      this.ended = true;
      this.endedReport = r;
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
    if (!this.started && outcome.succeeded)
      outcome = {
        succeeded: false,
        diagnostics: `the driver did not start: ${this.startError?.message ?? 'its context was stopped while starting'}`,
      };
    this.stopping = outcome;
    const client = this.client;
    try {
      if (client && this.submitted) {
        const o = await this.record(client, outcome);
        recordClientOutcome(o);
        if (o.report) this.lines?.final(o.report, `logs: cinder logs ${this.appId}`);
        if (o.report?.state !== 'FINISHED' || o.report.finalStatus !== (outcome.succeeded ? 'SUCCEEDED' : 'FAILED'))
          log.info(
            {
              appId: this.appId,
              driver: outcome.succeeded,
              rm: o.report && `${o.report.state}/${o.report.finalStatus}`,
              error: o.error,
            },
            'the ResourceManager recorded another end than the driver result (see cinder submit for the exit code)',
          );
      }
    } finally {
      this.amConn?.close();
      await this.amServer?.close();
      client?.close();
    }
  }

  /**
   * Gets the driver's result recorded: Shutdown to the AM (answered once it unregistered), or to the next
   * AM attempt if this one is gone; returns the RM's final report, or why there is none after
   * cinder.am.waitTime.
   */
  private async record(
    client: ClusterClient,
    outcome: { succeeded: boolean; diagnostics: string },
  ): Promise<ClientOutcome> {
    const waitMs = intConf(this.o.conf, 'cinder.am.waitTime');
    const deadline = Date.now() + waitMs;
    const result = (report: AppReport | undefined, error?: string): ClientOutcome => ({
      appId: this.appId,
      succeeded: outcome.succeeded,
      report,
      error,
    });
    if (this.endedReport) return result(this.endedReport);
    if (!this.amSeen) {
      // no AM ever reached this driver: nothing runs for it on the cluster
      const why = outcome.diagnostics ? `: ${outcome.diagnostics.split('\n')[0]}` : '';
      await client.kill(this.appId, `the driver stopped before its AM registered${why}`).catch(() => {});
    }
    let told: RpcConnection<AmToDriver, DriverToAm> | undefined;
    for (;;) {
      const conn = this.amConn;
      if (this.amSeen && conn && !conn.isClosed && conn !== told) {
        told = conn;
        const answered = conn.request({ type: 'Shutdown', ...outcome }, Math.max(1, deadline - Date.now()));
        await Promise.race([answered.catch(() => {}), closed(conn)]);
      }
      let report: AppReport;
      try {
        report = await client.getApplication(this.appId);
      } catch (e) {
        return result(undefined, (e as Error).message);
      }
      if (hasEnded(report.state)) return result(report);
      if (Date.now() > deadline)
        return result(report, `still ${report.state} ${waitMs} ms after the driver stopped (cinder.am.waitTime)`);
      await new Promise<void>((res) => {
        const t = setTimeout(res, 200);
        this.wake = () => {
          clearTimeout(t);
          res();
        };
      });
      this.wake = undefined;
    }
  }
}

/** Resolves when the connection closes. */
function closed(conn: RpcConnection<AmToDriver, DriverToAm>): Promise<void> {
  return conn.isClosed ? Promise.resolve() : new Promise((res) => conn.once('close', () => res()));
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
