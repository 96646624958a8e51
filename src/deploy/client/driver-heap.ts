/**
 * `--driver-memory` (cinder.driver.memory) when the driver runs in the `cinder submit` process (local
 * masters and client mode): a V8 heap is fixed when Node starts, so — as spark-submit starts the driver's
 * JVM with -Xmx — submit starts itself again once with --max-old-space-size set to it and passes on its
 * exit code and the signals it gets. In cluster mode the AM container's heap is set by the AM launch.
 * Imports no schema library: bin/cinder.js restarts with `--driver-memory` before the CLI loads.
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import { parseMb } from '../../common/sizes.js';
import { markCommandStart } from '../../common/startup-trace.js';
import type { SubmitRequest } from './submit-options.js';

/** set in the restarted process: the heap (MB) it was started with */
const HEAP_ENV = 'CINDER_DRIVER_HEAP_MB';

/** The heap the driver of this submission needs, in MB, when this process was not started with it. */
export function driverHeapToSet(req: SubmitRequest): number | undefined {
  const v = req.conf['cinder.driver.memory'];
  if (v === undefined || req.deployMode === 'cluster') return undefined;
  const mb = parseMb(v, 'cinder.driver.memory');
  return process.env[HEAP_ENV] === String(mb) ? undefined : mb;
}

/** Runs this same command again with a heap of `mb` MB; resolves to its exit code. */
export function rerunWithHeap(mb: number): Promise<number> {
  markCommandStart(); // the restarted process's trace counts from this command's start
  const child = spawn(process.execPath, [...process.execArgv, `--max-old-space-size=${mb}`, ...process.argv.slice(1)], {
    // fd 3: a pipe the restarted process watches, so that it ends when this one is killed (even by SIGKILL)
    stdio: ['inherit', 'inherit', 'inherit', 'pipe'],
    env: { ...process.env, [HEAP_ENV]: String(mb) },
  });
  const pass = (sig: NodeJS.Signals) => child.kill(sig);
  process.on('SIGINT', pass);
  process.on('SIGTERM', pass);
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      process.off('SIGINT', pass);
      process.off('SIGTERM', pass);
      resolve(code ?? (signal === 'SIGINT' ? 130 : 143));
    });
  });
}

/**
 * In the restarted process: when the process that started it is gone without passing on a signal (its
 * end of fd 3 closes: it was SIGKILLed or crashed), this one ends too, at once, as the driver would have
 * without the restart: the AM sees its driver disconnect, local executors see their stdin close. It
 * ends with process.exit, not a signal, so that its exit hooks still remove its temp dirs and kill its
 * local executors.
 */
export function endWithStarter(): void {
  if (!process.env[HEAP_ENV]) return;
  // this process's own: what it starts (executors, an app's own `cinder submit`) has no such pipe
  delete process.env[HEAP_ENV];
  let pipe: net.Socket;
  try {
    pipe = new net.Socket({ fd: 3, readable: true, writable: false });
  } catch {
    return;
  }
  pipe.on('error', () => {});
  pipe.once('close', () => process.exit(137));
  pipe.resume();
  pipe.unref();
}
