/**
 * AM client library: what an ApplicationMaster uses to talk to the RM (register, allocate, finish)
 * and to NodeManagers (start/stop containers). It keeps the asks still outstanding so that after an
 * RM restart (the RM answers `resync`) or a reconnect they are sent again, retries the RM with backoff
 * for up to cinder.rm.connect.maxWaitMs while it restarts (src/rpc/reconnecting.ts), and offers a
 * heartbeat loop (default 3 s; 200 ms doubling up to the interval while asks are pending). Configuration
 * comes from the container env the NM sets (CINDER_RM, CINDER_ATTEMPT_ID) and the container's 0600
 * credentials file (CINDER_AM_TOKEN: this attempt's AM token, the only credential it has for the RM;
 * CINDER_APP_SECRET). NMs are dialled with the container token of the container at hand (the RM signs
 * one per allocation). It makes no scheduling decisions for the app.
 *
 * Errors it ends with: ATTEMPT_ENDED / UNKNOWN_ATTEMPT (the RM says this attempt is over: the AM must
 * exit) and UNREACHABLE (the RM stayed away for the whole window).
 *
 * @example
 *   const am = await AmRmClient.connect();
 *   await am.register('host', -1, '');
 *   const loop = am.heartbeatLoop({ onResponse: (r) => r.allocated.forEach((c) => am.startContainer(c, lc)) });
 *   am.addAsks([{ count: 2, resource: { memoryMB: 512, vcores: 1 } }]);
 */
import { takeCredentials } from '../../common/credentials.js';
import { CinderError } from '../../common/errors.js';
import { own } from '../../common/keep-alive.js';
import {
  type AllocateResponse,
  type AppReport,
  type ContainerInfo,
  type FinalStatus,
  hasEnded,
  type LaunchContext,
  parseToNm,
  type ResourceAsk,
  Token,
  type ToNm,
  type ToRm,
} from '../../protocol/cluster.js';
import { type Clock, dial, ReconnectingChannel, type RetryPolicy, type RpcConnection } from '../../rpc/index.js';
import { RM_HINT, rmRetryPolicy } from '../client.js';
import { parseMaster } from '../common/config.js';

/** RM answers meaning "this attempt is over": the AM must exit, there is nothing to retry. */
export const ATTEMPT_OVER = new Set(['ATTEMPT_ENDED', 'UNKNOWN_ATTEMPT']);

export function attemptOver(e: unknown): boolean {
  return ATTEMPT_OVER.has(String((e as CinderError | undefined)?.code));
}

export interface AmClientOptions {
  rm?: string;
  /** this attempt's AM token (default: CINDER_AM_TOKEN from the credentials file) */
  token?: Token;
  attemptId?: string;
  /** how to wait for a restarting RM (default rmRetryPolicy(), i.e. cinder.rm.connect.* defaults) */
  retry?: RetryPolicy;
  clock?: Clock;
}

export interface RegisterResponse {
  queue: string;
  clusterTimestamp: number;
  maxCapability: { memoryMB: number; vcores: number };
  /** this attempt's containers that survived an RM restart */
  runningContainers: ContainerInfo[];
}

type RmConn = RpcConnection<ToNm, ToRm>;

export class AmRmClient {
  private readonly rm: ReconnectingChannel<ToRm, RmConn>;
  private readonly nmConns = new Map<string, Promise<RpcConnection<ToNm, ToNm>>>();
  /** asks not yet satisfied (sent again after an RM resync) */
  private outstanding: ResourceAsk[] = [];
  /** asks added since the last allocate */
  private fresh: ResourceAsk[] = [];
  private releases: string[] = [];
  private resendAll = false;
  /** the responseId of the last allocate answer received (0: none yet) */
  private lastResponseId = 0;
  progress = 0;

  private constructor(
    readonly attemptId: string,
    address: { host: string; port: number },
    token: Token,
    policy: RetryPolicy,
    clock: Clock | undefined,
  ) {
    this.rm = new ReconnectingChannel<ToRm, RmConn>({
      peer: 'ResourceManager',
      address: `${address.host}:${address.port}`,
      policy,
      hint: RM_HINT,
      ...(clock ? { clock } : {}),
      dial: () =>
        dial<ToNm, ToRm>({
          ...address,
          principal: token.identifier,
          secret: token.password,
          parse: parseToNm,
          name: 'am->rm',
          connectTimeoutMs: 3_000,
        }),
    });
  }

  static async connect(opts: AmClientOptions = {}): Promise<AmRmClient> {
    const rm = opts.rm ?? process.env.CINDER_RM;
    const attemptId = opts.attemptId ?? process.env.CINDER_ATTEMPT_ID;
    if (!rm || !attemptId)
      throw new CinderError(
        'AM_ENV',
        'CINDER_RM and CINDER_ATTEMPT_ID must be set (the NodeManager sets them in an AM container)',
      );
    const c = new AmRmClient(
      attemptId,
      parseMaster(rm),
      opts.token ?? amTokenFromCredentials(),
      opts.retry ?? rmRetryPolicy(),
      opts.clock,
    );
    await c.rm.ready();
    return c;
  }

