/**
 * ClusterClient: what `cinder submit` and the operator CLI use to talk to the RM — new application,
 * staging uploads (sha256 computed here and checked by the RM), submission, reports, kill, logs,
 * nodes. Authenticates with the cluster secret (CINDER_SECRET / CINDER_SECRET_FILE, never argv) and
 * names the caller (CINDER_USER or the OS user) for ACLs. No decisions, only requests.
 *
 * @example
 *   const c = await ClusterClient.connect('cinder://127.0.0.1:8032');
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
  type LogFile,
  type NodeReport,
  type NodeState,
  parseToNm,
  type Resource,
  type SubmissionContext,
  type ToNm,
  type ToRm,
} from '../protocol/cluster.js';
import { dial, type RpcConnection } from '../rpc/index.js';
import { currentUser, loadSecret, parseMaster } from './common/config.js';

export interface ClientOptions {
  secret?: string;
  secretFile?: string;
  user?: string;
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
}

export class ClusterClient {
  private constructor(
    private readonly conn: RpcConnection<ToNm, ToRm>,
    readonly user: string,
    private readonly timeoutMs: number,
  ) {}

  static async connect(master: string, opts: ClientOptions = {}): Promise<ClusterClient> {
    const { host, port } = parseMaster(master);
    const secret = opts.secret ?? loadSecret(opts.secretFile);
    const conn = await dial<ToNm, ToRm>({
      host,
      port,
      principal: 'cluster',
      secret,
      parse: parseToNm,
      name: 'client->rm',
      connectTimeoutMs: opts.connectTimeoutMs ?? 10_000,
    });
    return new ClusterClient(conn, opts.user ?? currentUser(), opts.requestTimeoutMs ?? 60_000);
  }

  private req<R>(m: ToRm): Promise<R> {
    return this.conn.request<R>(m, this.timeoutMs);
  }

  newApplication(): Promise<{ appId: string; maxCapability: Resource }> {
    return this.req({ type: 'GetNewApplication', user: this.user });
  }

  /** Stages bytes (or the file at a path) under a plain name for appId. */
  async uploadFile(appId: string, name: string, data: Uint8Array | string): Promise<{ sha256: string; size: number }> {
    const bytes = typeof data === 'string' ? fs.readFileSync(data) : data;
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    return this.req({
      type: 'UploadFile',
      appId,
      user: this.user,
      name,
      data: bytes as Uint8Array<ArrayBuffer>,
      sha256,
    });
  }

  submitApplication(ctx: Omit<SubmissionContext, 'user'> & { user?: string }): Promise<AppReport> {
    return this.req({ type: 'SubmitApplication', context: { ...ctx, user: ctx.user ?? this.user } as never });
  }

  getApplication(appId: string): Promise<AppReport> {
    return this.req({ type: 'GetApplicationReport', appId, user: this.user });
  }

  listApplications(filter: { states?: AppState[]; queue?: string; owner?: string } = {}): Promise<AppReport[]> {
    return this.req({ type: 'GetApplications', user: this.user, ...filter });
  }

  attempts(appId: string): Promise<AttemptReport[]> {
    return this.req({ type: 'GetApplicationAttempts', appId, user: this.user });
  }

  kill(appId: string, reason?: string): Promise<{ state: AppState; alreadyTerminal: boolean }> {
    return this.req({ type: 'KillApplication', appId, user: this.user, ...(reason ? { reason } : {}) });
  }

  getLogs(appId: string, containerId?: string): Promise<LogFile[]> {
    return this.req({ type: 'GetLogs', appId, user: this.user, ...(containerId ? { containerId } : {}) });
  }

  nodes(states?: NodeState[]): Promise<NodeReport[]> {
    return this.req({ type: 'GetClusterNodes', ...(states ? { states } : {}) });
  }

  clusterInfo(): Promise<ClusterInfo> {
    return this.req({ type: 'GetClusterInfo' });
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
    this.conn.close();
  }
}
