/**
 * AM client library: what an ApplicationMaster uses to talk to the RM (register, allocate, finish)
 * and to NodeManagers (start/stop containers). It keeps the asks still outstanding so that after an
 * RM restart (resync) or reconnect they are sent again, reconnects to the RM within a bounded window,
 * and offers a heartbeat loop (default 3 s; 200 ms doubling up to the interval while asks are
 * pending). Configuration comes from the container env the NM sets (CINDER_RM, CINDER_SECRET_FILE,
 * CINDER_ATTEMPT_ID, CINDER_APP_SECRET). It makes no scheduling decisions for the app.
 *
 * @example
 *   const am = await AmRmClient.connect();
 *   await am.register('host', -1, '');
 *   const loop = am.heartbeatLoop({ onResponse: (r) => r.allocated.forEach((c) => am.startContainer(c, lc)) });
 *   am.addAsks([{ count: 2, resource: { memoryMB: 512, vcores: 1 } }]);
 */
import { CinderError } from '../../common/errors.js';
import { logger } from '../../common/log.js';
import {
  type AllocateResponse,
  type ContainerInfo,
  type FinalStatus,
  type LaunchContext,
  parseToNm,
  type ResourceAsk,
  type ToNm,
  type ToRm,
} from '../../protocol/cluster.js';
import { dial, type RpcConnection } from '../../rpc/index.js';
import { loadSecret, parseMaster } from '../common/config.js';

const log = logger('am-client');

export interface AmClientOptions {
  rm?: string;
  secret?: string;
  attemptId?: string;
  /** how long to keep trying to reach a restarted RM */
  reconnectWindowMs?: number;
}

export interface RegisterResponse {
  queue: string;
  clusterTimestamp: number;
  maxCapability: { memoryMB: number; vcores: number };
  /** this attempt's containers that survived an RM restart */
  runningContainers: ContainerInfo[];
}

export class AmRmClient {
  private conn: RpcConnection<ToNm, ToRm> | undefined;
  private readonly nmConns = new Map<string, Promise<RpcConnection<ToNm, ToNm>>>();
  /** asks not yet satisfied (sent again after an RM resync) */
  private outstanding: ResourceAsk[] = [];
  /** asks added since the last allocate */
  private fresh: ResourceAsk[] = [];
  private releases: string[] = [];
  private resendAll = false;
  progress = 0;

  private constructor(
    readonly attemptId: string,
    private readonly rm: { host: string; port: number },
    private readonly secret: string,
    private readonly reconnectWindowMs: number,
  ) {}

  static async connect(opts: AmClientOptions = {}): Promise<AmRmClient> {
    const rm = opts.rm ?? process.env.CINDER_RM;
    const attemptId = opts.attemptId ?? process.env.CINDER_ATTEMPT_ID;
    if (!rm || !attemptId)
      throw new CinderError(
        'AM_ENV',
        'CINDER_RM and CINDER_ATTEMPT_ID must be set (the NodeManager sets them in an AM container)',
      );
    const c = new AmRmClient(attemptId, parseMaster(rm), opts.secret ?? loadSecret(), opts.reconnectWindowMs ?? 60_000);
    await c.rmConn();
    return c;
  }

