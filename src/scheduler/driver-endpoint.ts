/**
 * The driver's RPC endpoint that executors dial: registration, heartbeats, batched task status,
 * and serving broadcast values and files (code bundles, added files). Authenticated with the
 * application's secret (principal = app id). Detects lost executors (disconnect or heartbeat timeout).
 */
import { CinderError } from '../common/errors.js';
import { logger } from '../common/log.js';
import { type DriverToExecutor, type ExecutorToDriver, parseExecutorToDriver } from '../protocol/executor.js';
import { type PreListener, type RpcConnection, type RpcServer, serve } from '../rpc/index.js';
import type { TaskScheduler } from './task-scheduler.js';

const log = logger('driver-endpoint');

export interface EndpointHooks {
  appId: string;
  secret: string;
  getBroadcast(id: number): Uint8Array | undefined;
  getFile(name: string): Promise<Uint8Array>;
  executorAdded(id: string): void;
  executorLost(id: string, reason: string): void;
  blocksRemoved(id: string, blocks: string[]): void;
}

export class DriverEndpoint {
  private server: RpcServer<ExecutorToDriver, DriverToExecutor> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly waiters: Array<() => void> = [];

  constructor(
    private readonly ts: TaskScheduler,
    private readonly hooks: EndpointHooks,
    private readonly networkTimeoutMs: number,
  ) {}

  get port(): number {
    return this.server!.port;
  }

  /** Listens on bindHost:port, or adopts a port bound earlier (cluster-mode AM: see preListen). */
  async start(bindHost: string, port = 0, listener?: PreListener): Promise<void> {
    this.server = await serve<ExecutorToDriver, DriverToExecutor>(
      {
        host: bindHost,
        port,
        listener,
        name: 'driver',
        parse: parseExecutorToDriver,
        secretFor: (p) => (p === this.hooks.appId ? this.hooks.secret : undefined),
      },
      (conn) => {
        let executorId: string | undefined;
        conn.on('close', () => {
          if (executorId && this.ts.executors.get(executorId)?.conn === conn)
            this.lose(executorId, 'executor disconnected');
        });
        return (m, reply) => {
          if (m.type === 'RegisterExecutor') {
            if (this.ts.executors.has(m.executorId)) {
              reply?.fail(new CinderError('DUPLICATE_EXECUTOR', `executor id ${m.executorId} is already registered`));
              return;
            }
            executorId = m.executorId;
            this.register(conn, m);
            reply?.reply({ type: 'Registered', appId: this.hooks.appId });
            return;
          }
          this.onMessage(m, reply);
        };
      },
    );
    this.timer = setInterval(() => this.checkHeartbeats(), Math.max(100, Math.min(this.networkTimeoutMs / 4, 5000)));
    this.timer.unref();
  }

  private register(
    conn: RpcConnection<ExecutorToDriver, DriverToExecutor>,
    m: Extract<ExecutorToDriver, { type: 'RegisterExecutor' }>,
  ): void {
    const now = Date.now();
    // start-up time: launch request (NM or local spawn) to registered; clocks of one host, or NTP-close
    const launchToRegisterMs = m.launchRequestedAt !== undefined ? Math.max(0, now - m.launchRequestedAt) : undefined;
    this.ts.addExecutor({
      id: m.executorId,
      host: m.host,
      cores: m.cores,
      freeCores: m.cores,
      blockPort: m.blockPort,
      pid: m.pid,
      containerId: m.containerId,
      logUrls: m.logUrls,
      conn,
      lastHeartbeat: now,
      rssBytes: 0,
      registeredAt: now,
      launchToRegisterMs,
    });
    log.info({ executorId: m.executorId, host: m.host, cores: m.cores, launchToRegisterMs }, 'executor registered');
    this.hooks.executorAdded(m.executorId);
    for (const w of this.waiters.splice(0)) w();
  }

  private onMessage(m: ExecutorToDriver, reply: { reply(b: unknown): void; fail(e: unknown): void } | undefined): void {
    switch (m.type) {
      case 'StatusUpdates':
        this.ts.statusUpdates(m.executorId, m.updates);
        return;
      case 'Heartbeat': {
        const e = this.ts.executors.get(m.executorId);
        if (e) {
          e.lastHeartbeat = Date.now();
          e.rssBytes = m.rssBytes;
          e.heapUsedBytes = m.heapUsedBytes;
        }
        return;
      }
      case 'GetBroadcast': {
        const b = this.hooks.getBroadcast(m.id);
        if (b) reply?.reply(b);
        else reply?.fail(new CinderError('NO_SUCH_BROADCAST', `broadcast ${m.id} does not exist (destroyed?)`));
        return;
      }
      case 'GetFile':
        this.hooks.getFile(m.name).then(
          (d) => reply?.reply(d),
          (e) => reply?.fail(e),
        );
        return;
      case 'BlocksRemoved':
        this.hooks.blocksRemoved(m.executorId, m.blocks);
        return;
      case 'RegisterExecutor':
        return;
    }
  }

  private checkHeartbeats(): void {
    const now = Date.now();
    for (const e of [...this.ts.executors.values()]) {
      if (now - e.lastHeartbeat > this.networkTimeoutMs)
        this.lose(
          e.id,
          `no heartbeat for ${now - e.lastHeartbeat} ms (cinder.network.timeout=${this.networkTimeoutMs})`,
        );
    }
  }

  private lose(id: string, reason: string): void {
    const e = this.ts.executors.get(id);
    if (!e) return;
    this.ts.removeExecutor(id, reason);
    e.conn.close();
    this.hooks.executorLost(id, reason);
  }

  /** Resolves once at least n executors are registered. */
  async waitForExecutors(n: number, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.ts.executors.size < n) {
      const left = deadline - Date.now();
      if (left <= 0)
        throw new CinderError(
          'NO_EXECUTORS',
          `only ${this.ts.executors.size} of ${n} executors registered within ${timeoutMs} ms`,
          'check the executor logs; executors must be able to reach the driver',
        );
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 1000));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  broadcastToExecutors(m: DriverToExecutor): void {
    for (const e of this.ts.executors.values()) e.conn.send(m);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    // executors close their connection once they have read StopExecutor (then the server closes at once);
    // 200 ms at most for one that does not
    const closed = [...this.ts.executors.values()].map((e) =>
      e.conn.isClosed ? undefined : new Promise<void>((r) => e.conn.on('close', () => r())),
    );
    this.broadcastToExecutors({ type: 'StopExecutor', reason: 'driver stopping' });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(closed), new Promise<void>((r) => (timer = setTimeout(r, 200)))]);
    clearTimeout(timer);
    await this.server?.close();
  }
}
