/**
 * MiniCluster: an RM and N NodeManagers as real processes (`node bin/cinder.js ...`), with short
 * heartbeat/liveness settings, fault helpers (kill/restart a node or the RM on the same ports and
 * dirs), waitFor (polling, no fixed sleeps) and a cleanup that kills every daemon and container
 * process group and removes the temp dir. Optionally runs each daemon inside a network namespace
 * (see netns.ts) with its own address. It hands out user identities signed with the RM's master key
 * (identityFile, client(user), cli(..., { user }), restToken(user)); the default user is the OS user, not
 * an admin. Test-only code.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fetch as undiciFetch } from 'undici';
import { ClusterClient } from '../../src/cluster/client.js';
import { writeSecretFile } from '../../src/cluster/common/config.js';
import { alive } from '../../src/cluster/devcluster.js';
import { untraversableAncestor } from '../../src/cluster/nodemanager/isolation.js';
import { groupAlive, killGroup } from '../../src/cluster/nodemanager/process-tree.js';
import { DAY_MS, issueIdentity, writeIdentity } from '../../src/cluster/security/identity.js';
import { containerTokenKey, loadOrCreateMasterKey } from '../../src/cluster/security/keys.js';
import { bearer, mintToken } from '../../src/cluster/security/tokens.js';
import { certHosts, clusterCaAgent, ensureClusterCa, issueServerCert } from '../../src/cluster/security/web-tls.js';
import type { AppReport, AttemptReport, NodeReport, Token } from '../../src/protocol/cluster.js';
import { newSecret } from '../../src/rpc/index.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const CINDER = path.join(ROOT, 'bin/cinder.js');
export const SIMPLE_AM = path.join(ROOT, 'build/src/cluster/appmaster/simple-am.js');
export const SUBMIT_SIMPLE = path.join(ROOT, 'build/test/harness/submit-simple.js');

export interface MiniClusterOptions {
  nodes: number;
  nodeMemoryMB?: number;
  nodeVcores?: number;
  /** extra RM config keys (--set) */
  rm?: Record<string, string | number>;
  /** extra NM config keys (--set) */
  nm?: Record<string, string | number>;
  /** per-host placement: address to bind and a command prefix (e.g. ['ip','netns','exec','ns']) */
  rmHost?: { addr: string; prefix: string[] };
  nmHosts?: { addr: string; prefix: string[] }[];
  /** where clients run (the harness then talks to the cluster only through the CLI there) */
  clientPrefix?: string[];
}

interface Daemon {
  proc: ChildProcess;
  port: number;
  dir: string;
  log: string;
}

export class MiniCluster {
  readonly dir: string;
  readonly secret = newSecret();
  readonly secretFile: string;
  rm!: Daemon & { restPort: number };
  readonly nms: (Daemon | undefined)[] = [];
  private nmPorts: number[] = [];

