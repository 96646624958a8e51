/**
 * ClusterClient: what `cinder submit`, the operator CLI and the client-mode driver use to talk to the RM —
 * new application, staging uploads (sha256 computed here and checked by the RM), submission, reports,
 * kill, logs, nodes, identities. Authenticates with a user identity (a user token signed by the RM: the
 * principal is its identifier, the secret its password); the RM takes the user from it, so no request
 * names a user. No decisions, only requests.
 *
 * It survives an RM restart: every request is retried with backoff while the RM is unreachable, for up
 * to cinder.rm.connect.maxWaitMs (see rmRetryPolicy and src/rpc/reconnecting.ts). Requests are safe to
 * repeat except submission and kill, which first ask the RM whether their lost answer was applied.
 *
 * @example
 *   const c = await ClusterClient.connect('cinder://127.0.0.1:8032', { identity: readIdentity(file) });
 *   const { appId } = await c.newApplication();
 *   const f = await c.uploadFile(appId, 'app.js', './dist/app.js');
 *   await c.submitApplication({ appId, amResource: { memoryMB: 512, vcores: 1 },
 *     amLaunchContext: { command: ['node', 'app.js'], localResources: { 'app.js': { ...f, type: 'FILE' } } } });
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { CinderError } from '../common/errors.js';
import {
  type AppReport,
  type AppState,
  type AttemptReport,
  type ClusterInfo,
  hasEnded,
  type LogFile,
  type NodeReport,
  type NodeState,
  parseToNm,
  type Resource,
  type SubmissionContext,
  type ToNm,
  type ToRm,
  type UserIdentity,
} from '../protocol/cluster.js';
import { type Clock, dial, ReconnectingChannel, type RetryPolicy, type RpcConnection } from '../rpc/index.js';
import { parseMaster } from './common/config.js';
import { resolveIdentity } from './security/client-identity.js';

/** The RM retry settings and their defaults (a dev cluster: a minute, 250 ms doubling to 2 s). */
export const RM_CONNECT_KEYS = {
  maxWaitMs: 'cinder.rm.connect.maxWaitMs',
  retryIntervalMs: 'cinder.rm.connect.retryIntervalMs',
  maxRetryIntervalMs: 'cinder.rm.connect.maxRetryIntervalMs',
} as const;
export const RM_RETRY_DEFAULTS: RetryPolicy = { maxWaitMs: 60_000, retryIntervalMs: 250, maxRetryIntervalMs: 2_000 };

/** The RM retry policy from a configuration (cinder.rm.connect.*), defaults for what is not set. */
export function rmRetryPolicy(conf: Record<string, string | undefined> = {}): RetryPolicy {
  const out = { ...RM_RETRY_DEFAULTS };
  for (const [field, key] of Object.entries(RM_CONNECT_KEYS) as [keyof RetryPolicy, string][]) {
    const v = conf[key];
    if (v === undefined) continue;
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < 0)
      throw new CinderError('BAD_CONF', `${key}: '${v}' is not a number of milliseconds`, `set ${key}=<ms>`);
    out[field] = n;
  }
  return out;
}

export const RM_HINT =
  'check that the ResourceManager is running (`cinder cluster up` for a dev cluster) and reachable from this host; cinder.rm.connect.maxWaitMs sets how long clients wait for it';

export interface ClientOptions {
  /** the user identity (default: resolveIdentity(master), i.e. CINDER_IDENTITY or the dev cluster's admin) */
  identity?: UserIdentity;
  identityFile?: string;
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** how to wait for an RM that is restarting (default rmRetryPolicy()) */
  retry?: RetryPolicy;
  clock?: Clock;
}

type RmConn = RpcConnection<ToNm, ToRm>;

/** UploadFile chunk size: what the RM buffers per message. */
const UPLOAD_CHUNK_BYTES = 4 * 1024 * 1024;

export class ClusterClient {
  /** app id -> the channel generation when the RM reserved it (a later reconnect may have lost it) */
  private readonly reservedAt = new Map<string, number>();

  private constructor(
    private readonly ch: ReconnectingChannel<ToRm, RmConn>,
    readonly user: string,
    private readonly timeoutMs: number,
  ) {}

  static async connect(master: string, opts: ClientOptions = {}): Promise<ClusterClient> {
    const { host, port } = parseMaster(master);
    const identity = opts.identity ?? resolveIdentity(master, opts.identityFile);
    const policy = opts.retry ?? rmRetryPolicy();
    const ch = new ReconnectingChannel<ToRm, RmConn>({
      peer: 'ResourceManager',
      address: `${host}:${port}`,
      policy,
      hint: RM_HINT,
      ...(opts.clock ? { clock: opts.clock } : {}),
      dial: () =>
        dial<ToNm, ToRm>({
          host,
          port,
          principal: identity.token.identifier,
          secret: identity.token.password,
          parse: parseToNm,
          name: 'client->rm',
          connectTimeoutMs: Math.max(1, Math.min(opts.connectTimeoutMs ?? 10_000, policy.maxWaitMs)),
        }),
    });
    await ch.ready();
    return new ClusterClient(ch, identity.user, opts.requestTimeoutMs ?? 60_000);
  }

  /** A request that is safe to repeat (a read, or one whose repetition changes nothing that matters). */
  private req<R>(m: ToRm): Promise<R> {
    return this.ch.request<R>(m, { timeoutMs: this.timeoutMs });
  }

