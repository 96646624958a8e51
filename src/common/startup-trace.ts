/**
 * Start-up timeline (`CINDER_STARTUP_TRACE=1`): each process of a job (the `cinder` CLI and driver,
 * executors, their task threads) prints one line per phase it finishes to stderr, stamped in ms since the
 * `cinder` command started (CINDER_STARTUP_T0, set by the CLI and inherited by the processes it starts):
 *
 *   cinder-startup   412.3 ms  +61.0 ms  executor-1      modules loaded
 *
 * `+N ms` is the time since the same process's previous mark (or, for its first mark, since the process or
 * thread started), so it is what that phase cost. Imports nothing: executors load it before anything else.
 * Off (one env read) unless asked.
 */
export const STARTUP_TRACE_ENV = 'CINDER_STARTUP_TRACE';
export const STARTUP_T0_ENV = 'CINDER_STARTUP_T0';

const on = process.env[STARTUP_TRACE_ENV] === '1';
let last = performance.timeOrigin;

/** Epoch ms now, to sub-ms precision (performance.timeOrigin is the start of this process or thread). */
function nowEpoch(): number {
  return performance.timeOrigin + performance.now();
}

export function startupTraceOn(): boolean {
  return on;
}

/**
 * The variables that carry the trace to a process started elsewhere (an AM or executor container, whose
 * environment is only what its launch context names): none when tracing is off. The NM-launched processes
 * then stamp their marks from the same command start (epoch ms; the dev cluster's nodes share a clock).
 */
export function traceEnv(): Record<string, string> {
  if (!on) return {};
  return { [STARTUP_TRACE_ENV]: '1', [STARTUP_T0_ENV]: process.env[STARTUP_T0_ENV] ?? String(performance.timeOrigin) };
}

/** The CLI calls this first: children inherit the command's start time through the environment. */
export function markCommandStart(): void {
  if (on && !process.env[STARTUP_T0_ENV]) process.env[STARTUP_T0_ENV] = String(performance.timeOrigin);
}

/** Prints `who` finished `phase` (when tracing). */
export function tracePhase(who: string, phase: string): void {
  if (!on) return;
  const now = nowEpoch();
  const t0 = Number(process.env[STARTUP_T0_ENV]) || performance.timeOrigin;
  process.stderr.write(
    `cinder-startup ${(now - t0).toFixed(1).padStart(8)} ms ${`+${(now - last).toFixed(1)}`.padStart(8)} ms  ${who.padEnd(14)} ${phase}\n`,
  );
  last = now;
}
