/**
 * Cluster operator commands: resourcemanager, nodemanager, cluster up/down, nodes, apps, status, kill,
 * logs, user add, token. Argv parsing and output formatting only (tables for people, --json for
 * scripts); the work is in src/cluster. Daemons read the cluster secret from CINDER_SECRET /
 * CINDER_SECRET_FILE, never from an argv value; client commands act as the user of their identity
 * (--identity FILE, $CINDER_IDENTITY, or the dev cluster's admin identity). Client commands wait for a
 * restarting RM (cinder.rm.connect.* from $CINDER_CONF_DIR/cinder-defaults.conf or --conf).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { ClusterClient, rmRetryPolicy } from '../cluster/client.js';
import { loadConfig, loadSecret, NmConfig, RmConfig } from '../cluster/common/config.js';
import { clusterDown, clusterUp, defaultDevDir, readDevCluster } from '../cluster/devcluster.js';
import { resolveIdentity } from '../cluster/security/client-identity.js';
import { DAY_MS, issueIdentity, readIdentity, writeIdentity } from '../cluster/security/identity.js';
import { loadOrCreateMasterKey } from '../cluster/security/keys.js';
import { bearer } from '../cluster/security/tokens.js';
import { CinderError } from '../common/errors.js';
import { placementOf } from '../deploy/client/placement.js';
import { defaultsConf } from '../deploy/client/submit-options.js';
import { type AppReport, AppState, type NodeState } from '../protocol/cluster.js';
import { applyEncryptionSetting, ENCRYPTION_DAEMON_KEY } from '../rpc/encryption.js';
import { esc } from './escape.js';

function sets(v: string, prev: Record<string, string> = {}): Record<string, string> {
  const i = v.indexOf('=');
  if (i <= 0) throw new CinderError('BAD_FLAG', `--set expects key=value, got "${v}"`);
  return { ...prev, [v.slice(0, i)]: v.slice(i + 1) };
}

/** Flags that were given, over --set values. */
function given(o: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const out: Record<string, unknown> = { ...(o.set as Record<string, string>) };
  for (const [k, v] of Object.entries({ ...o, ...extra })) if (v !== undefined && k !== 'set') out[k] = v;
  return out;
}

function onSignals(stop: () => Promise<void>): void {
  let stopping = false;
  const h = () => {
    if (stopping) return;
    stopping = true;
    stop().finally(() => process.exit(0));
  };
  process.on('SIGTERM', h);
  process.on('SIGINT', h);
}

function writeReady(file: string | undefined, v: unknown): void {
  const line = JSON.stringify(v);
  process.stdout.write(`${line}\n`);
  if (file) {
    fs.writeFileSync(`${file}.tmp`, line);
    fs.renameSync(`${file}.tmp`, file);
  }
}

interface ClientFlags {
  master?: string;
  identity?: string;
  dir?: string;
  json?: boolean;
  conf?: Record<string, string>;
}

function withClientFlags(c: Command): Command {
  return c
    .option('--master <url>', 'cinder://HOST:PORT of the ResourceManager (default: $CINDER_MASTER or the dev cluster)')
    .option(
      '--identity <file>',
      'user identity file (default: $CINDER_IDENTITY, or the dev cluster admin identity DIR/admin.identity)',
    )
    .option('--dir <dir>', 'dev cluster dir used for defaults', defaultDevDir())
    .option(
      '--conf <key=value>',
      'client setting over the defaults file (repeatable), e.g. cinder.rm.connect.maxWaitMs=5000',
      sets,
      {},
    )
    .option('--json', 'machine-readable output');
}

async function client(f: ClientFlags): Promise<ClusterClient> {
  const dev = readDevCluster(f.dir ?? defaultDevDir());
  const master = f.master ?? process.env.CINDER_MASTER ?? dev?.master;
  if (!master)
    throw new CinderError(
      'NO_MASTER',
      'no ResourceManager address',
      'pass --master cinder://HOST:PORT, set CINDER_MASTER, or start `cinder cluster up`',
    );
  const identity = resolveIdentity(master, f.identity, f.dir ?? defaultDevDir());
  // an RM that is restarting is waited for (cinder.rm.connect.*, from the defaults file or --conf)
  const conf = { ...defaultsConf(), ...(f.conf ?? {}) };
  return ClusterClient.connect(master, { identity, retry: rmRetryPolicy(conf) });
}