  /** The report, or undefined when the RM does not know the app; over one given connection. */
  private async reportOn(conn: RmConn, appId: string): Promise<AppReport | undefined> {
    try {
      return await conn.request<AppReport>({ type: 'GetApplicationReport', appId }, this.timeoutMs);
    } catch (e) {
      if ((e as CinderError).code === 'UNKNOWN_APP') return undefined;
      throw e;
    }
  }

  /** UNKNOWN_APP for an app reserved before a reconnect: the restarted RM forgot the reservation. */
  private reservationLost(appId: string, e: unknown): unknown {
    const at = this.reservedAt.get(appId);
    if ((e as CinderError).code !== 'UNKNOWN_APP' || at === undefined || at >= this.ch.generation) return e;
    return new CinderError(
      'RESERVATION_LOST',
      `the ResourceManager restarted after reserving ${appId} and before it was submitted, and forgot it: ${(e as Error).message}`,
      'submit again (a new application id is needed)',
    );
  }

  /** A repeat after a lost answer only leaves an unused id behind. */
  async newApplication(): Promise<{ appId: string; maxCapability: Resource }> {
    const r = await this.req<{ appId: string; maxCapability: Resource }>({ type: 'GetNewApplication' });
    this.reservedAt.set(r.appId, this.ch.generation);
    return r;
  }

  /** Stages bytes (or the file at a path) under a plain name for appId. */
  async uploadFile(appId: string, name: string, data: Uint8Array | string): Promise<{ sha256: string; size: number }> {
    const bytes = typeof data === 'string' ? fs.readFileSync(data) : data;
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    // staging is by name and content: sent twice, the same file is staged once. The size goes first (the
    // RM refuses a file over its limits before taking any byte), then the bytes in chunks
    const size = bytes.length;
    try {
      for (let offset = 0; ; offset += UPLOAD_CHUNK_BYTES) {
        const data = bytes.subarray(offset, Math.min(size, offset + UPLOAD_CHUNK_BYTES));
        const r = await this.req<{ sha256: string; size: number } | { received: number }>({
          type: 'UploadFile',
          appId,
          name,
          data: data as Uint8Array<ArrayBuffer>,
          sha256,
          size,
          offset,
        });
        if ('sha256' in r) return r;
      }
    } catch (e) {
      throw this.reservationLost(appId, e);
    }
  }

  /**
   * Submits once: when the answer is lost, the app's report says whether the RM applied the submission
   * (it persists the app before answering); only an app the RM does not know is submitted again.
   */
  async submitApplication(ctx: Omit<SubmissionContext, 'user'>): Promise<AppReport> {
    try {
      return await this.ch.request<AppReport>(
        { type: 'SubmitApplication', context: ctx as never },
        { timeoutMs: this.timeoutMs, recover: (conn) => this.reportOn(conn, ctx.appId) },
      );
    } catch (e) {
      throw this.reservationLost(ctx.appId, e);
    }
  }

  getApplication(appId: string): Promise<AppReport> {
    return this.req({ type: 'GetApplicationReport', appId });
  }

  listApplications(filter: { states?: AppState[]; queue?: string; owner?: string } = {}): Promise<AppReport[]> {
    return this.req({ type: 'GetApplications', ...filter });
  }

  attempts(appId: string): Promise<AttemptReport[]> {
    return this.req({ type: 'GetApplicationAttempts', appId });
  }

  /** A kill whose answer was lost is not sent again once the app has ended (then it reports KILLED as done here). */
  kill(appId: string, reason?: string): Promise<{ state: AppState; alreadyTerminal: boolean }> {
    return this.ch.request(
      { type: 'KillApplication', appId, ...(reason ? { reason } : {}) },
      {
        timeoutMs: this.timeoutMs,
        recover: async (conn) => {
          const r = await this.reportOn(conn, appId);
          if (!r || !hasEnded(r.state)) return undefined;
          return { state: r.state, alreadyTerminal: r.state !== 'KILLED' };
        },
      },
    );
  }

  getLogs(appId: string, containerId?: string): Promise<LogFile[]> {
    return this.req({ type: 'GetLogs', appId, ...(containerId ? { containerId } : {}) });
  }

  nodes(states?: NodeState[]): Promise<NodeReport[]> {
    return this.req({ type: 'GetClusterNodes', ...(states ? { states } : {}) });
  }

  clusterInfo(): Promise<ClusterInfo> {
    return this.req({ type: 'GetClusterInfo' });
  }

  /** Admins only: a new user identity signed by the RM. */
  issueIdentity(name: string, admin = false, ttlMs?: number): Promise<UserIdentity> {
    return this.req({ type: 'IssueIdentity', name, admin, ...(ttlMs ? { ttlMs } : {}) });
  }

  /** Who the RM takes this client for. */
  whoAmI(): Promise<{ user: string; admin: boolean }> {
    return this.req({ type: 'WhoAmI' });
  }

  /** Polls the report (every pollMs) until the app reaches one of states; throws on timeout. */
  async waitForState(appId: string, states: AppState[], timeoutMs = 60_000, pollMs = 100): Promise<AppReport> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await this.getApplication(appId);
      if (states.includes(r.state)) return r;
      if (Date.now() > deadline)
        throw new CinderError(
          'TIMEOUT',
          `application ${appId} is ${r.state}, not ${states.join('|')} after ${timeoutMs} ms${r.diagnostics ? `: ${r.diagnostics}` : ''}`,
        );
      await new Promise((res) => setTimeout(res, pollMs));
    }
  }

  close(): void {
    this.ch.close();
  }
}
