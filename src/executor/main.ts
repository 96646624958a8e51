/**
 * Executor process entry (`node build/src/executor/main.entry.cjs`, which runs main.bundle.cjs, or main.js; see entry.ts). The same code runs in local mode
 * (spawned by the driver) and on a cluster (launched in a container by a NodeManager).
 *
 *   main thread: driver connection (register, heartbeats, batched status updates), block server
 *     (./executor-backend.ts)
 *   worker threads (cores of them): run tasks (src/executor/worker.ts)
 *
 * This module starts the task threads first and only then loads the backend, so the threads' start-up
 * overlaps with the main thread's (decision 0009): it imports nothing but Node built-ins and
 * ./task-threads.ts.
 *
 * Configured by environment (never argv, so secrets stay out of process listings):
 *   CINDER_DRIVER_URL host:port   CINDER_EXECUTOR_ID   CINDER_APP_ID   CINDER_CREDENTIALS_FILE (0600 JSON
 *   holding CINDER_APP_SECRET; deleted once read)
 *   CINDER_EXECUTOR_CORES   CINDER_EXECUTOR_MEMORY_MB   CINDER_WORK_DIR   CINDER_HOST (advertised)
 *   CINDER_BIND_HOST   CINDER_HEARTBEAT_MS   CINDER_CONTAINER_ID
 * Exits when the driver goes away or asks it to stop.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { takeCredentials } from '../common/credentials.js';
import { tracePhase } from '../common/startup-trace.js';
import { codeCacheState } from './code-cache.js';
import { applyEnv, awaitAssignment, SPARE_ENV } from './spare.js';
import { TaskThreads } from './task-threads.js';

const env = process.env;
function need(name: string): string {
  const v = env[name];
  if (!v) {
    process.stderr.write(`executor: missing environment variable ${name}\n`);
    process.exit(2);
  }
  return v;
}

// a spare (started before its driver existed) learns its driver, id and app from stdin later (./spare.ts)
const spare = env[SPARE_ENV] === '1';
let driverUrl = spare ? '' : need('CINDER_DRIVER_URL');
let executorId = spare ? '' : need('CINDER_EXECUTOR_ID');
let appId = spare ? '' : need('CINDER_APP_ID');
const who = () => `executor-${executorId || `spare${process.pid}`}`;
tracePhase(who(), `process started, entry loaded (code cache: ${codeCacheState()})`);
// the app secret comes in a 0600 file ($CINDER_CREDENTIALS_FILE), read once and deleted: never in the env
let secret = spare ? '' : (takeCredentials().CINDER_APP_SECRET ?? '');
if (!spare && !secret) {
  process.stderr.write('executor: no CINDER_APP_SECRET in the credentials file ($CINDER_CREDENTIALS_FILE)\n');
  process.exit(2);
}
const cores = Math.max(1, Number(env.CINDER_EXECUTOR_CORES ?? 1));
const memoryMb = Math.max(64, Number(env.CINDER_EXECUTOR_MEMORY_MB ?? 1024));
// in a container the work dir lives in the container's own directory (the NM removes it)
const workDir =
  env.CINDER_WORK_DIR ??
  (env.CINDER_CONTAINER_ID
    ? path.join(process.cwd(), 'cinder-work')
    : fs.mkdtempSync(path.join(os.tmpdir(), `cinder-exec-${executorId}-`)));
const shuffleDir = path.join(workDir, 'shuffle');
fs.mkdirSync(shuffleDir, { recursive: true });

const threads = new TaskThreads({
  ids: spare ? undefined : { executorId, appId, secret },
  workDir,
  shuffleDir,
  cores,
  memoryMb,
  mainUrl: import.meta.url,
});
tracePhase(who(), 'task threads started');
// loaded once the threads run: until then the young-generation flag is set for them, and the built-ins the
// backend loads would be compiled without Node's code cache (./v8-flags.ts)
const backend = threads.booted().then(() => import('./executor-backend.js'));
// a function, not top-level await: the bundle is CommonJS so it can be loaded with a V8 code cache (./code-cache.ts)
async function run(): Promise<void> {
  if (spare) {
    const a = await awaitAssignment();
    if (!a) {
      // not needed after all: the driver's process ended or it started executors of another size
      await threads.terminate();
      fs.rmSync(workDir, { recursive: true, force: true });
      process.exit(0);
    }
    ({ driverUrl, executorId, appId, secret } = a);
    applyEnv({ ...a.env, CINDER_LAUNCH_REQUESTED_AT: String(a.launchRequestedAt) });
    threads.assign({ executorId, appId, secret }, a.env);
    tracePhase(who(), 'assigned to its driver');
  }
  const { runExecutor } = await backend;
  tracePhase(who(), 'modules loaded');
  await runExecutor({ driverUrl, executorId, appId, secret, cores, workDir, shuffleDir, threads });
}
run().catch((e: unknown) => {
  process.stderr.write(`executor: ${(e as Error)?.stack ?? String(e)}\n`);
  process.exit(1);
});
