/**
 * Spare executors (docs/decisions/0017-startup.md): `cinder submit` with a local master starts the executor
 * processes before it compiles and loads the app, so their Node start-up and module loading overlap with
 * the driver's. A spare has no driver yet: its process and task threads load their code, then it reads
 * one JSON line on stdin (a pipe only its parent holds, so the app secret stays out of env, argv and
 * files) naming its driver, its id and the app, and goes on as a normal executor. Stdin closing before
 * that line (the app never started a context, or needed other executors) ends the process.
 *
 * Imports only Node built-ins: it is loaded by the executor's entry and its task threads before anything else.
 */

/** The env variable that makes an executor a spare. */
export const SPARE_ENV = 'CINDER_EXECUTOR_SPARE';

/** The line a spare reads on stdin. */
export interface SpareAssignment {
  driverUrl: string;
  executorId: string;
  appId: string;
  secret: string;
  /** epoch ms the spare was spawned (the driver's launch-to-register figure starts here) */
  launchRequestedAt: number;
  /** environment variables that differ from the spare's (set, or null: removed) since it was spawned */
  env: Record<string, string | null>;
}

/** Sets and removes environment variables as the driver's environment has them now. */
export function applyEnv(diff: Record<string, string | null>): void {
  for (const [k, v] of Object.entries(diff)) {
    if (v === null) delete process.env[k];
    else process.env[k] = v;
  }
}

/** The variables of `now` that differ from `then` (null: removed). */
export function envDiff(
  then: Record<string, string | undefined>,
  now: Record<string, string | undefined>,
): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(now)) if (v !== undefined && then[k] !== v) out[k] = v;
  for (const k of Object.keys(then)) if (now[k] === undefined) out[k] = null;
  return out;
}

/** Waits for the assignment line on stdin; undefined when stdin ends first (the spare is not needed). */
export function awaitAssignment(): Promise<SpareAssignment | undefined> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    let text = '';
    const done = (a: SpareAssignment | undefined, e?: Error) => {
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      stdin.off('error', onEnd);
      stdin.destroy();
      if (e) reject(e);
      else resolve(a);
    };
    const onData = (d: Buffer) => {
      text += d.toString('utf8');
      const nl = text.indexOf('\n');
      if (nl < 0) return;
      try {
        done(JSON.parse(text.slice(0, nl)) as SpareAssignment);
      } catch (e) {
        done(undefined, new Error(`spare executor: bad assignment line on stdin: ${(e as Error).message}`));
      }
    };
    const onEnd = () => done(undefined);
    stdin.on('data', onData);
    stdin.on('end', onEnd);
    stdin.on('error', onEnd);
  });
}
