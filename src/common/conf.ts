/**
 * Configuration: string key/value pairs like Spark's conf (`cinder.*`; every key is described in
 * conf-keys.ts), with typed readers that fail with a clear message, and the master URL grammar.
 */
import os from 'node:os';
import { confDefaults } from './conf-keys.js';
import { CinderError } from './errors.js';

export type Conf = Record<string, string>;

/** The default of every key that has one (src/common/conf-keys.ts, docs/configuration.md). */
export const DEFAULTS: Conf = confDefaults();

export { parseBytes, parseMb } from './sizes.js';

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
