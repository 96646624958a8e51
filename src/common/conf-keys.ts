/**
 * Every `cinder.*` configuration key an application can set (`--conf`, the properties file
 * `$CINDER_CONF_DIR/cinder-defaults.conf`, or `CinderContext.getOrCreate({ conf })`): its type, default,
 * meaning and the version it appeared in. `docs/configuration.md` is generated from this list
 * (`node scripts/gen-config-docs.mjs`; a test checks it is up to date), the typed readers in conf.ts take
 * their defaults from it, and checkConf() validates values with zod and names the closest known key
 * for an unknown one.
 */
import { CinderError } from './errors.js';
import { z } from './zod.js';

/** One registry entry (checked by test/unit/configuration.test.ts, not at every start). */
export const ConfKeySchema = z
  .object({
    key: z.string().regex(/^cinder\.[a-zA-Z0-9.]+[a-zA-Z0-9]$/),
    type: z.enum(['int', 'ms', 'bool', 'size', 'memory', 'string', 'enum']),
    /** the default as it would be written in --conf; undefined: unset (the meaning says what then) */
    default: z.string().optional(),
    doc: z.string().min(10),
    since: z.string().regex(/^\d+\.\d+\.\d+$/),
    /** allowed values (type 'enum') */
    values: z.array(z.string()).readonly().optional(),
  })
  .refine((k) => (k.type === 'enum') === (k.values !== undefined), 'enum keys (only) list their values');

export type ConfKey = z.infer<typeof ConfKeySchema>;
export type ConfType = ConfKey['type'];

const V = '0.1.0';

/** Keys that take any suffix (`cinder.executorEnv.NAME`). */
export const CONF_PREFIXES: ReadonlyArray<{ prefix: string; doc: string; since: string }> = [
  {
    prefix: 'cinder.executorEnv.',
    doc: "Environment variable NAME (the key's suffix) for executor processes on a cluster (Spark's spark.executorEnv.*).",
    since: V,
  },
];

