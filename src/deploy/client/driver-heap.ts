/**
 * `--driver-memory` (cinder.driver.memory) when the driver runs in the `cinder submit` process (local
 * masters and client mode): a V8 heap is fixed when Node starts, so — as spark-submit starts the driver's
 * JVM with -Xmx — submit starts itself again once with --max-old-space-size set to it and passes on its
 * exit code and the signals it gets. In cluster mode the AM container's heap is set by the AM launch.
 */
import { spawn } from 'node:child_process';
import { parseMb } from '../../common/conf.js';
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
  const child = spawn(process.execPath, [...process.execArgv, `--max-old-space-size=${mb}`, ...process.argv.slice(1)], {
    stdio: 'inherit',
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
