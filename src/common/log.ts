/**
 * Structured logging (pino). Logs go to stderr: JSON, or readable lines on a terminal (pretty-log.ts);
 * the level comes from CINDER_LOG_LEVEL.
 * Secrets never go through here: redact() masks config keys that look secret.
 */
import { pino } from './pino.js';
import { prettyDestination, wantsPretty } from './pretty-log.js';

const level = process.env.CINDER_LOG_LEVEL ?? (process.env.CINDER_TEST ? 'warn' : 'info');

export const rootLogger = pino(
  {
    level,
    base: { pid: process.pid },
    redact: { paths: ['secret', '*.secret', 'conf.*secret*', 'token', '*.token', 'password'], censor: '*****' },
  },
  // people at a terminal get readable lines (CINDER_LOG_FORMAT=json|pretty overrides); files and pipes get JSON
  wantsPretty(2) ? prettyDestination(2, process.env.NO_COLOR === undefined) : pino.destination({ dest: 2, sync: true }),
);

export type Logger = pino.Logger;

export function logger(component: string, bindings: Record<string, unknown> = {}): Logger {
  return rootLogger.child({ component, ...bindings });
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