export const CONF_KEYS: readonly ConfKey[] = [
  // application
  { key: 'cinder.app.name', type: 'string', doc: 'Application name (`--name`; default: the app file name).', since: V },
  {
    key: 'cinder.master',
    type: 'string',
    doc: 'Master URL when `--master` and `$CINDER_MASTER` are not given: local, local[N], local[*], local[N,F], cinder://HOST:PORT (default local[*]).',
    since: V,
  },
  {
    key: 'cinder.submit.deployMode',
    type: 'enum',
    values: ['client', 'cluster'],
    default: 'client',
    doc: 'Where the driver runs when `--deploy-mode` is not given.',
    since: V,
  },
  {
    key: 'cinder.submit.waitAppCompletion',
    type: 'bool',
    default: 'true',
    doc: 'Cluster mode: whether `cinder submit` waits for the application to end (`--no-wait` sets false).',
    since: V,
  },
  {
    key: 'cinder.default.parallelism',
    type: 'int',
    doc: 'Partitions of parallelize()/range() and of shuffles when not given (default: the total executor cores, at least 2; a shuffle keeps its parent’s count).',
    since: V,
  },
  // driver
  {
    key: 'cinder.driver.memory',
    type: 'memory',
    default: '1g',
    doc: "Heap of the driver (`--driver-memory`): in local and client mode `cinder submit` runs the driver with this V8 heap (`--max-old-space-size`; unset: Node's default); in cluster mode the AM container's heap.",
    since: V,
  },
  {
    key: 'cinder.driver.memoryOverhead',
    type: 'memory',
    doc: 'Cluster mode: off-heap memory added to the AM/driver container (default max(384m, 10% of the heap)).',
    since: V,
  },
  {
    key: 'cinder.driver.cores',
    type: 'int',
    default: '1',
    doc: 'Cluster mode: vcores of the AM/driver container.',
    since: V,
  },
  {
    key: 'cinder.driver.host',
    type: 'string',
    doc: 'Address executors dial to reach the driver (default: the local address towards the ResourceManager, or 127.0.0.1 locally).',
    since: V,
  },
  {
    key: 'cinder.driver.bindAddress',
    type: 'string',
    doc: "Address the driver's RPC and UI ports bind to (default: cinder.driver.host).",
    since: V,
  },
  { key: 'cinder.driver.port', type: 'int', doc: "The driver's RPC port (default: any free port).", since: V },
  {
    key: 'cinder.driver.maxResultSize',
    type: 'size',
    default: '1g',
    doc: 'Limit on the total size of the results of one action sent to the driver (collect); past it the job fails.',
    since: V,
  },
  // executors
  {
    key: 'cinder.executor.instances',
    type: 'int',
    default: '2',
    doc: 'Executors on a cluster (`--num-executors`).',
    since: V,
  },
  {
    key: 'cinder.executor.cores',
    type: 'int',
    default: '1',
    doc: 'Task slots (task threads) per executor (`--executor-cores`).',
    since: V,
  },
  {
    key: 'cinder.executor.memory',
    type: 'memory',
    default: '1g',
    doc: "Memory of each executor (`--executor-memory`), shared by its task threads' heaps.",
    since: V,
  },
  {
    key: 'cinder.executor.memoryOverhead',
    type: 'memory',
    doc: 'Off-heap memory added to each executor container (default max(384m, 10% of cinder.executor.memory)).',
    since: V,
  },
  {
    key: 'cinder.executor.heartbeatInterval',
    type: 'ms',
    default: '10000',
    doc: 'How often executors report to the driver (ms).',
    since: V,
  },
  {
    key: 'cinder.executor.maxFailures',
    type: 'int',
    default: '10',
    doc: 'Local masters: executor processes that may be lost before the application fails.',
    since: V,
  },
  {
    key: 'cinder.executor.maxNumFailures',
    type: 'int',
    doc: 'Cluster: executor containers that may fail before the AM fails the application (default max(3, 2 × instances)).',
    since: V,
  },
  // scheduling
  {
    key: 'cinder.task.maxFailures',
    type: 'int',
    default: '4',
    doc: 'Failures of one task before its job is aborted (killed tasks and lost executors do not count).',
    since: V,
  },
  {
    key: 'cinder.stage.maxConsecutiveAttempts',
    type: 'int',
    default: '4',
    doc: 'Attempts of a stage after fetch failures before its job is aborted.',
    since: V,
  },
  {
    key: 'cinder.local.spareExecutors',
    type: 'bool',
    default: 'true',
    doc: '`cinder submit` with a local master starts the executors before it compiles and loads the app; they join the context if it asks for executors of the same size (decision 0017).',
    since: V,
  },
  {
    key: 'cinder.locality.wait',
    type: 'ms',
    default: '3000',
    doc: 'How long a task waits for a slot on an executor that holds its cached input (ms).',
    since: V,
  },
  {
    key: 'cinder.scheduler.prefetchPerCore',
    type: 'int',
    default: '8',
    doc: 'Short tasks sent ahead per core, to hide the round trip between tasks.',
    since: V,
  },
  {
    key: 'cinder.scheduler.maxRegisteredResourcesWaitingTime',
    type: 'ms',
    default: '30000',
    doc: 'How long a starting context waits for its executors to register (ms).',
    since: V,
  },
  {
    key: 'cinder.network.timeout',
    type: 'ms',
    default: '120000',
    doc: 'An executor silent for this long (no heartbeat) is considered lost (ms).',
    since: V,
  },
  {
    key: 'cinder.cleaner.periodicGC.interval',
    type: 'ms',
    default: '30000',
    doc: "Period of the driver's garbage collection that releases unreachable shuffles, broadcasts and accumulators (ms; 0: never).",
    since: V,
  },
  // UI
  {
    key: 'cinder.ui.enabled',
    type: 'bool',
    default: 'true',
    doc: "Whether the driver serves its web UI, Spark's REST API (/api/v1) and /metrics.",
    since: V,
  },
  {
    key: 'cinder.rpc.encryption',
    type: 'enum',
    values: ['on', 'off', 'true', 'false', '1', '0'],
    doc: 'Encrypt RPC channels (TLS 1.3 keyed by the channel secret; default on, or what CINDER_RPC_ENCRYPTION says); off only for trusted single-host use. Must agree with CINDER_RPC_ENCRYPTION and the cluster.',
    since: V,
  },
  {
    key: 'cinder.ui.port',
    type: 'int',
    default: '4040',
    doc: "The driver UI's first port to try (then the next 16, then any free port).",
    since: V,
  },
  {
    key: 'cinder.ui.showConsoleProgress',
    type: 'bool',
    default: 'true',
    doc: 'Whether the driver draws a progress bar of running stages on stderr.',
    since: V,
  },
  {
    key: 'cinder.ui.retainedJobs',
    type: 'int',
    default: '1000',
    doc: "How many finished jobs the UI and REST keep (the most recent; Spark's spark.ui.retainedJobs).",
    since: V,
  },
  {
    key: 'cinder.ui.retainedStages',
    type: 'int',
    default: '1000',
    doc: 'How many stage attempts the UI and REST keep (the most recent).',
    since: V,
  },
  {
    key: 'cinder.ui.retainedTasks',
    type: 'int',
    default: '100000',
    doc: 'How many task attempts per stage the UI and REST keep (the most recent).',
    since: V,
  },
  // event log (docs/decisions/0025-event-log.md)
  {
    key: 'cinder.eventLog.enabled',
    type: 'bool',
    default: 'true',
    doc: "Whether the application writes an event log (Spark's listener events as JSON lines) for the history server.",
    since: V,
  },
  {
    key: 'cinder.eventLog.dir',
    type: 'string',
    doc: "Directory of local and client-mode event logs (default $CINDER_EVENT_LOG_DIR, else ~/.cinder/event-logs); a cluster-mode driver writes into its container's log dir.",
    since: V,
  },
  {
    key: 'cinder.eventLog.flushInterval',
    type: 'ms',
    default: '1000',
    doc: 'How often buffered events are written to the event log (ms).',
    since: V,
  },
  {
    key: 'cinder.eventLog.rolling.enabled',
    type: 'bool',
    default: 'false',
    doc: 'Whether the event log is written in parts of at most cinder.eventLog.rolling.maxFileSize.',
    since: V,
  },
  {
    key: 'cinder.eventLog.rolling.maxFileSize',
    type: 'size',
    default: '128m',
    doc: 'Size past which a rolling event log starts its next part.',
    since: V,
  },
  {
    key: 'cinder.eventLog.rolling.maxFilesToRetain',
    type: 'int',
    default: '0',
    doc: 'Closed parts kept before the oldest are compacted into one without the events of jobs that ended (0: keep all).',
    since: V,
  },
  // cluster (YARN-like)
  {
    key: 'cinder.yarn.queue',
    type: 'string',
    default: 'default',
    doc: 'Queue the application is submitted to (`--queue`).',
    since: V,
  },
  {
    key: 'cinder.yarn.maxAppAttempts',
    type: 'int',
    default: '2',
    doc: 'AM attempts the ResourceManager makes before the application fails.',
    since: V,
  },
  {
    key: 'cinder.yarn.report.interval',
    type: 'ms',
    default: '1000',
    doc: 'How often the client (cluster mode) and the client-mode driver ask the ResourceManager for the application report (ms).',
    since: V,
  },
  {
    key: 'cinder.yarn.am.memory',
    type: 'memory',
    default: '512m',
    doc: "Client mode: the AM container's heap.",
    since: V,
  },
  {
    key: 'cinder.yarn.am.memoryOverhead',
    type: 'memory',
    doc: 'Client mode: off-heap memory added to the AM container (default max(384m, 10% of the heap)).',
    since: V,
  },
  { key: 'cinder.yarn.am.cores', type: 'int', default: '1', doc: "Client mode: the AM container's vcores.", since: V },
  {
    key: 'cinder.am.heartbeatInterval',
    type: 'ms',
    default: '3000',
    doc: "The AM's allocate heartbeat to the ResourceManager (ms).",
    since: V,
  },
  {
    key: 'cinder.am.driverLeaseMs',
    type: 'ms',
    default: '5000',
    doc: 'Client mode: the AM fails the application when the driver has not answered for this long (ms).',
    since: V,
  },
  {
    key: 'cinder.am.waitTime',
    type: 'ms',
    default: '100000',
    doc: 'How long a client-mode driver waits for its AM to register, and for the final record when it stops (ms).',
    since: V,
  },
  {
    key: 'cinder.am.earlyExecutors',
    type: 'bool',
    default: 'true',
    doc: "Cluster mode: the AM binds the driver's port and asks for executors before loading the user's main.",
    since: V,
  },
  {
    key: 'cinder.rm.connect.retryIntervalMs',
    type: 'ms',
    default: '250',
    doc: 'First wait before retrying an unreachable ResourceManager (doubles each time).',
    since: V,
  },
  {
    key: 'cinder.rm.connect.maxRetryIntervalMs',
    type: 'ms',
    default: '2000',
    doc: 'Longest wait between retries of an unreachable ResourceManager.',
    since: V,
  },
  {
    key: 'cinder.rm.connect.maxWaitMs',
    type: 'ms',
    default: '60000',
    doc: 'How long clients keep retrying an unreachable ResourceManager before failing.',
    since: V,
  },
];

