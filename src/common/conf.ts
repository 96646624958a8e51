/**
 * Configuration: string key/value pairs like Spark's conf (`cinder.*`), with typed readers that
 * fail with a clear message, and the master URL grammar.
 */
import os from 'node:os';
import { CinderError } from './errors.js';

export type Conf = Record<string, string>;

export const DEFAULTS: Conf = {
  'cinder.executor.cores': '1',
  'cinder.executor.memory': '1g',
  'cinder.task.maxFailures': '4',
  'cinder.stage.maxConsecutiveAttempts': '4',
  'cinder.locality.wait': '3000',
  'cinder.scheduler.prefetchPerCore': '8',
  'cinder.network.timeout': '120000',
  'cinder.executor.heartbeatInterval': '10000',
  'cinder.driver.maxResultSize': '1g',
  'cinder.ui.showConsoleProgress': 'true',
  'cinder.ui.enabled': 'true',
  'cinder.ui.port': '4040',
  'cinder.eventLog.enabled': 'true',
  'cinder.eventLog.rolling.enabled': 'false',
  'cinder.eventLog.rolling.maxFileSize': '128m',
  'cinder.executor.maxFailures': '10',
  'cinder.am.heartbeatInterval': '3000',
  'cinder.am.driverLeaseMs': '5000',
  'cinder.am.waitTime': '100000',
  'cinder.am.earlyExecutors': 'true',
  'cinder.scheduler.maxRegisteredResourcesWaitingTime': '30000',
  'cinder.yarn.maxAppAttempts': '2',
  'cinder.yarn.report.interval': '1000',
  'cinder.cleaner.periodicGC.interval': '30000',
};

/** Parses sizes like 512m, 1g, 1024k, 100 (bytes) into bytes. */
export function parseBytes(v: string, key: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$/i.exec(v);
  if (!m)
    throw new CinderError(
      'BAD_CONF',
      `${key}: '${v}' is not a size`,
      'use a number with an optional unit: 512m, 2g, 1048576',
    );
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[
    m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g' | 't'
  ];
  return Math.floor(Number(m[1]) * mult);
}

export function parseMb(v: string, key: string): number {
  // bare numbers are MiB for memory settings, as in Spark
  if (/^\s*\d+\s*$/.test(v)) return Number(v);
  return Math.floor(parseBytes(v, key) / 1024 ** 2);
}

export function intConf(conf: Conf, key: string): number {
  const v = conf[key] ?? DEFAULTS[key];
  const n = Number(v);
  if (v === undefined || !Number.isFinite(n))
    throw new CinderError('BAD_CONF', `${key}: '${v}' is not a number`, `set --conf ${key}=<number>`);
  return n;
}

export function boolConf(conf: Conf, key: string): boolean {
  const v = (conf[key] ?? DEFAULTS[key] ?? 'false').toLowerCase();
  if (v !== 'true' && v !== 'false') throw new CinderError('BAD_CONF', `${key}: '${v}' is not true or false`);
  return v === 'true';
}

export function strConf(conf: Conf, key: string): string | undefined {
  return conf[key] ?? DEFAULTS[key];
}

export type Master =
  | { kind: 'local'; executors: number; maxFailures: number | undefined }
  | { kind: 'cluster'; host: string; port: number };

/** local, local[N], local[*], local[N,F], cinder://host:port */
export function parseMaster(master: string): Master {
  if (master === 'local') return { kind: 'local', executors: 1, maxFailures: undefined };
  const m = /^local\[(\*|\d+)(?:,(\d+))?\]$/.exec(master);
  if (m) {
    const n = m[1] === '*' ? os.availableParallelism() : Number(m[1]);
    if (n < 1) throw new CinderError('BAD_MASTER', `master ${master}: need at least one executor`);
    return { kind: 'local', executors: n, maxFailures: m[2] ? Number(m[2]) : undefined };
  }
  const c = /^cinder:\/\/([^:/]+|\[[^\]]+\]):(\d+)\/?$/.exec(master);
  if (c) return { kind: 'cluster', host: c[1]!.replace(/^\[|\]$/g, ''), port: Number(c[2]) };
  throw new CinderError(
    'BAD_MASTER',
    `unknown master URL '${master}'`,
    'use local, local[N], local[*], local[N,F] or cinder://HOST:PORT (printed by `cinder cluster up`)',
  );
}