async function withClient<T>(f: ClientFlags, fn: (c: ClusterClient) => Promise<T>): Promise<T> {
  const c = await client(f);
  try {
    return await fn(c);
  } finally {
    c.close();
  }
}

/** A table of cells (user-supplied strings escaped: see escape.ts). */
function table(raw: string[][]): string {
  const rows = raw.map((r) => r.map(esc));
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return `${rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(w[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}

function printApps(apps: AppReport[]): void {
  process.stdout.write(
    table([
      [
        'APP ID',
        'NAME',
        'USER',
        'QUEUE',
        'MODE',
        'STATE',
        'FINAL STATUS',
        'PROGRESS',
        'DRIVER',
        'EXECUTORS',
        'TRACKING URL',
      ],
      ...apps.map((a) => {
        const p = placementOf(a);
        return [
          a.id,
          a.name,
          a.user,
          a.queue,
          p.deployMode,
          a.state,
          a.finalStatus,
          `${Math.round(a.progress * 100)}%`,
          p.driver,
          p.executors,
          a.trackingUrl || '-',
        ];
      }),
    ]),
  );
}

/** --state a,b: each a known application state (case-insensitive), else a clear error listing them. */
function appStates(v: string): AppState[] {
  const states = v.split(',').map((s) => s.trim().toUpperCase());
  const bad = states.filter((s) => !AppState.options.includes(s as AppState));
  if (bad.length || !states.length)
    throw new CinderError(
      'BAD_FLAG',
      `--state: unknown application state ${bad.map((b) => `'${b}'`).join(', ') || "''"}`,
      `valid states: ${AppState.options.join(', ')} (comma-separated, any case)`,
    );
  return states as AppState[];
}

/** A whole number at least `min` from a flag, else a clear error (before anything starts). */
function wholeFlag(flag: string, v: string, min: number): number {
  const n = Number(v);
  if (!/^\s*\d+\s*$/.test(v) || !Number.isSafeInteger(n) || n < min)
    throw new CinderError('BAD_FLAG', `${flag}: '${v}' is not a whole number of at least ${min}`);
  return n;
}

export function register(program: Command): void {
  program
    .command('resourcemanager')
    .description('run the ResourceManager daemon')
    .option('--host <host>', 'RPC bind address')
    .option('--port <port>', 'RPC port (0 = any free port)')
    .option('--rest-host <host>', 'REST bind address (default 127.0.0.1)')
    .option('--rest-port <port>', 'REST port (0 = any, -1 = off)')
    .option('--dir <dir>', 'state, staging and aggregated logs')
    .option('--admins <users>', 'comma-separated admin users')
    .option('--config <file>', 'JSON config file')
    .option('--set <key=value>', 'any other config key (repeatable), e.g. nmLivenessMs=5000', sets, {})
    .option('--ready-file <file>', 'write {port,restPort} here once listening')
    .action(async (o) => {
      const conf = loadConfig(RmConfig, 'ResourceManager', given(o), 'CINDER_RM_');
      applyEncryptionSetting(conf.rpcEncryption, ENCRYPTION_DAEMON_KEY);
      // daemons are loaded only for the daemon commands, keeping every other command's start-up short
      const { startResourceManager } = await import('../cluster/resourcemanager/server.js');
      const rm = await startResourceManager(conf, loadSecret());
      onSignals(rm.close);
      writeReady(o.readyFile, {
        port: rm.port,
        restPort: rm.restPort,
        restScheme: rm.restScheme,
        webAddress: rm.webAddress,
        pid: process.pid,
      });
    });

  program
    .command('nodemanager')
    .description('run a NodeManager daemon')
    .requiredOption('--rm <host:port>', 'ResourceManager RPC address')
    .option('--host <host>', 'address to bind and advertise')
    .option('--port <port>', 'RPC port (0 = any free port)')
    .option('--http-host <host>', 'HTTP (/metrics) bind address (default 127.0.0.1)')
    .option('--http-port <port>', 'HTTP (/metrics) port (0 = any, -1 = off)')
    .option('--dir <dir>', 'container work dirs, logs and resource cache')
    .option('--memory-mb <mb>', 'memory offered to containers')
    .option('--vcores <n>', 'vcores offered to containers')
    .option('--labels <labels>', 'comma-separated node labels')
    .option('--config <file>', 'JSON config file')
    .option('--set <key=value>', 'any other config key (repeatable), e.g. heartbeatMs=200', sets, {})
    .option('--ready-file <file>', 'write {port} here once registered')
    .action(async (o) => {
      const conf = loadConfig(NmConfig, 'NodeManager', given(o, { memoryMB: o.memoryMb }), 'CINDER_NM_');
      // containers inherit it (the NM passes CINDER_RPC_ENCRYPTION on)
      applyEncryptionSetting(conf.rpcEncryption, ENCRYPTION_DAEMON_KEY);
      const { startNodeManager } = await import('../cluster/nodemanager/nm.js');
      const { nm, port } = await startNodeManager(conf, loadSecret());
      onSignals(() => nm.stop());
      writeReady(o.readyFile, { port, nodeId: nm.nodeId, pid: process.pid, httpAddress: nm.httpAddress });
    });

  const cluster = program.command('cluster').description('a development cluster on this machine');
  cluster
    .command('up')
    .description('start an RM and N NodeManagers in the background; prints the master URL')
    .option('--nodes <n>', 'number of NodeManagers', '2')
    .option('--dir <dir>', 'where the cluster keeps its state, logs and secret', defaultDevDir())
    .option('--memory-mb <mb>', 'memory per node')
    .option('--vcores <n>', 'vcores per node')
    .option('--rm-set <key=value>', 'RM config (repeatable)', sets, {})
    .option('--nm-set <key=value>', 'NM config (repeatable)', sets, {})
    .option('--json', 'machine-readable output')
    .action(async (o) => {
      const toArgs = (s: Record<string, string>) => Object.entries(s).flatMap(([k, v]) => ['--set', `${k}=${v}`]);
      const info = await clusterUp({
        dir: o.dir,
        nodes: wholeFlag('--nodes', o.nodes, 1),
        ...(o.memoryMb !== undefined ? { memoryMB: wholeFlag('--memory-mb', o.memoryMb, 1) } : {}),
        ...(o.vcores !== undefined ? { vcores: wholeFlag('--vcores', o.vcores, 1) } : {}),
        rmArgs: toArgs(o.rmSet),
        nmArgs: toArgs(o.nmSet),
      });
      process.stdout.write(o.json ? `${JSON.stringify(info)}\n` : `${info.master}\n`);
      if (!o.json)
        process.stderr.write(`web UI: ${info.restUrl}/cluster (sign in with the token \`cinder token\` prints)\n`);
    });
  cluster
    .command('cert')
    .description(
      'make the cluster CA in --ca-dir (unless there) and a server certificate it signs, for a web server (RM or NodeManager webCertFile/webKeyFile, history-server --tls-cert/--tls-key)',
    )
    .requiredOption('--ca-dir <dir>', 'where the CA is kept (ca.pem for clients, ca.key 0600)')
    .requiredOption(
      '--host <host>',
      'a name or IP address the server is reached at (repeatable)',
      (v, p: string[]) => [...p, v],
      [],
    )
    .requiredOption('--out <prefix>', 'writes PREFIX.pem and PREFIX.key (0600)')
    .action(async (o: { caDir: string; host: string[]; out: string }) => {
      const { ensureClusterCa, issueServerCert } = await import('../cluster/security/web-tls.js');
      const { caFile } = ensureClusterCa(path.resolve(o.caDir));
      const { certFile, keyFile } = issueServerCert(path.resolve(o.caDir), path.resolve(o.out), o.host);
      process.stdout.write(`${JSON.stringify({ caFile, certFile, keyFile })}\n`);
    });
  cluster
    .command('down')
    .description('stop the development cluster and every container it runs')
    .option('--dir <dir>', 'the dir given to cluster up', defaultDevDir())
    .action(async (o) => {
      const pids = await clusterDown(o.dir);
      process.stdout.write(`stopped ${pids.length} daemons\n`);
    });

  withClientFlags(program.command('nodes').description('list cluster nodes'))
    .option('--states <states>', 'comma-separated node states (RUNNING,LOST,...)')
    .action(async (o) => {
      const nodes = await withClient(o, (c) => c.nodes(o.states?.split(',') as NodeState[] | undefined));
      if (o.json) return void process.stdout.write(`${JSON.stringify(nodes)}\n`);
      process.stdout.write(
        table([
          ['NODE ID', 'STATE', 'CONTAINERS', 'MEM USED/TOTAL', 'VCORES USED/TOTAL', 'LABELS'],
          ...nodes.map((n) => [
            n.nodeId,
            n.state,
            String(n.numContainers),
            `${n.used.memoryMB}/${n.capacity.memoryMB}`,
            `${n.used.vcores}/${n.capacity.vcores}`,
            n.labels.join(','),
          ]),
        ]),
      );
    });

  withClientFlags(program.command('apps').description('list applications'))
    .option('--state <states>', 'comma-separated app states')
    .action(async (o) => {
      const states = o.state === undefined ? undefined : appStates(o.state);
      const apps = await withClient(o, (c) => c.listApplications(states ? { states } : {}));
      if (o.json) process.stdout.write(`${JSON.stringify(apps)}\n`);
      else printApps(apps);
    });

  withClientFlags(program.command('status').description('report of one application').argument('<appId>')).action(
    async (id: string, o) => {
      const [r, attempts] = await withClient(o, (c) => Promise.all([c.getApplication(id), c.attempts(id)]));
      if (o.json) return void process.stdout.write(`${JSON.stringify({ ...r, attemptList: attempts })}\n`);
      const lines = [
        ['Application', r.id],
        ['Name', r.name],
        ['User', r.user],
        ['Queue', r.queue],
        ['State', r.state],
        ['Final status', r.finalStatus],
        ['Attempts', String(r.attempts)],
        ['Deploy mode', placementOf(r).deployMode],
        ['Driver', placementOf(r).driver],
        ['AM', placementOf(r).am],
        ['Executors', placementOf(r).executors],
        ['AM host', r.amHost ?? ''],
        ['Tracking URL', r.trackingUrl],
        ['Diagnostics', r.diagnostics],
      ];
      process.stdout.write(lines.map(([k, v]) => `${k!.padEnd(13)} ${esc(v ?? '')}`).join('\n') + '\n');
    },
  );

  withClientFlags(
    program.command('kill').description('kill an application (needs the modify ACL)').argument('<appId>'),
  ).action(async (id: string, o) => {
    const r = await withClient(o, (c) => c.kill(id));
    if (o.json) return void process.stdout.write(`${JSON.stringify(r)}\n`);
    if (r.alreadyTerminal) process.stderr.write(`warning: ${esc(id)} already ended (${r.state}); nothing to kill\n`);
    else process.stdout.write(`killed ${esc(id)}\n`);
  });

  withClientFlags(
    program.command('logs').description('container logs of an application (aggregated or live)').argument('<appId>'),
  )
    .option('--container <id>', 'only this container')
    .option('-f, --follow', 'keep printing what the containers write until the application ends')
    .action(async (id: string, o) => {
      if (o.follow) {
        const { followLogs } = await import('./logs-follow.js');
        const r = await withClient(o, (c) =>
          followLogs({ logs: () => c.getLogs(id, o.container), report: () => c.getApplication(id) }, (s) =>
            process.stdout.write(s),
          ),
        );
        process.stderr.write(`${esc(id)} ended ${r.state}/${r.finalStatus}\n`);
        return;
      }
      const logs = await withClient(o, (c) => c.getLogs(id, o.container));
      if (o.json) return void process.stdout.write(`${JSON.stringify(logs)}\n`);
      if (!logs.length)
        process.stderr.write(`no logs found for ${esc(id)}${o.container ? ` container ${esc(o.container)}` : ''}\n`);
      for (const l of logs)
        process.stdout.write(
          `==> ${esc(l.containerId)} on ${esc(l.nodeId)}: ${esc(l.file)} <==\n${l.data}${l.data.endsWith('\n') || !l.data ? '' : '\n'}\n`,
        );
    });

  const user = program.command('user').description('user identities');
  withClientFlags(user.command('add').description('issue a user identity file (admins only)').argument('<name>'))
    .option('--admin', 'the user is a cluster admin')
    .requiredOption('--out <file>', 'where to write the identity (0600)')
    .option('--ttl-days <n>', 'days until it expires', '30')
    .option('--rm-dir <dir>', 'operator bootstrap on the RM host: sign with the master key in this RM dir, no RPC')
    .action(async (name: string, o) => {
      const days = Number(o.ttlDays);
      if (!Number.isFinite(days) || days <= 0)
        throw new CinderError('BAD_FLAG', `--ttl-days: '${o.ttlDays}' is not a positive number`);
      const ttl = Math.round(days * DAY_MS);
      const id = o.rmDir
        ? issueIdentity(loadOrCreateMasterKey(o.rmDir), name, Boolean(o.admin), ttl, Date.now())
        : await withClient(o, (c) => c.issueIdentity(name, Boolean(o.admin), ttl));
      writeIdentity(o.out, id);
      if (o.json)
        return void process.stdout.write(
          `${JSON.stringify({ user: id.user, admin: id.admin, expires: id.expires, file: o.out })}\n`,
        );
      process.stdout.write(
        `wrote ${o.out}: user ${id.user}${id.admin ? ' (admin)' : ''}, expires ${new Date(id.expires).toISOString()}\n`,
      );
    });

  withClientFlags(program.command('whoami').description('the user the ResourceManager takes this identity for')).action(
    async (o) => {
      const r = await withClient(o, (c) => c.whoAmI());
      process.stdout.write(o.json ? `${JSON.stringify(r)}\n` : `${r.user}${r.admin ? ' (admin)' : ''}\n`);
    },
  );

  program
    .command('token')
    .description('print a REST bearer token for the current identity (Authorization: Bearer <token>)')
    .option('--identity <file>', 'user identity file (default: $CINDER_IDENTITY or the dev cluster admin identity)')
    .option('--master <url>', 'the cluster (picks the dev cluster identity when it matches)')
    .option('--dir <dir>', 'dev cluster dir used for defaults', defaultDevDir())
    .action((o) => {
      const master = o.master ?? process.env.CINDER_MASTER;
      const id = o.identity ? readIdentity(o.identity) : resolveIdentity(master, undefined, o.dir);
      process.stdout.write(`${bearer(id.token)}\n`);
    });

  program
    .command('metrics-token')
    .description('print the bearer token that lets a Prometheus scraper read /metrics of the RM and NMs')
    .option('--secret-file <file>', 'the cluster secret file (default: $CINDER_SECRET_FILE or the dev cluster one)')
    .option('--dir <dir>', 'dev cluster dir used for defaults', defaultDevDir())
    .action(async (o) => {
      const { metricsToken } = await import('../cluster/security/metrics-token.js');
      const dev = path.join(o.dir, 'cluster.secret');
      const file = o.secretFile ?? (process.env.CINDER_SECRET_FILE || process.env.CINDER_SECRET ? undefined : dev);
      process.stdout.write(`${metricsToken(loadSecret(file))}\n`);
    });
}
