/**
 * Daemon configuration: defaults < config file (JSON, --config) < environment (CINDER_<KEY>) < flags,
 * validated with zod so a typo or a bad value fails at start with a message naming the key.
 * Also loads the cluster secret from CINDER_SECRET or a 0600 secret file; secrets never come from argv
 * and are never logged. Owns no daemon logic.
 */
import fs from 'node:fs';
import os from 'node:os';
import { CinderError } from '../../common/errors.js';
import { assertPrivate } from '../../common/private-file.js';
import { z } from '../../common/zod.js';

/** container uids of a cluster (RM assigns per user, root NMs run containers as them) */
/**
 * auto: 20000-29999 when containers can be isolated; a root NM that finds its own code or dirs unreadable
 * by those uids says so and runs containers unisolated instead of failing every container. An explicit
 * range is strict: the NM refuses to start when it cannot isolate.
 */
export const DEFAULT_UID_RANGE = 'auto';

/** a boolean flag; from --set / env any string but "false" is true */
const bool = z.preprocess((v) => (typeof v === 'string' ? v !== 'false' : v), z.boolean());
const ms = z.coerce.number().int().positive();
const labels = z.preprocess((v) => (typeof v === 'string' ? v.split(',').filter(Boolean) : v), z.array(z.string()));

/** a JSON value given as text (--set queues={...}, an env variable); other values pass through */
function jsonText(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

export const QueueConf = z.object({
  /** guaranteed share of the parent, percent */
  capacity: z.number().min(0).max(100),
  /** elastic cap of the parent, percent (default 100) */
  maxCapacity: z.number().min(0).max(100).default(100),
  /** share of this queue's max that AM containers may use (capacity-scheduler maximum-am-resource-percent) */
  maxAmPercent: z.number().min(0).max(100).default(10),
  state: z.enum(['RUNNING', 'STOPPED']).default('RUNNING'),
});
export type QueueConf = z.infer<typeof QueueConf>;

export const RmConfig = z.object({
  host: z.string().default('127.0.0.1'),
  port: z.coerce.number().int().min(0).max(65535).default(8032),
  restHost: z.string().default('127.0.0.1'),
  /** 0 picks a free port; -1 disables REST */
  restPort: z.coerce.number().int().min(-1).max(65535).default(8088),
  dir: z.string().default(`${os.homedir()}/.cinder/rm`),
  /** the history server's address (host:port or URL) the RM UI and web proxy link ended apps to ('' = none;
   * the client's cinder.history.address); host:port means http://, so give https://HOST:PORT for an HTTPS
   * history server (the default of `cinder history-server --master`) */
  historyAddress: z.string().default(''),
  /** users who are admins besides those whose identity says so (none by default: not root by name) */
  admins: labels.default([]),
  /** full queue paths ("root.default") -> settings; root is implicit */
  queues: z
    .preprocess(jsonText, z.record(z.string(), QueueConf))
    .default({ 'root.default': { capacity: 100, maxCapacity: 100, maxAmPercent: 10, state: 'RUNNING' } }),
  /** a node that has not heartbeated for this long is LOST and its containers complete with -100 (YARN's
   * yarn.nm.liveness-monitor.expiry-interval-ms is 600 s; a development cluster with 1 s heartbeats wants
   * to notice a dead node in seconds) */
  nmLivenessMs: ms.default(20_000),
  /** an AM that has not called allocate for this long is expired and its attempt fails (YARN: 600 s) */
  amLivenessMs: ms.default(60_000),
  livenessCheckMs: ms.default(1_000),
  /** a container allocated to an AM but never started on its node is taken back after this long
   * (yarn.resourcemanager.rm.container-allocation.expiry-interval-ms, 600 s in YARN) */
  containerAllocationExpiryMs: ms.default(120_000),
  /** an application id from GetNewApplication that is never submitted is forgotten, with its staged
   * files, after this long */
  pendingAppExpiryMs: ms.default(600_000),
  maxAttempts: z.coerce.number().int().positive().default(2),
  minAllocationMB: z.coerce.number().int().positive().default(1024),
  maxAllocationMB: z.coerce.number().int().positive().default(8192),
  minAllocationVcores: z.coerce.number().int().positive().default(1),
  maxAllocationVcores: z.coerce.number().int().positive().default(4),
  /** containers an application may have asked for and not yet received (YARN has no such cap; an ask for
   * 1e12 containers would otherwise be kept and scanned forever) */
  maxPendingContainersPerApp: z.coerce.number().int().positive().default(10_000),
  /** largest single staged file */
  stagingMaxFileBytes: z.coerce
    .number()
    .int()
    .positive()
    .default(200 * 1024 * 1024),
  /** largest total staged per app */
  stagingMaxAppBytes: z.coerce
    .number()
    .int()
    .positive()
    .default(1024 * 1024 * 1024),
  /**
   * container uids the RM gives to users (one per user, kept for good, carried in container tokens):
   * NodeManagers running as root run every container of a user's apps as that user's uid; "none" assigns
   * none (then root NMs must also be set to none). Same range on the RM and every NM (user-uids.ts)
   */
  containerUidRange: z.string().default(DEFAULT_UID_RANGE),
  /** serve the REST API over HTTPS (web-tls.ts); false = plain HTTP, for trusted single-host use only */
  webTls: bool.default(true),
  /** the REST server's certificate and key (PEM; `cinder cluster up` makes them, signed by DIR/ca.pem) */
  webCertFile: z.string().default(''),
  webKeyFile: z.string().default(''),
  /** on|off: RPC encryption of this daemon (src/rpc/encryption.ts); unset: CINDER_RPC_ENCRYPTION, else on */
  rpcEncryption: z.string().default(''),
});
export type RmConfig = z.infer<typeof RmConfig>;

export const NmConfig = z.object({
  rm: z.string().regex(/^[^:]+:\d+$/, 'expected HOST:PORT'),
  host: z.string().default('127.0.0.1'),
  port: z.coerce.number().int().min(0).max(65535).default(0),
  /** the NM's HTTP listener (/metrics, behind the metrics token): loopback by default */
  httpHost: z.string().default('127.0.0.1'),
  /** 0 = any free port (reported to the RM, shown on its nodes page), -1 = no listener */
  httpPort: z.coerce.number().int().min(-1).max(65535).default(0),
  /** serve /metrics over HTTPS (web-tls.ts); false = plain HTTP, for trusted single-host use only */
  webTls: bool.default(true),
  /** the HTTPS certificate and key (PEM, signed by the cluster CA: `cinder cluster up` makes them per node,
   * `cinder cluster cert --host NODE` for NodeManagers started by hand) */
  webCertFile: z.string().default(''),
  webKeyFile: z.string().default(''),
  dir: z.string().default(`${os.homedir()}/.cinder/nm`),
  memoryMB: z.coerce.number().int().positive().default(8192),
  vcores: z.coerce.number().int().positive().default(8),
  labels: labels.default([]),
  heartbeatMs: ms.default(1_000),
  monitorMs: ms.default(3_000),
  killGraceMs: ms.default(2_000),
  /** pmem check (kill over-limit containers with -104) */
  pmemCheck: bool.default(true),
  /**
   * work-preserving NM restart (YARN's yarn.nodemanager.recovery.enabled): containers outlive a crashed
   * NM and the next NM on the same dir reacquires them; false = a restarted NM kills what it finds
   */
  recoveryEnabled: bool.default(true),
  /**
   * a container whose NodeManager has been gone this long (crashed, not restarted) is killed by its own
   * wrapper; 0 = never. Default: the RM's default node liveness expiry
   */
  orphanKillMs: z.coerce.number().int().nonnegative().default(600_000),
  /**
   * when the NM runs as root, every container runs as the uid (and gid) the RM gave its submitting user
   * (carried in the container token), which must lie in this range (LinuxContainerExecutor-like); "none"
   * runs them as the NM's user, not isolated. Ignored (not isolated, said at start) when the NM is not
   * root (docs/decisions/0015-container-uids-per-user.md)
   */
  containerUidRange: z.string().default(DEFAULT_UID_RANGE),
  /** the largest tree one localized archive may unpack to (zip-bomb guard) */
  maxUnpackedBytes: z.coerce
    .number()
    .int()
    .positive()
    .default(1024 * 1024 * 1024),
  /**
   * the node's whole resource cache (yarn.nodemanager.localizer.cache.target-size-mb): entries of ended
   * apps are evicted, least recently used first, to stay under it; one app needing more is refused
   */
  maxCacheBytes: z.coerce
    .number()
    .int()
    .positive()
    .default(10 * 1024 * 1024 * 1024),
  /** on|off: RPC encryption of this daemon and its containers (src/rpc/encryption.ts); unset: the env, else on */
  rpcEncryption: z.string().default(''),
});
export type NmConfig = z.infer<typeof NmConfig>;

function envFor(keys: string[], prefix: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of keys) {
    const name = `${prefix}${k.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
    const v = process.env[name];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/** Merges defaults < file < env < flags and validates; throws CinderError naming the bad key. */
export function loadConfig<T extends z.ZodObject>(
  schema: T,
  what: string,
  flags: Record<string, unknown>,
  envPrefix: string,
): z.infer<T> {
  const keys = Object.keys(schema.shape);
  let file: Record<string, unknown> = {};
  const cfgPath = (flags.config as string | undefined) ?? process.env.CINDER_CONFIG;
  if (cfgPath) {
    try {
      file = JSON.parse(fs.readFileSync(cfgPath, 'utf8'));
    } catch (e) {
      throw new CinderError('BAD_CONFIG', `cannot read config file ${cfgPath}: ${(e as Error).message}`);
    }
  }
  const fromFlags = Object.fromEntries(Object.entries(flags).filter(([k, v]) => keys.includes(k) && v !== undefined));
  const merged = { ...file, ...envFor(keys, envPrefix), ...fromFlags };
  const unknown = Object.keys(file).filter((k) => !keys.includes(k));
  if (unknown.length)
    throw new CinderError(
      'BAD_CONFIG',
      `${what} config file ${cfgPath} has unknown keys: ${unknown.join(', ')}`,
      `valid keys: ${keys.join(', ')}`,
    );
  const r = schema.safeParse(merged);
  if (!r.success) {
    const msgs = r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new CinderError(
      'BAD_CONFIG',
      `invalid ${what} configuration: ${msgs.join('; ')}`,
      'fix the flag, CINDER_* variable or config file entry',
    );
  }
  return r.data;
}

/**
 * The cluster secret: CINDER_SECRET, else the file named by secretFile / CINDER_SECRET_FILE, which must
 * not be readable by group or others.
 */
export function loadSecret(secretFile?: string): string {
  const env = process.env.CINDER_SECRET;
  if (env) return env;
  const file = secretFile ?? process.env.CINDER_SECRET_FILE;
  if (!file)
    throw new CinderError(
      'NO_SECRET',
      'no cluster secret: set CINDER_SECRET_FILE to the file holding it (mode 0600), or CINDER_SECRET',
      'every daemon of a cluster (RM, NMs) needs the same secret; `cinder cluster up` writes one into DIR/cluster.secret. Clients (submit, apps, kill) need no secret: they use an identity (--identity FILE or CINDER_IDENTITY)',
    );
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    throw new CinderError('NO_SECRET', `secret file ${file} does not exist`);
  }
  assertPrivate(file, st, 'INSECURE_SECRET', 'secret file');
  const s = fs.readFileSync(file, 'utf8').trim();
  if (!s) throw new CinderError('NO_SECRET', `secret file ${file} is empty`);
  return s;
}

/** Writes a secret to a new 0600 file (atomically). */
export function writeSecretFile(file: string, secret: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, secret, { mode: 0o600 });
  fs.renameSync(tmp, file);
}

/** Parses "cinder://host:port" or "host:port". */
export function parseMaster(master: string): { host: string; port: number } {
  const m = /^(?:cinder:\/\/)?([^:/]+):(\d+)\/?$/.exec(master);
  if (!m) throw new CinderError('BAD_MASTER', `cannot parse master address "${master}"`, 'use cinder://HOST:PORT');
  return { host: m[1]!, port: Number(m[2]) };
}

/** The client's user name: CINDER_USER, else the OS user. */
export function currentUser(): string {
  return process.env.CINDER_USER || os.userInfo().username;
}
