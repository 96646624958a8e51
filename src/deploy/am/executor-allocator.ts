/**
 * The AM's executor allocator (Spark's YarnAllocator): keeps the number of executor containers at
 * the driver's target, launches executors in newly allocated containers, releases surplus ones, and
 * turns completed containers into executor-loss reports. Counts executor failures (not the ones we
 * killed, preempted, lost with their node, or that exited 0) against a limit; past it the app fails
 * with exit code 11. Used by the AM in both deploy modes.
 */
import type { AmRmClient } from '../../cluster/appmaster/am-client.js';
import { logger } from '../../common/log.js';
import { traceEnv, tracePhase } from '../../common/startup-trace.js';
import { EXECUTOR_MAIN } from '../../executor/entry.js';
import { type AllocateResponse, type ContainerInfo, ExitStatus, type LocalResource } from '../../protocol/cluster.js';

const log = logger('allocator');

export interface ExecutorExit {
  executorId: string;
  containerId: string;
  exitStatus: number;
  diagnostics: string;
  countsAsFailure: boolean;
}

export interface AllocatorOptions {
  am: AmRmClient;
  appId: string;
  driverUrl: string;
  /** the secret executors use with the driver (defaults to this AM's CINDER_APP_SECRET) */
  appSecret?: string;
  executorMemoryMB: number;
  executorCores: number;
  overheadMB: number;
  localResources: Record<string, LocalResource>;
  maxFailures: number;
  heartbeatMs: number;
  /** cinder.executorEnv.NAME=value entries (Spark's spark.executorEnv.*) */
  extraEnv: Record<string, string>;
  onExecutorExited(e: ExecutorExit): void;
  onFatal(diagnostics: string, exitCode: number): void;
}

/** Environment for executors from `cinder.executorEnv.NAME` settings. */
export function executorEnv(conf: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(conf)) if (k.startsWith('cinder.executorEnv.')) out[k.slice(19)] = v;
  // a traced start-up (src/common/startup-trace.ts) is traced in the executors too
  return { ...traceEnv(), ...out };
}

/** YARN exit statuses that never count toward the executor failure limit. */
const NOT_FAILURES = new Set<number>([ExitStatus.SUCCESS, ExitStatus.ABORTED, -102, -105, -106, -107]);

export class ExecutorAllocator {
  private target = 0;
  private nextExecutorId = 1;
  readonly running = new Map<string, { executorId: string; container: ContainerInfo }>();
  private readonly killed = new Set<string>();
  private failures = 0;
  private stopped = false;

  constructor(private readonly o: AllocatorOptions) {}

  get failureCount(): number {
    return this.failures;
  }

  /** Sets the total number of executors wanted; asks for the missing ones. */
  setTarget(total: number): void {
    this.target = total;
    this.reconcile();
  }

  private reconcile(): void {
    if (this.stopped) return;
    const missing = this.target - this.running.size - this.o.am.pendingAsks;
    if (missing > 0)
      this.o.am.addAsks([
        {
          count: missing,
          resource: { memoryMB: this.o.executorMemoryMB + this.o.overheadMB, vcores: this.o.executorCores },
        },
      ]);
  }

  /** Handles one allocate response: launch, release surplus, report completions. */
  async handle(r: AllocateResponse): Promise<void> {
    const launches: Promise<void>[] = [];
    for (const c of r.allocated) {
      if (this.stopped || this.running.size >= this.target) {
        this.o.am.release([c.id]);
        continue;
      }
      const executorId = String(this.nextExecutorId++);
      this.running.set(c.id, { executorId, container: c });
      launches.push(this.launch(executorId, c));
    }
    for (const s of r.completed) {
      const e = this.running.get(s.containerId);
      if (!e) continue;
      this.running.delete(s.containerId);
      const weKilled = this.killed.delete(s.containerId);
      const status = s.exitStatus ?? -1;
      const counts = !weKilled && !NOT_FAILURES.has(status);
      if (counts) this.failures++;
      const exit: ExecutorExit = {
        executorId: e.executorId,
        containerId: s.containerId,
        exitStatus: status,
        diagnostics: s.diagnostics,
        countsAsFailure: counts,
      };
      log.warn(exit, 'executor container completed');
      this.o.onExecutorExited(exit);
      if (this.failures > this.o.maxFailures) {
        this.o.onFatal(
          `max number of executor failures (${this.o.maxFailures}) reached; last: executor ${e.executorId} in ${s.containerId} exited with ${status}: ${s.diagnostics}`,
          11,
        );
        return;
      }
    }
    await Promise.all(launches);
    this.reconcile();
  }

  private async launch(executorId: string, c: ContainerInfo): Promise<void> {
    tracePhase('am', `executor ${executorId}: container allocated, launch sent to its NM`);
    try {
      await this.o.am.startContainer(
        c,
        {
          command: ['node', '--max-semi-space-size=64', EXECUTOR_MAIN],
          env: {
            CINDER_DRIVER_URL: this.o.driverUrl,
            CINDER_EXECUTOR_ID: executorId,
            CINDER_APP_ID: this.o.appId,
            CINDER_EXECUTOR_CORES: String(this.o.executorCores),
            CINDER_EXECUTOR_MEMORY_MB: String(this.o.executorMemoryMB),
            CINDER_HOST: c.nodeHost,
            CINDER_HEARTBEAT_MS: String(this.o.heartbeatMs),
            CINDER_CONTAINER_ID: c.id,
            ...this.o.extraEnv,
          },
          localResources: this.o.localResources,
        },
        // the app secret reaches the executor in its credentials file, not its env
        this.o.appSecret ? { CINDER_APP_SECRET: this.o.appSecret } : {},
      );
      tracePhase('am', `executor ${executorId}: the NM started its container`);
    } catch (e) {
      log.warn({ containerId: c.id, err: (e as Error).message }, 'executor launch failed; releasing the container');
      this.running.delete(c.id);
      this.o.am.release([c.id]);
    }
  }

  /** Stops the given executors' containers (they do not count as failures). */
  async kill(executorIds: string[]): Promise<void> {
    const ids = new Set(executorIds);
    await Promise.all(
      [...this.running.values()]
        .filter((e) => ids.has(e.executorId))
        .map((e) => {
          this.killed.add(e.container.id);
          this.target = Math.max(0, this.target - 1);
          return this.o.am.stopContainer(e.container).catch(() => {});
        }),
    );
  }

  /** Stops every executor container. */
  async stopAll(): Promise<void> {
    this.stopped = true;
    this.target = 0;
    await Promise.all(
      [...this.running.values()].map((e) => {
        this.killed.add(e.container.id);
        return this.o.am.stopContainer(e.container).catch(() => {});
      }),
    );
  }
}