  /** application_<ts>_<seq> of appattempt_<ts>_<seq>_<n> */
  get appId(): string {
    return this.attemptId.replace(/^appattempt_/, 'application_').replace(/_\d+$/, '');
  }

  /**
   * One RM request, retried over reconnects while the RM restarts. Register and allocate are repeatable
   * (a repeated allocate may ask twice; the allocator releases what it does not need). A restarted RM
   * answers the first allocate with resync, and every outstanding ask is sent again.
   */
  private req<R>(m: ToRm): Promise<R> {
    return this.rm.request<R>(m, { timeoutMs: 30_000 });
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
      lastResponseId: this.lastResponseId,
    });
    this.lastResponseId = r.responseId;
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

  /**
   * Unregisters once: when the answer is lost, the app's report says whether the RM recorded the end
   * (then it is not sent again; the AM runs as the app's user, who may read the report).
   */
  finish(finalStatus: Exclude<FinalStatus, 'UNDEFINED'>, diagnostics = ''): Promise<unknown> {
    return this.rm.request(
      { type: 'FinishApplicationMaster', attemptId: this.attemptId, finalStatus, diagnostics },
      {
        timeoutMs: 30_000,
        recover: async (conn) => {
          const r = await conn.request<AppReport>({ type: 'GetApplicationReport', appId: this.appId }, 30_000);
          return hasEnded(r.state) ? r : undefined;
        },
      },
    );
  }

  private nm(c: ContainerInfo): Promise<RpcConnection<ToNm, ToNm>> {
    const key = `${c.nodeHost}:${c.nodePort}`;
    let p = this.nmConns.get(key);
    if (!p) {
      if (!c.token)
        return Promise.reject(
          new CinderError('NO_CONTAINER_TOKEN', `container ${c.id} came without a container token`),
        );
      // the connection is scoped to this app by the container token it authenticates with
      p = dial<ToNm, ToNm>({
        host: c.nodeHost,
        port: c.nodePort,
        principal: c.token.identifier,
        secret: c.token.password,
        parse: parseToNm,
        name: 'am->nm',
      });
      p.then((conn) => conn.on('close', () => this.nmConns.delete(key))).catch(() => this.nmConns.delete(key));
      this.nmConns.set(key, p);
    }
    return p;
  }

  /**
   * Starts a container on its NM with its container token. Secrets go in `credentials` (the NM writes
   * them to a 0600 file in the container's dir); this AM's app secret is passed on unless they set one.
   */
  async startContainer(c: ContainerInfo, lc: LaunchContext, credentials: Record<string, string> = {}): Promise<void> {
    const creds = { ...credentials };
    const own = takeCredentials().CINDER_APP_SECRET;
    if (!creds.CINDER_APP_SECRET && own) creds.CINDER_APP_SECRET = own;
    const conn = await this.nm(c);
    await conn.request(
      {
        type: 'StartContainer',
        container: c,
        user: process.env.CINDER_USER ?? '',
        launchContext: { localResources: {}, env: {}, ...lc },
        credentials: creds,
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
          // allocate already retried for the whole window, and an ended attempt will not come back
          if (attemptOver(e) || (e as CinderError).code === 'UNREACHABLE' || errors >= (opts.maxErrors ?? 5)) throw e;
        }
        // asked for more (or got a tracking URL) while the last allocate was in flight
        if ((this.fresh.length > 0 || this.pendingTrackingUrl !== undefined) && !stopped) continue;
        const wait = this.pendingAsks > 0 ? fast : interval;
        fast = this.pendingAsks > 0 ? Math.min(fast * 2, interval) : 200;
        await new Promise<void>((r) => {
          // unref'd in a cluster-mode AM: the heartbeat alone does not keep a finished app up
          const t = own(setTimeout(r, wait));
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
    this.rm.close();
    for (const p of this.nmConns.values()) void p.then((c) => c.close()).catch(() => {});
  }
}

/** The AM token the RM put in this container's credentials file. */
function amTokenFromCredentials(): Token {
  const raw = takeCredentials().CINDER_AM_TOKEN;
  const t = raw ? Token.safeParse(JSON.parse(raw)) : undefined;
  if (!t?.success)
    throw new CinderError(
      'AM_ENV',
      'no AM token: CINDER_AM_TOKEN is missing from the credentials file ($CINDER_CREDENTIALS_FILE)',
      'the ResourceManager puts it there when it launches an AM container',
    );
  return t.data;
}