  private constructor(readonly opts: MiniClusterOptions) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-mini-'));
    // NMs running as root give containers uids of their own: they must be able to reach their dirs
    fs.chmodSync(this.dir, 0o711);
    this.secretFile = path.join(this.dir, 'cluster.secret');
    writeSecretFile(this.secretFile, this.secret);
    // created before the RM starts (it keeps it), so identities can be issued here as an operator would
    this.masterKey = loadOrCreateMasterKey(path.join(this.dir, 'rm'));
    // the cluster CA and the RM's HTTPS certificate, as `cinder cluster up` makes them
    this.caFile = ensureClusterCa(this.dir).caFile;
    this.web = issueServerCert(this.dir, path.join(this.dir, 'rm', 'web'), certHosts(this.rmAddr));
  }

  /** the cluster CA (DIR/ca.pem): REST clients trust it */
  readonly caFile: string;
  private readonly web: { certFile: string; keyFile: string };
  private agent: ReturnType<typeof clusterCaAgent> | undefined;

  /** The REST API's base URL (https unless the suite set webTls=false). */
  get restBase(): string {
    const plain = String(this.opts.rm?.webTls) === 'false';
    return `${plain ? 'http' : 'https'}://127.0.0.1:${this.rm.restPort}/ws/v1/cluster`;
  }

  /** SPKI sha256 (base64) of the RM's web certificate: a browser pinned to it verifies the RM (startBrowser spkiPins). */
  get webSpkiPin(): string {
    const cert = new X509Certificate(fs.readFileSync(this.web.certFile));
    return createHash('sha256')
      .update(cert.publicKey.export({ type: 'spki', format: 'der' }))
      .digest('base64');
  }

  /** fetch (undici) trusting this cluster's CA, as a REST client of it would. */
  fetch = (url: string, init: Parameters<typeof undiciFetch>[1] = {}): ReturnType<typeof undiciFetch> => {
    this.agent ??= clusterCaAgent(this.caFile);
    return undiciFetch(url, { ...init, dispatcher: this.agent });
  };

  private readonly masterKey: Buffer;
  /** the user the harness acts as when no user is named */
  readonly defaultUser = os.userInfo().username;

  /** A 0600 identity file for user (an admin's when admin), issued once per cluster. */
  identityFile(user = this.defaultUser, admin = false): string {
    const d = path.join(this.dir, 'identities');
    fs.mkdirSync(d, { recursive: true, mode: 0o700 });
    const f = path.join(d, `${user}${admin ? '.admin' : ''}.identity`);
    if (!fs.existsSync(f)) writeIdentity(f, issueIdentity(this.masterKey, user, admin, DAY_MS, Date.now()));
    return f;
  }

  /**
   * A container token of appId for node i, as the RM signs one for an allocation (here for a container
   * id the RM never allocated): what an AM of that app holds to dial the node. Test-only.
   */
  containerToken(appId: string, i: number, containerN = 999_999): Token {
    return mintToken(containerTokenKey(this.secret), {
      kind: 'container',
      containerId: `container_${appId.slice('application_'.length)}_01_${String(containerN).padStart(6, '0')}`,
      appId,
      nodeId: this.nodeId(i),
      resource: { memoryMB: 128, vcores: 1 },
      user: this.defaultUser,
      exp: Date.now() + 3_600_000,
    });
  }

  /** An AM token for attemptId, as the RM puts in the AM container's credentials file. Test-only. */
  amToken(attemptId: string, appId: string, user = this.defaultUser): Token {
    return mintToken(this.masterKey, { kind: 'am', attemptId, appId, user, exp: Date.now() + 3_600_000 });
  }

  /** A REST bearer token for user. */
  restToken(user = this.defaultUser, admin = false): string {
    return bearer(JSON.parse(fs.readFileSync(this.identityFile(user, admin), 'utf8')).token);
  }

  static async start(opts: MiniClusterOptions): Promise<MiniCluster> {
    const c = new MiniCluster(opts);
    try {
      await c.startRm(0, 0);
      await Promise.all(Array.from({ length: opts.nodes }, (_, i) => c.startNode(i)));
      await c.waitFor(
        async () => (await c.nodes()).filter((n) => n.state === 'RUNNING').length === opts.nodes,
        15_000,
        'all nodes registered',
      );
    } catch (e) {
      await c.cleanup();
      throw e;
    }
    return c;
  }

  get rmAddr(): string {
    return this.opts.rmHost?.addr ?? '127.0.0.1';
  }
  get master(): string {
    return `cinder://${this.rmAddr}:${this.rm.port}`;
  }

  private spawnDaemon(
    prefix: string[],
    args: string[],
    log: string,
    readyFile: string,
    extraEnv: Record<string, string> = {},
  ): Promise<{ proc: ChildProcess; ready: Record<string, number> }> {
    fs.rmSync(readyFile, { force: true });
    const fd = fs.openSync(log, 'a');
    const argv = [...prefix, process.execPath, CINDER, ...args, '--ready-file', readyFile];
    const env: Record<string, string | undefined> = {
      ...process.env,
      CINDER_SECRET_FILE: this.secretFile,
      CINDER_LOG_LEVEL: 'info',
      ...extraEnv,
    };
    delete env.CINDER_SECRET;
    const proc = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', fd, fd], env });
    fs.closeSync(fd);
    return new Promise((resolve, reject) => {
      const t0 = Date.now();
      const poll = () => {
        if (fs.existsSync(readyFile)) return resolve({ proc, ready: JSON.parse(fs.readFileSync(readyFile, 'utf8')) });
        if (proc.exitCode !== null || Date.now() - t0 > 15_000)
          return reject(new Error(`${args[0]} did not start: ${fs.readFileSync(log, 'utf8').slice(-1500)}`));
        setTimeout(poll, 15);
      };
      poll();
    });
  }

  async startRm(port = this.rm?.port ?? 0, restPort = this.rm?.restPort ?? 0): Promise<void> {
    const dir = path.join(this.dir, 'rm');
    const log = path.join(this.dir, 'rm.log');
    const sets = {
      minAllocationMB: 128,
      nmLivenessMs: 3000,
      amLivenessMs: 10000,
      livenessCheckMs: 200,
      webCertFile: this.web.certFile,
      webKeyFile: this.web.keyFile,
      ...this.opts.rm,
    };
    const args = [
      'resourcemanager',
      '--host',
      this.rmAddr,
      '--port',
      String(port),
      '--rest-port',
      String(restPort),
      '--dir',
      dir,
    ];
    for (const [k, v] of Object.entries(sets)) args.push('--set', `${k}=${v}`);
    const { proc, ready } = await this.spawnDaemon(
      this.opts.rmHost?.prefix ?? [],
      args,
      log,
      path.join(this.dir, 'rm.ready'),
      ownEncryption(this.opts.rm),
    );
    this.rm = { proc, port: ready.port!, restPort: ready.restPort!, dir, log };
  }

  async startNode(i: number): Promise<void> {
    const host = this.opts.nmHosts?.[i];
    const dir = path.join(this.dir, `nm${i}`);
    const log = path.join(this.dir, `nm${i}.log`);
    // the /metrics listener's HTTPS certificate: the RM's (cluster CA; its names cover the NMs' loopback
    // listeners), which saves the suite two openssl runs per node; `cinder cluster up` gives NMs their own
    const web = this.web;
    const sets = {
      heartbeatMs: 200,
      monitorMs: 200,
      killGraceMs: 500,
      webCertFile: web.certFile,
      webKeyFile: web.keyFile,
      ...this.opts.nm,
    };
    const args = [
      'nodemanager',
      '--rm',
      `${this.rmAddr}:${this.rm.port}`,
      '--host',
      host?.addr ?? '127.0.0.1',
      '--port',
      String(this.nmPorts[i] ?? 0),
      '--dir',
      dir,
      '--memory-mb',
      String(this.opts.nodeMemoryMB ?? 2048),
      '--vcores',
      String(this.opts.nodeVcores ?? 4),
    ];
    for (const [k, v] of Object.entries(sets)) args.push('--set', `${k}=${v}`);
    const { proc, ready } = await this.spawnDaemon(
      host?.prefix ?? [],
      args,
      log,
      path.join(dir, 'nm.ready'),
      ownEncryption(this.opts.nm),
    );
    this.nmPorts[i] = ready.port!;
    this.nms[i] = { proc, port: ready.port!, dir, log };
  }

  nodeId(i: number): string {
    return `${this.opts.nmHosts?.[i]?.addr ?? '127.0.0.1'}:${this.nmPorts[i]}`;
  }

  private async killProc(p: ChildProcess | undefined, sig: NodeJS.Signals): Promise<void> {
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill(sig);
    await exited;
  }

  async killNode(i: number, sig: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await this.killProc(this.nms[i]?.proc, sig);
  }
  restartNode(i: number): Promise<void> {
    return this.startNode(i);
  }
  async killRm(sig: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await this.killProc(this.rm.proc, sig);
  }
  restartRm(): Promise<void> {
    return this.startRm();
  }

  async client(user?: string, admin = false): Promise<ClusterClient> {
    return ClusterClient.connect(this.master, { identityFile: this.identityFile(user, admin) });
  }

  async withClient<T>(fn: (c: ClusterClient) => Promise<T>, user?: string): Promise<T> {
    const c = await this.client(user);
    try {
      return await fn(c);
    } finally {
      c.close();
    }
  }

  /** Node reports, through the client library or (clientPrefix) the CLI on the client host. */
  async nodes(): Promise<NodeReport[]> {
    if (!this.opts.clientPrefix) return this.withClient((c) => c.nodes());
    const r = await this.cli(['nodes', '--json'], { prefix: this.opts.clientPrefix });
    if (r.code !== 0) throw new Error(r.stderr);
    return JSON.parse(r.stdout) as NodeReport[];
  }

  /** An app report via the CLI on the client host (as user). */
  async status(appId: string, user: string): Promise<AppReport & { attemptList: AttemptReport[] }> {
    const r = await this.cli(['status', appId, '--json'], { prefix: this.opts.clientPrefix ?? [], user });
    if (r.code !== 0) throw new Error(r.stderr);
    return JSON.parse(r.stdout);
  }

  /** Submits from the client host through a separate process. */
  async submitRemote(o: SimpleSubmit, user: string): Promise<{ appId?: string; error?: string }> {
    const r = await this.runOnClient(
      [process.execPath, SUBMIT_SIMPLE, JSON.stringify({ ...o, master: this.master })],
      user,
    );
    return JSON.parse(r.stdout || '{}');
  }

  /** Runs argv on the client host with user's identity (CINDER_IDENTITY) and no daemon secret. */
  runOnClient(argv: string[], user?: string): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const env: Record<string, string | undefined> = { ...process.env, CINDER_IDENTITY: this.identityFile(user) };
      delete env.CINDER_SECRET;
      delete env.CINDER_SECRET_FILE;
      const full = [...(this.opts.clientPrefix ?? []), ...argv];
      const p = spawn(full[0]!, full.slice(1), { env });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d) => {
        stdout += d;
      });
      p.stderr.on('data', (d) => {
        stderr += d;
      });
      p.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    });
  }

  /** Polls pred until true; fails with `what` and the last error after timeoutMs. */
  async waitFor(pred: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
      try {
        if (await pred()) return;
      } catch (e) {
        last = e;
      }
      if (Date.now() > deadline)
        throw new Error(
          `timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`,
        );
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  submitSimple(cl: ClusterClient, o: SimpleSubmit): Promise<string> {
    return submitSimpleApp(cl, o);
  }

  /** Runs the cinder CLI as a user would (with user's identity, default the harness user), against this cluster. */
  cli(
    args: string[],
    o: { prefix?: string[]; env?: Record<string, string>; user?: string; admin?: boolean } = {},
  ): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const env: Record<string, string | undefined> = {
        ...process.env,
        CINDER_IDENTITY: this.identityFile(o.user, o.admin),
        CINDER_MASTER: this.master,
      };
      delete env.CINDER_SECRET;
      delete env.CINDER_SECRET_FILE;
      Object.assign(env, o.env);
      const argv = [...(o.prefix ?? []), process.execPath, CINDER, ...args];
      const p = spawn(argv[0]!, argv.slice(1), { env });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d) => {
        stdout += d;
      });
      p.stderr.on('data', (d) => {
        stderr += d;
      });
      p.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    });
  }

  /** Container process groups still alive on node i (from its pid dir). */
  liveContainerGroups(i?: number): number[] {
    const out: number[] = [];
    const dirs =
      i === undefined ? this.nms.map((_, j) => path.join(this.dir, `nm${j}`)) : [path.join(this.dir, `nm${i}`)];
    for (const d of dirs) {
      const pd = path.join(d, 'pids');
      if (!fs.existsSync(pd)) continue;
      for (const f of fs.readdirSync(pd)) {
        const g = Number(fs.readFileSync(path.join(pd, f), 'utf8'));
        if (groupAlive(g)) out.push(g);
      }
    }
    return out;
  }

  async cleanup(): Promise<void> {
    await this.agent?.close();
    await Promise.all(this.nms.map((n) => this.killProc(n?.proc, 'SIGKILL')));
    await this.killProc(this.rm?.proc, 'SIGKILL');
    await Promise.all(this.liveContainerGroups().map((g) => killGroup(g, 0)));
    if (process.env.CINDER_KEEP_TEST_DIR) process.stderr.write(`kept ${this.dir}\n`);
    else fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

export { alive };

/** A daemon whose suite sets rpcEncryption gets it from that key only, not from this process's env. */
function ownEncryption(sets: Record<string, string | number> | undefined): Record<string, string> {
  return sets?.rpcEncryption === undefined ? {} : { CINDER_RPC_ENCRYPTION: '' };
}

/**
 * A temp dir that jobs on the cluster can use as they would /tmp (mode 1777): root NodeManagers run
 * containers as their submitting user's uid, which must read inputs and create outputs there (a plain
 * mkdtemp dir is 0700). Removed by the caller.
 */
export function sharedTempDir(prefix: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(d, 0o1777);
  return d;
}

/**
 * Why processes of another uid (isolated containers, user nobody) cannot run this checkout's code: the
 * first ancestor of the repo others may not enter (a clone under a 0700 `mktemp -d`), or undefined.
 */
export function repoClosedToOthers(): string | undefined {
  return untraversableAncestor(ROOT);
}

export interface SimpleSubmit {
  containers: number;
  command: string[];
  memoryMB?: number;
  amMemoryMB?: number;
  /** name -> content (strings) or bytes, staged and linked into every container */
  files?: Record<string, { data: Uint8Array | string; type?: 'FILE' | 'ARCHIVE' }>;
  queue?: string;
  name?: string;
  acls?: { view: string[]; modify: string[] };
  maxAttempts?: number;
  /** the tracking URL its AM registers (default none) */
  trackingUrl?: string;
  /** the app secret (default: one the RM makes) */
  appSecret?: string;
}

/** Submits a simple-am app; returns its id. */
export async function submitSimpleApp(cl: ClusterClient, o: SimpleSubmit): Promise<string> {
  const { appId } = await cl.newApplication();
  const localResources: Record<string, { sha256: string; size: number; type: 'FILE' | 'ARCHIVE' }> = {};
  for (const [name, f] of Object.entries(o.files ?? {})) {
    const r = await cl.uploadFile(appId, name, typeof f.data === 'string' ? Buffer.from(f.data) : f.data);
    localResources[name] = { ...r, type: f.type ?? 'FILE' };
  }
  const spec = {
    containers: o.containers,
    resource: { memoryMB: o.memoryMB ?? 128, vcores: 1 },
    intervalMs: 200,
    launchContext: { command: o.command, localResources },
    ...(o.trackingUrl ? { trackingUrl: o.trackingUrl } : {}),
  };
  await cl.submitApplication({
    appId,
    name: o.name ?? 'test',
    ...(o.queue ? { queue: o.queue } : {}),
    ...(o.acls ? { acls: o.acls } : {}),
    ...(o.maxAttempts ? { maxAttempts: o.maxAttempts } : {}),
    ...(o.appSecret ? { appSecret: o.appSecret } : {}),
    amResource: { memoryMB: o.amMemoryMB ?? 256, vcores: 1 },
    amLaunchContext: { command: ['node', SIMPLE_AM, JSON.stringify(spec)] },
  });
  return appId;
}