const BY_KEY = new Map(CONF_KEYS.map((k) => [k.key, k]));

export function confKey(key: string): ConfKey | undefined {
  return BY_KEY.get(key);
}

/** The defaults of every key that has one. */
export function confDefaults(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of CONF_KEYS) if (k.default !== undefined) out[k.key] = k.default;
  return out;
}

const SIZE = /^\s*\d+(?:\.\d+)?\s*[kmgt]?i?b?\s*$/i;
const schemas: Record<ConfType, z.ZodType<string>> = {
  int: z.string().regex(/^\s*-?\d+\s*$/, 'is not a whole number'),
  ms: z.string().regex(/^\s*\d+\s*$/, 'is not a number of milliseconds'),
  bool: z.string().regex(/^(true|false)$/i, 'is not true or false'),
  size: z.string().regex(SIZE, 'is not a size (e.g. 512m, 2g, 1048576)'),
  memory: z.string().regex(SIZE, 'is not an amount of memory (e.g. 512m, 2g; a bare number is MiB)'),
  string: z.string(),
  enum: z.string(),
};

/** Levenshtein distance (for "did you mean"). */
function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

/** The known key closest to `key`, if one is close enough to be a likely misspelling. */
export function closestKey(key: string): string | undefined {
  let best: string | undefined;
  let bestD = Number.POSITIVE_INFINITY;
  for (const k of CONF_KEYS) {
    const d = distance(key.toLowerCase(), k.key.toLowerCase());
    if (d < bestD) [best, bestD] = [k.key, d];
  }
  return best !== undefined && bestD <= Math.max(3, Math.floor(key.length / 4)) ? best : undefined;
}

