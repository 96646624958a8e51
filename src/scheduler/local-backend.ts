/**
 * Local mode (`local[N]`): N executor processes on this machine, each a real OS process that
 * dials the driver like on a cluster. A lost executor is replaced (new id) up to a failure limit.
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { CREDENTIALS_ENV, writeCredentials } from '../common/credentials.js';
import { CinderError } from '../common/errors.js';
import { own } from '../common/keep-alive.js';
import { logger } from '../common/log.js';
import { tracePhase } from '../common/startup-trace.js';
import { envDiff, type SpareAssignment } from '../executor/spare.js';
import type { DriverAddress, ExecutorBackend } from './backend.js';
import { type ExecutorShape, endSpares, executorEnv, spawnExecutor, takeSpare } from './executor-processes.js';

const log = logger('local-backend');

export interface LocalBackendOptions extends ExecutorShape {
  executors: number;
  coresPerExecutor: number;
  memoryMb: number;
  workDir: string;
  heartbeatMs: number;
  maxExecutorFailures: number;
}

export class LocalBackend implements ExecutorBackend {
  private readonly children = new Map<string, ChildProcess>();
  private nextId = 1;
  private failures = 0;
  private driver: DriverAddress | undefined;
  private stopping = false;
  onFatal: ((e: Error) => void) | undefined;

  constructor(private readonly o: LocalBackendOptions) {}

  get targetCores(): number {
    return this.o.executors * this.o.coresPerExecutor;
  }

  async start(
    driver: DriverAddress,
    waitForRegistered: (n: number, timeoutMs: number) => Promise<void>,
  ): Promise<void> {
    this.driver = driver;
    for (let i = 0; i < this.o.executors; i++) this.launch();
    endSpares();
    tracePhase('driver', `${this.o.executors} executors spawned`);
    await waitForRegistered(this.o.executors, 30_000);
  }

  private launch(): void {
    const d = this.driver!;
    const id = String(this.nextId++);
    const workDir = path.join(this.o.workDir, `executor-${id}`);
    // a spare started before this driver existed (decision 0017) gets its driver, id and secret on stdin
    const spare = takeSpare(this.o);
    let child: ChildProcess;
    if (spare) {
      child = spare.child;
      const assignment: SpareAssignment = {
        driverUrl: `${d.host}:${d.port}`,
        executorId: id,
        appId: d.appId,
        secret: d.secret,
        launchRequestedAt: spare.spawnedAt,
        // what a freshly spawned executor's environment would hold (user code in tasks may read it)
        env: envDiff(spare.env, {
          ...executorEnv(this.o, spare.workDir),
          CINDER_DRIVER_URL: `${d.host}:${d.port}`,
          CINDER_EXECUTOR_ID: id,
          CINDER_APP_ID: d.appId,
        }),
      };
      child.stdin!.end(`${JSON.stringify(assignment)}\n`);
    } else {
      fs.mkdirSync(workDir, { recursive: true, mode: 0o700 });
      // the app secret in a 0600 file the executor deletes once read, not in its env
      const credentials = path.join(workDir, 'credentials.json');
      writeCredentials(credentials, { CINDER_APP_SECRET: d.secret });
      child = spawnExecutor(
        {
          ...executorEnv(this.o, workDir),
          CINDER_DRIVER_URL: `${d.host}:${d.port}`,
          CINDER_EXECUTOR_ID: id,
          CINDER_APP_ID: d.appId,
          [CREDENTIALS_ENV]: credentials,
          CINDER_LAUNCH_REQUESTED_AT: String(Date.now()),
        },
        'ignore',
      );
    }
    // Cinder's handles do not keep a submitted app's process alive (decision 0019); a spare was unref'd
    if (spare) child.ref();
    own(child);
    this.children.set(id, child);
    child.on('exit', (code, signal) => {
      if (this.children.get(id) === child) this.children.delete(id);
      if (!this.stopping && (code !== 0 || signal))
        log.warn({ executorId: id, code, signal }, 'executor process exited');
    });
  }

  executorLost(executorId: string, reason: string): void {
    const child = this.children.get(executorId);
    if (child) {
      child.kill('SIGKILL');
      this.children.delete(executorId);
    }
    if (this.stopping) return;
    this.failures++;
    if (this.failures > this.o.maxExecutorFailures) {
      this.onFatal?.(
        new CinderError(
          'TOO_MANY_EXECUTOR_FAILURES',
          `${this.failures} executors were lost (last: ${reason})`,
          'check the executor logs above',
        ),
      );
      return;
    }
    log.warn({ executorId, reason }, 'replacing lost executor');
    this.launch();
  }

  /** Test/fault-injection helper: the pids of live executor processes. */
  pids(): number[] {
    return [...this.children.values()].map((c) => c.pid!).filter(Boolean);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const exits = [...this.children.values()].map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          const t = setTimeout(() => c.kill('SIGKILL'), 3000);
          c.once('exit', () => {
            clearTimeout(t);
            resolve();
          });
        }),
    );
    await Promise.all(exits);
    this.children.clear();
  }
}
