/**
 * `cinder cluster up|down`: a development cluster on this machine. `up` writes a fresh 0600 daemon
 * secret into DIR, creates the RM's master key and an admin identity for the OS user (DIR/admin.identity,
 * 0600: the clients' default for this cluster) and the cluster CA with the RM's HTTPS certificate
 * (DIR/ca.pem: REST clients trust it; decision 0016), spawns a detached RM and N detached NMs (each with its own dir and ports, all on
 * 127.0.0.1, logs under DIR/logs), records pids and the master URL in DIR/cluster.json, and returns
 * once every NM is registered. `down` stops them (NMs first, which kill their containers), then
 * kills any container process group still listed in an NM pid dir, and verifies nothing is left.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CinderError } from '../common/errors.js';
import { applyEncryptionSetting, ENCRYPTION_DAEMON_KEY } from '../rpc/encryption.js';
import { newSecret } from '../rpc/index.js';
import { ClusterClient } from './client.js';
import { writeSecretFile } from './common/config.js';
import type { DevClusterInfo } from './dev-dir.js';
import { untraversableAncestor } from './nodemanager/isolation.js';
import { groupAlive, killGroup } from './nodemanager/process-tree.js';
import { DAY_MS, issueIdentity, writeIdentity } from './security/identity.js';
import { loadOrCreateMasterKey } from './security/keys.js';
import { caFiles, certHosts, ensureClusterCa, issueServerCert } from './security/web-tls.js';

export const CINDER_BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bin/cinder.js');

export { type DevClusterInfo, defaultDevDir, readDevCluster } from './dev-dir.js';

/** True while pid runs (a zombie waiting for its reaper counts as gone). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return st.slice(st.lastIndexOf(')') + 2, st.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

async function waitFile(
  file: string,
  pid: number,
  timeoutMs: number,
  what: string,
  log: string,
  logFrom = 0,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  while (Date.now() < deadline) {
    if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8'));
    if (!alive(pid)) {
      exited = true;
      break;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  // what this start wrote (the log is appended to across runs)
  const text = fs.existsSync(log) ? fs.readFileSync(log).subarray(logFrom).toString('utf8') : '';
  if (exited) {
    // the daemon's own error (a config error, a port in use) is what the user needs, not a timeout
    const said = text
      .split('\n')
      .filter((l) => l.startsWith('cinder: ') || l.startsWith('  hint: '))
      .join('\n');
    throw new CinderError(
      'DEV_CLUSTER',
      `${what} exited at startup: ${said ? said.replace(/^cinder: /, '') : text.slice(-2000)}`,
      `its log: ${log}`,
    );
  }
  throw new CinderError(
    'DEV_CLUSTER',
    `${what} did not start within ${timeoutMs} ms (see ${log})\n${text.slice(-2000)}`,
  );
}

/** Spawns a detached `cinder <args>` daemon with its output in logFile; returns its pid. */
export function spawnDaemon(args: string[], logFile: string, env: Record<string, string | undefined>): number {
  const fd = fs.openSync(logFile, 'a', 0o600);
  const p = spawn(process.execPath, [CINDER_BIN, ...args], {
    detached: true,
    stdio: ['ignore', fd, fd],
    env: { ...process.env, ...env },
  });
  fs.closeSync(fd);
  p.unref();
  return p.pid!;
}

/**
 * The RM settings a development cluster starts with, before the user's `--rm-set` (which override them):
 * AM containers may take half of the default queue (the RM's own default is 10%, YARN's
 * maximum-am-resource-percent), and memory is allocated in 256 MB steps.
 */
export const DEV_RM_DEFAULTS = [
  'minAllocationMB=256',
  `queues=${JSON.stringify({ 'root.default': { capacity: 100, maxCapacity: 100, maxAmPercent: 50 } })}`,
];