  private async rmConn(): Promise<RpcConnection<ToNm, ToRm>> {
    if (this.conn && !this.conn.isClosed) return this.conn;
    const deadline = Date.now() + this.reconnectWindowMs;
    let wait = 100;
    for (;;) {
      try {
        this.conn = await dial<ToNm, ToRm>({
          ...this.rm,
          principal: 'cluster',
          secret: this.secret,
          parse: parseToNm,
          name: 'am->rm',
          connectTimeoutMs: 3_000,
        });
        return this.conn;
      } catch (e) {
        if ((e as CinderError).code === 'AUTH_FAILED' || Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, wait));
        wait = Math.min(wait * 2, 1_000);
      }
    }
  }

  /** One RM request, retried over a reconnect when the connection drops (RM restart). */
  private async req<R>(m: ToRm): Promise<R> {
    for (let i = 0; ; i++) {
      const conn = await this.rmConn();
      try {
        return await conn.request<R>(m, 30_000);
      } catch (e) {
        const code = (e as CinderError).code;
        if ((code !== 'CONNECTION_CLOSED' && code !== 'RPC_TIMEOUT') || i >= 5) throw e;
        log.warn({ err: (e as Error).message }, 'lost the RM connection; reconnecting');
        this.resendAll = true;
      }
    }
  }

  register(host: string, rpcPort: number, trackingUrl = ''): Promise<RegisterResponse> {
    return this.req({ type: 'RegisterApplicationMaster', attemptId: this.attemptId, host, rpcPort, trackingUrl });
  }

  /** Queues asks for the next allocate. */
  addAsks(asks: ResourceAsk[]): void {
    for (const a of asks) {
      this.fresh.push({ ...a });
      this.outstanding.push({ ...a });
    }
    // new asks go to the RM at once, not at the next heartbeat (which may be seconds away)
    if (asks.length > 0) this.wakeLoop?.();
  }

  /** set while a heartbeatLoop sleeps: ends the sleep */
  private wakeLoop: (() => void) | undefined;

  /** Sends a new tracking URL with the next allocate (at once if a heartbeat loop is sleeping). */
  updateTrackingUrl(url: string): void {
    this.pendingTrackingUrl = url;
    this.wakeLoop?.();
  }

  private pendingTrackingUrl: string | undefined;

  release(containerIds: string[]): void {
    this.releases.push(...containerIds);
  }

  get pendingAsks(): number {
    return this.outstanding.reduce((s, a) => s + a.count, 0);
  }

  /** One heartbeat: sends queued asks and releases, returns newly allocated and completed containers. */
  async allocate(extra: { asks?: ResourceAsk[]; releases?: string[] } = {}): Promise<AllocateResponse> {
    if (extra.asks) this.addAsks(extra.asks);
    if (extra.releases) this.release(extra.releases);
    const asks = this.resendAll ? this.outstanding.map((a) => ({ ...a })) : this.fresh;
    const releases = this.releases;
    this.fresh = [];
    this.releases = [];
    this.resendAll = false;
    const trackingUrl = this.pendingTrackingUrl;
    this.pendingTrackingUrl = undefined;
    const r = await this.req<AllocateResponse>({
      type: 'Allocate',
      attemptId: this.attemptId,
      asks,
      releases,
      progress: this.progress,
      ...(trackingUrl !== undefined ? { trackingUrl } : {}),
    });
    if (r.resync) this.resendAll = true;
    for (const c of r.allocated) {
      const i = this.outstanding.findIndex(
        (a) => a.count > 0 && a.resource.memoryMB <= c.resource.memoryMB && a.resource.vcores <= c.resource.vcores,
      );
      if (i >= 0) this.outstanding[i]!.count--;
    }
    this.outstanding = this.outstanding.filter((a) => a.count > 0);
    return r;
  }

  finish(finalStatus: Exclude<FinalStatus, 'UNDEFINED'>, diagnostics = ''): Promise<unknown> {
    return this.req({ type: 'FinishApplicationMaster', attemptId: this.attemptId, finalStatus, diagnostics });
  }

  private nm(c: ContainerInfo): Promise<RpcConnection<ToNm, ToNm>> {
    const key = `${c.nodeHost}:${c.nodePort}`;
    let p = this.nmConns.get(key);
    if (!p) {
      p = dial<ToNm, ToNm>({
        host: c.nodeHost,
        port: c.nodePort,
        principal: 'cluster',
        secret: this.secret,
        parse: parseToNm,
        name: 'am->nm',
      });
      p.then((conn) => conn.on('close', () => this.nmConns.delete(key))).catch(() => this.nmConns.delete(key));
      this.nmConns.set(key, p);
    }
    return p;
  }

  /** Starts a container on its NM; the app secret is passed on unless the context sets one. */
  async startContainer(c: ContainerInfo, lc: LaunchContext): Promise<void> {
    const env = { ...(lc.env ?? {}) };
    if (!env.CINDER_APP_SECRET && process.env.CINDER_APP_SECRET) env.CINDER_APP_SECRET = process.env.CINDER_APP_SECRET;
    const conn = await this.nm(c);
    await conn.request(
      {
        type: 'StartContainer',
        container: c,
        user: process.env.CINDER_USER ?? '',
        launchContext: { localResources: {}, ...lc, env },
      },
      30_000,
    );
  }

  async stopContainer(c: ContainerInfo): Promise<void> {
    const conn = await this.nm(c);
    await conn.request(
      {
        type: 'StopContainer',
        containerId: c.id,
        exitStatus: -105,
        diagnostics: 'container stopped by the ApplicationMaster',
      },
      30_000,
    );
  }

  /**
   * Calls allocate every intervalMs (faster while asks are pending) and hands each response to
   * onResponse; onError gets failures (the loop stops after maxErrors in a row).
   */
  heartbeatLoop(opts: {
    intervalMs?: number;
    onResponse: (r: AllocateResponse) => void | Promise<void>;
    onError?: (e: Error) => void;
    maxErrors?: number;
  }): { stop(): void; done: Promise<void> } {
    const interval = opts.intervalMs ?? 3_000;
    let stopped = false;
    let wake: (() => void) | undefined;
    const done = (async () => {
      let fast = 200;
      let errors = 0;
      while (!stopped) {
        try {
          const r = await this.allocate();
          errors = 0;
          await opts.onResponse(r);
        } catch (e) {
          errors++;
          opts.onError?.(e as Error);
          if (errors >= (opts.maxErrors ?? 5)) throw e;
        }
        // asked for more (or got a tracking URL) while the last allocate was in flight
        if ((this.fresh.length > 0 || this.pendingTrackingUrl !== undefined) && !stopped) continue;
        const wait = this.pendingAsks > 0 ? fast : interval;
        fast = this.pendingAsks > 0 ? Math.min(fast * 2, interval) : 200;
        await new Promise<void>((r) => {
          const t = setTimeout(r, wait);
          wake = () => {
            clearTimeout(t);
            r();
          };
          this.wakeLoop = wake;
        });
        this.wakeLoop = undefined;
      }
    })();
    return {
      stop: () => {
        stopped = true;
        wake?.();
      },
      done,
    };
  }

  close(): void {
    this.conn?.close();
    for (const p of this.nmConns.values()) void p.then((c) => c.close()).catch(() => {});
  }
}
