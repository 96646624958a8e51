/**
 * A small pino destination that prints each JSON log line for people: `HH:MM:SS.mmm LEVEL component
 * message key=value …`, coloured on a terminal. Used instead of JSON when stderr is a TTY (or
 * CINDER_LOG_FORMAT=pretty); CINDER_LOG_FORMAT=json keeps JSON. It runs in the logging thread (no
 * worker thread, unlike pino's transports) and has no dependencies
 * (docs/decisions/0023-console-logs.md).
 */
import fs from 'node:fs';
import tty from 'node:tty';

const LEVELS: Record<number, [string, string]> = {
  10: ['TRACE', '\x1b[90m'],
  20: ['DEBUG', '\x1b[36m'],
  30: ['INFO ', '\x1b[32m'],
  40: ['WARN ', '\x1b[33m'],
  50: ['ERROR', '\x1b[31m'],
  60: ['FATAL', '\x1b[35m'],
};
const RESET = '\x1b[0m';
const DIM = '\x1b[2m';
const SKIP = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'component']);

function value(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  return JSON.stringify(v);
}

/** Formats one pino JSON line (returns it unchanged if it is not JSON). */
export function prettyLine(line: string, color: boolean): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  const t = typeof o.time === 'number' ? new Date(o.time).toISOString().slice(11, 23) : '';
  const [name, c] = LEVELS[o.level as number] ?? [String(o.level), ''];
  const fields = Object.entries(o)
    .filter(([k]) => !SKIP.has(k))
    .map(([k, v]) => {
      if (k === 'err' && v && typeof v === 'object' && 'stack' in v)
        return `\n${String((v as { stack: string }).stack)}`;
      return `${k}=${value(v)}`;
    })
    .join(' ');
  const comp = o.component ? `${o.component} ` : '';
  return color
    ? `${DIM}${t}${RESET} ${c}${name}${RESET} ${DIM}${comp}${RESET}${String(o.msg ?? '')}${fields ? ` ${DIM}${fields}${RESET}` : ''}\n`
    : `${t} ${name} ${comp}${String(o.msg ?? '')}${fields ? ` ${fields}` : ''}\n`;
}

/** A synchronous pino destination writing pretty lines to a file descriptor. */
export function prettyDestination(fd: number, color: boolean): { write(s: string): void } {
  return {
    write(s: string) {
      let out = '';
      for (const line of s.split('\n')) if (line) out += prettyLine(line, color);
      try {
        fs.writeSync(fd, out);
      } catch {
        // a closed stderr must not take the process down
      }
    },
  };
}

/** Whether logs on this fd should be pretty: CINDER_LOG_FORMAT=pretty|json, else whether it is a TTY. */
export function wantsPretty(fd: number, env: NodeJS.ProcessEnv = process.env): boolean {
  const f = env.CINDER_LOG_FORMAT;
  if (f === 'json') return false;
  if (f === 'pretty') return true;
  return tty.isatty(fd);
}