export async function clusterUp(opts: {
  dir: string;
  nodes: number;
  memoryMB?: number;
  vcores?: number;
  rmArgs?: string[];
  nmArgs?: string[];
  timeoutMs?: number;
}): Promise<DevClusterInfo> {
  for (const [k, v] of [
    ['nodes', opts.nodes],
    ['memoryMB', opts.memoryMB],
    ['vcores', opts.vcores],
  ] as const)
    if (v !== undefined && !(Number.isSafeInteger(v) && v >= 1))
      throw new CinderError('BAD_ARGUMENT', `cluster up: ${k} must be a whole number of at least 1, got ${v}`);
  const dir = path.resolve(opts.dir);
  const infoFile = path.join(dir, 'cluster.json');
  if (fs.existsSync(infoFile)) {
    const old = JSON.parse(fs.readFileSync(infoFile, 'utf8')) as DevClusterInfo;
    if (alive(old.pids.rm))
      throw new CinderError(
        'DEV_CLUSTER',
        `a dev cluster is already running in ${dir} (${old.master})`,
        `stop it with: cinder cluster down --dir ${dir}`,
      );
  }
  fs.mkdirSync(path.join(dir, 'logs'), { recursive: true, mode: 0o700 });
  // NMs running as root give containers uids of their own, which must reach their dirs under nmN/ (this
  // dir lists nothing to them: cluster.secret is 0600, logs/ and rm/ are 0700). Under a dir others cannot
  // search (root's home, mktemp -d) they could not: a dev cluster then runs them unisolated and says so
  // (a NodeManager started by hand refuses instead).
  let nmArgs = opts.nmArgs ?? [];
  if (process.getuid?.() === 0) {
    fs.chmodSync(dir, fs.statSync(dir).mode | 0o001);
    const blocked = untraversableAncestor(dir);
    if (blocked && !nmArgs.some((a) => a.startsWith('containerUidRange='))) {
      process.stderr.write(
        `cinder: warning: containers will NOT be isolated (they run as root and can read each other and the cluster secret): ${blocked} is not searchable by others; use --dir under a searchable path (e.g. /var/tmp/cinder) to give each app a uid of its own\n`,
      );
      nmArgs = [...nmArgs, '--set', 'containerUidRange=none'];
    }
  }
  const secretFile = path.join(dir, 'cluster.secret');
  writeSecretFile(secretFile, newSecret());
  // the RM's master key is created here, before the RM starts, to sign the admin identity
  const rmDir = path.join(dir, 'rm');
  const identityFile = path.join(dir, 'admin.identity');
  writeIdentity(
    identityFile,
    issueIdentity(loadOrCreateMasterKey(rmDir), os.userInfo().username, true, 365 * DAY_MS, Date.now()),
  );
  // the cluster CA (DIR/ca.pem, trusted by REST clients) and the RM's HTTPS certificate, unless plain HTTP
  // was asked for (--set webTls=false: trusted single-host use)
  // sized to run a client-mode service and two cluster-mode batch apps at once on the default 2 nodes
  // (decision 0026): AMs may use half of a queue, containers are rounded to 256 MB; --rm-set overrides
  let rmArgs = [...DEV_RM_DEFAULTS.flatMap((kv) => ['--set', kv]), ...(opts.rmArgs ?? [])];
  let caFile: string | undefined;
  if (!rmArgs.includes('webTls=false')) {
    caFile = ensureClusterCa(dir).caFile;
    const web = issueServerCert(dir, path.join(rmDir, 'web'), certHosts('127.0.0.1'));
    rmArgs = ['--set', `webCertFile=${web.certFile}`, '--set', `webKeyFile=${web.keyFile}`, ...rmArgs];
  }
  // this process talks to the RM too (waiting for the nodes): it follows the RM's rpcEncryption
  const enc = rmArgs.find((a) => a.startsWith(`${ENCRYPTION_DAEMON_KEY}=`));
  if (enc) applyEncryptionSetting(enc.slice(ENCRYPTION_DAEMON_KEY.length + 1), ENCRYPTION_DAEMON_KEY);
  const env = { CINDER_SECRET_FILE: secretFile, CINDER_SECRET: undefined };
  const timeout = opts.timeoutMs ?? 20_000;
  const rmReady = path.join(dir, 'rm.ready');
  fs.rmSync(rmReady, { force: true });
  const rmLog = path.join(dir, 'logs', 'rm.log');
  const rmLogFrom = fs.existsSync(rmLog) ? fs.statSync(rmLog).size : 0;
  const rmPid = spawnDaemon(
    ['resourcemanager', '--port', '0', '--rest-port', '0', '--dir', rmDir, '--ready-file', rmReady, ...rmArgs],
    rmLog,
    env,
  );
  const pids = { rm: rmPid, nms: [] as number[] };
  const nmDirs: string[] = [];
  try {
    const rm = (await waitFile(rmReady, rmPid, timeout, 'the ResourceManager', rmLog, rmLogFrom)) as {
      port: number;
      restPort: number;
      restScheme: 'https' | 'http';
      /** scheme://host:port of its web UI, REST and proxy */
      webAddress?: string;
    };
    const master = `cinder://127.0.0.1:${rm.port}`;
    // the NMs' /metrics listeners' HTTPS certificate, from the cluster CA (all on this host's loopback: one
    // for all of them); plain HTTP when the RM's is (webTls=false)
    const nmWeb = caFile ? issueServerCert(dir, path.join(dir, 'nm-web'), certHosts('127.0.0.1')) : undefined;
    for (let i = 0; i < opts.nodes; i++) {
      const nmDir = path.join(dir, `nm${i + 1}`);
      nmDirs.push(nmDir);
      const ready = path.join(nmDir, 'nm.ready');
      fs.rmSync(ready, { force: true });
      const args = ['nodemanager', '--rm', `127.0.0.1:${rm.port}`, '--dir', nmDir, '--ready-file', ready];
      if (opts.memoryMB) args.push('--memory-mb', String(opts.memoryMB));
      if (opts.vcores) args.push('--vcores', String(opts.vcores));
      if (nmWeb) args.push('--set', `webCertFile=${nmWeb.certFile}`, '--set', `webKeyFile=${nmWeb.keyFile}`);
      else args.push('--set', 'webTls=false');
      pids.nms.push(spawnDaemon([...args, ...nmArgs], path.join(dir, 'logs', `nm${i + 1}.log`), env));
    }
    const info: DevClusterInfo = {
      master,
      restUrl: rm.webAddress || `${rm.restScheme}://127.0.0.1:${rm.restPort}`,
      ...(caFile ? { caFile } : {}),
      secretFile,
      identityFile,
      pids,
      nmDirs,
    };
    fs.writeFileSync(infoFile, JSON.stringify(info, null, 2), { mode: 0o600 });
    const client = await ClusterClient.connect(master, { identityFile });
    try {
      const deadline = Date.now() + timeout;
      for (;;) {
        const nodes = await client.nodes(['RUNNING']);
        if (nodes.length >= opts.nodes) break;
        const dead = pids.nms.filter((p) => !alive(p));
        if (dead.length)
          throw new CinderError('DEV_CLUSTER', `a NodeManager exited during startup (see ${path.join(dir, 'logs')})`);
        if (Date.now() > deadline)
          throw new CinderError(
            'DEV_CLUSTER',
            `only ${nodes.length} of ${opts.nodes} nodes registered within ${timeout} ms`,
          );
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      client.close();
    }
    return info;
  } catch (e) {
    await stopPids([...pids.nms, pids.rm], nmDirs);
    fs.rmSync(infoFile, { force: true });
    throw e;
  }
}

async function stopPids(pids: number[], nmDirs: string[]): Promise<number[]> {
  for (const p of pids) if (alive(p)) process.kill(p, 'SIGTERM');
  const deadline = Date.now() + 8_000;
  while (Date.now() < deadline && pids.some(alive)) await new Promise((r) => setTimeout(r, 25));
  for (const p of pids) if (alive(p)) process.kill(p, 'SIGKILL');
  // container groups an NM could not stop (e.g. it was SIGKILLed)
  for (const d of nmDirs) {
    const pidDir = path.join(d, 'pids');
    if (!fs.existsSync(pidDir)) continue;
    for (const f of fs.readdirSync(pidDir)) {
      const g = Number(fs.readFileSync(path.join(pidDir, f), 'utf8'));
      if (g > 1 && groupAlive(g)) await killGroup(g, 500);
      fs.rmSync(path.join(pidDir, f), { force: true });
    }
  }
  await new Promise((r) => setTimeout(r, 50));
  return pids.filter(alive);
}

/** Stops the dev cluster in dir; returns the pids it stopped. */
export async function clusterDown(dirArg: string): Promise<number[]> {
  const dir = path.resolve(dirArg);
  const infoFile = path.join(dir, 'cluster.json');
  if (!fs.existsSync(infoFile))
    throw new CinderError(
      'DEV_CLUSTER',
      `no dev cluster in ${dir} (no cluster.json)`,
      'pass the --dir used with `cinder cluster up`',
    );
  const info = JSON.parse(fs.readFileSync(infoFile, 'utf8')) as DevClusterInfo;
  // NMs first: they stop their containers' process trees
  const left = await stopPids(info.pids.nms, info.nmDirs);
  left.push(...(await stopPids([info.pids.rm], [])));
  if (left.length)
    throw new CinderError('DEV_CLUSTER', `processes still running after cluster down: ${left.join(', ')}`);
  for (const d of info.nmDirs) fs.rmSync(d, { recursive: true, force: true });
  fs.rmSync(infoFile, { force: true });
  fs.rmSync(info.secretFile, { force: true });
  if (info.identityFile) fs.rmSync(info.identityFile, { force: true });
  // the CA goes with the cluster: the next `up` makes a new one (clients must not trust a stale one)
  if (info.caFile) for (const f of Object.values(caFiles(dir))) fs.rmSync(f, { force: true });
  return [info.pids.rm, ...info.pids.nms];
}
