/**
 * Local mode's executor processes: spawning them, and the spares `cinder submit` starts before the
 * driver exists (src/executor/spare.ts, decision 0017), which the next LocalBackend of the same shape
 * adopts. Imports only Node built-ins and the executor's entry path: the CLI loads it before the app.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tracePhase } from '../common/startup-trace.js';
import { EXECUTOR_MAIN } from '../executor/entry.js';
import { SPARE_ENV } from '../executor/spare.js';

/** Every live executor child of this process, so an abrupt exit can still kill them. */
const allChildren = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of allChildren) c.kill('SIGKILL');
});

/** What makes executors interchangeable: a spare is used only by a backend that wants exactly this. */
export interface ExecutorShape {
  coresPerExecutor: number;
  memoryMb: number;
  heartbeatMs: number;
}

interface Spare {
  shape: ExecutorShape;
  child: ChildProcess;
  workDir: string;
  env: Record<string, string | undefined>;
  /** epoch ms it was spawned: its launch, for the driver's launch-to-register figure */
  spawnedAt: number;
}

/** Executors started before their driver (startSpareExecutors), taken by the next LocalBackend that fits. */
const spares: Spare[] = [];
let sparesDir: string | undefined;

export function executorEnv(shape: ExecutorShape, workDir: string): Record<string, string | undefined> {
  return {
    ...process.env,
    CINDER_EXECUTOR_CORES: String(shape.coresPerExecutor),
    CINDER_EXECUTOR_MEMORY_MB: String(shape.memoryMb),
    CINDER_WORK_DIR: workDir,
    CINDER_HOST: '127.0.0.1',
    CINDER_HEARTBEAT_MS: String(shape.heartbeatMs),
  };
}

export function spawnExecutor(env: Record<string, string | undefined>, stdin: 'ignore' | 'pipe'): ChildProcess {
  const child = spawn(process.execPath, ['--max-semi-space-size=64', EXECUTOR_MAIN], {
    stdio: [stdin, 2, 2],
    env,
  });
  allChildren.add(child);
  child.on('exit', () => allChildren.delete(child));
  return child;
}

/**
 * Starts `n` executors that load their code before any driver exists (`cinder submit` calls this for a
 * local master before it compiles and loads the app: decision 0017). The first LocalBackend whose
 * executors have the same shape adopts them; the others end when this process does.
 */
export function startSpareExecutors(n: number, shape: ExecutorShape): void {
  sparesDir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-spares-'));
  const dir = sparesDir;
  if (spares.length === 0) process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  for (let i = 0; i < n; i++) {
    const workDir = path.join(dir, `spare-${spares.length + 1}`);
    fs.mkdirSync(workDir, { recursive: true, mode: 0o700 });
    const env = executorEnv(shape, workDir);
    env[SPARE_ENV] = '1';
    const child = spawnExecutor(env, 'pipe');
    child.stdin!.on('error', () => {}); // a spare that died: the backend sees its exit
    // a spare never keeps this process alive (an app without a context still exits; the exit hook kills it)
    child.unref();
    (child.stdin as unknown as { unref(): void }).unref();
    spares.push({ shape, child, workDir, env, spawnedAt: Date.now() });
  }
  tracePhase('cli', `${n} spare executors spawned`);
}

/** A live spare of this shape, removed from the pool; spares of other shapes are ended (nobody will take them). */
export function takeSpare(shape: ExecutorShape): Spare | undefined {
  for (let i = spares.length - 1; i >= 0; i--) {
    const s = spares[i]!;
    const same =
      s.shape.coresPerExecutor === shape.coresPerExecutor &&
      s.shape.memoryMb === shape.memoryMb &&
      s.shape.heartbeatMs === shape.heartbeatMs;
    if (!same || s.child.exitCode !== null || s.child.signalCode !== null) {
      spares.splice(i, 1);
      s.child.stdin?.end();
    }
  }
  return spares.shift();
}

/** Ends the spares nobody took (their process exits when its stdin closes). */
export function endSpares(): void {
  for (const s of spares.splice(0)) s.child.stdin?.end();
}
