/**
 * Structured logging (pino). Logs go to stderr: JSON, or readable lines on a terminal (pretty-log.ts);
 * the level comes from CINDER_LOG_LEVEL.
 * Secrets never go through here: redact() masks config keys that look secret.
 *
 * The pino logger is made when it is first used (a line at an enabled level, a level change, a child's
 * own call), not when this module loads: a process that logs nothing never builds it (its redaction
 * compile and destination), e.g. an executor's task thread. Lines, levels and children behave as if it
 * had been made at load: the level and destination are decided here at load, children follow their
 * root's level as pino's do (docs/decisions/0032-executor-start.md).
 */
import { pino } from './pino.js';
import { prettyDestination, wantsPretty } from './pretty-log.js';

const level = process.env.CINDER_LOG_LEVEL ?? (process.env.CINDER_TEST ? 'warn' : 'info');
// decided at load, as when the logger was made here
const pretty = wantsPretty(2);
const color = process.env.NO_COLOR === undefined;

let root: pino.Logger | undefined;
function realRoot(): pino.Logger {
  root ??= pino(
    {
      level,
      base: { pid: process.pid },
      redact: { paths: ['secret', '*.secret', 'conf.*secret*', 'token', '*.token', 'password'], censor: '*****' },
    },
    // people at a terminal get readable lines (CINDER_LOG_FORMAT=json|pretty overrides); files and pipes get JSON
    pretty ? prettyDestination(2, color) : pino.destination({ dest: 2, sync: true }),
  );
  return root;
}

/** pino's level values; a call at a level below the root's is a no-op that needs no logger */
const LEVEL_VALUES: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };
const levelValue = (l: string): number => (l === 'silent' ? Number.POSITIVE_INFINITY : (LEVEL_VALUES[l] ?? 0));
const noop = (): void => {};

/** A logger that makes the real one (`make`) on its first use that needs it. */
function lazy(make: () => pino.Logger): pino.Logger {
  let real: pino.Logger | undefined;
  return new Proxy({} as pino.Logger, {
    get(_t, p) {
      if (!real) {
        // before the root exists its level is still the one read at load (children follow it)
        if (!root && typeof p === 'string' && p in LEVEL_VALUES && LEVEL_VALUES[p]! < levelValue(level)) return noop;
        if (!root && p === 'level') return level;
        real = make();
      }
      const v = Reflect.get(real, p, real);
      return typeof v === 'function' ? v.bind(real) : v;
    },
    set(_t, p, v) {
      real ??= make();
      return Reflect.set(real, p, v, real);
    },
    has(_t, p) {
      real ??= make();
      return Reflect.has(real, p);
    },
  });
}

export const rootLogger: pino.Logger = lazy(realRoot);

export type Logger = pino.Logger;

export function logger(component: string, bindings: Record<string, unknown> = {}): Logger {
  return lazy(() => realRoot().child({ component, ...bindings }));
}

/** Spark's spark.redaction.regex default. */
export const REDACTION_REGEX = /secret|password|token|access[.]?key/i;

/** Returns a copy of conf with values of secret-looking keys (or secret-looking values) masked. */
export function redact(conf: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(conf)) {
    out[k] = REDACTION_REGEX.test(k) || REDACTION_REGEX.test(v) ? '*********(redacted)' : v;
  }
  return out;
}