/**
 * Checks the `cinder.*` keys of conf: a known key's value must have its type (BAD_CONF otherwise); an
 * unknown key is refused (`unknown: 'error'`) or reported through `warn`, naming the closest known key.
 * Keys outside `cinder.*` are the app's own and left alone. `source` says where the settings came from.
 */
export function checkConf(
  conf: Record<string, string>,
  source: string,
  /** unknown 'error': refuse an unknown key close to a known one (a typo), warn about others */
  opts: { unknown: 'error' | 'warn'; warn?: (msg: string) => void },
): void {
  for (const [key, value] of Object.entries(conf)) {
    if (!key.startsWith('cinder.')) continue;
    if (CONF_PREFIXES.some((p) => key.startsWith(p.prefix) && key.length > p.prefix.length)) continue;
    const k = BY_KEY.get(key);
    if (!k) {
      const near = closestKey(key);
      const msg = `${source}: unknown configuration key '${key}'${near ? `; did you mean '${near}'?` : ''}`;
      // 'error' refuses likely typos (a known key is close); a key unlike any is the app's own: warned
      if (opts.unknown === 'error' && near)
        throw new CinderError('UNKNOWN_CONF', msg, 'the keys are listed in docs/configuration.md');
      opts.warn?.(
        `${msg} (Cinder does not use it; the app can read it with getConf; the keys are listed in docs/configuration.md)`,
      );
      continue;
    }
    const r = (k.type === 'enum' ? z.enum(k.values as [string, ...string[]]) : schemas[k.type]).safeParse(
      String(value),
    );
    if (!r.success)
      throw new CinderError(
        'BAD_CONF',
        `${source}: ${key}='${value}' ${k.type === 'enum' ? `is not one of ${k.values!.join(', ')}` : r.error.issues[0]?.message}`,
        `${k.doc}${k.default !== undefined ? ` Default: ${k.default}.` : ''}`,
      );
  }
}
