/**
 * Cluster deploy mode, driver side: the driver runs inside the AM process, so its executors come
 * straight from this AM's allocator (no AM<->driver channel). Registers the AM with the RM when the
 * context starts (with the driver's RPC port), then keeps the executor target.
 */
import { attemptOver } from '../../cluster/appmaster/am-client.js';
import { type Conf, intConf } from '../../common/conf.js';
import { CinderError } from '../../common/errors.js';
import { logger } from '../../common/log.js';
import type { PreListener } from '../../rpc/index.js';
import type { DriverAddress, ExecutorBackend } from '../../scheduler/backend.js';
import type { AmRuntime } from '../am/am-runtime.js';
import { ExecutorAllocator, type ExecutorExit, executorEnv } from '../am/executor-allocator.js';
import { executorSize } from '../container-sizing.js';

const log = logger('am-backend');

export class ClusterModeBackend implements ExecutorBackend {
  private allocator: ExecutorAllocator | undefined;
  private loop: { stop(): void; done: Promise<void> } | undefined;
  readonly targetCores: number;
  private readonly numExecutors: number;

  constructor(
    private readonly rt: AmRuntime,
    private readonly conf: Conf,
  ) {
    this.numExecutors = Number(conf['cinder.executor.instances'] ?? '2');
    this.targetCores = this.numExecutors * intConf(conf, 'cinder.executor.cores');
  }

  /** The driver lives in the AM container: it advertises the AM's node address. */
  async prepare(): Promise<{ appId: string; secret: string; driverHost: string; listener?: PreListener }> {
    const early = this.rt.early;
    return {
      appId: this.rt.appId,
      secret: this.rt.secret,
      driverHost: this.rt.host,
      ...(early ? { listener: early.listener } : {}),
    };
  }

  async start(
    driver: DriverAddress,
    waitForRegistered: (n: number, timeoutMs: number) => Promise<void>,
  ): Promise<void> {
    const rt = this.rt;
    if (rt.early) {
      // registered (without a UI yet) and asking for executors since before main ran (application-master.ts)
      if (driver.uiUrl) rt.am.updateTrackingUrl(driver.uiUrl);
      this.allocator = rt.early.allocator;
      this.loop = rt.early.loop;
    } else {
      await rt.am.register(rt.host, driver.port, driver.uiUrl ?? '');
      const s = startAllocation(rt, this.conf, {
        driverUrl: `${driver.host}:${driver.port}`,
        initialTarget: this.numExecutors,
        onFatal: (d, code) => rt.onFatal(d, code),
        onRmGone: (kind, why) => rt.onRmGone(kind, why),
      });
      this.allocator = s.allocator;
      this.loop = s.loop;
    }
    rt.onRegistered();
    const wait = intConf(this.conf, 'cinder.scheduler.maxRegisteredResourcesWaitingTime');
    await waitForRegistered(Math.max(1, Math.ceil(this.numExecutors * 0.8)), wait).catch((e: Error) => {
      throw new CinderError(
        'NO_EXECUTORS',
        `cluster mode: ${e.message}`,
        'check `cinder nodes` for capacity and the executor container logs',
      );
    });
  }

  executorLost(): void {
    // the allocator sees the container complete and asks for a replacement
  }

  async stop(): Promise<void> {
    this.loop?.stop();
    await this.allocator?.stopAll();
  }
}

/** What an AM's allocator needs beyond its configuration; the two deploy modes differ only here. */
export interface AllocationHooks {
  driverUrl: string;
  /** the secret executors use with the driver (default: the AM's own CINDER_APP_SECRET) */
  appSecret?: string;
  /** executors asked for at once (cluster mode: cinder.executor.instances; client mode: the driver asks later) */
  initialTarget: number;
  onExecutorExited?: (e: ExecutorExit) => void;
  onFatal(diagnostics: string, exitCode: number): void;
  /** the heartbeat loop ended: the RM ended this attempt, or stayed unreachable for the retry window */
  onRmGone(kind: 'ended' | 'lost', why: string): void;
}

/**
 * Starts the executor allocator of a registered AM (both deploy modes): sizes executors from the
 * configuration (container-sizing.ts), asks for the initial target at once and keeps the target
 * through the RM heartbeat loop, whose end is onRmGone: the RM ended the attempt, or was lost.
 */
export function startAllocation(
  rt: Pick<AmRuntime, 'am' | 'appId' | 'executorResources'>,
  conf: Conf,
  hooks: AllocationHooks,
): {
  allocator: ExecutorAllocator;
  loop: { stop(): void; done: Promise<void> };
  numExecutors: number;
  firstRound(maxWaitMs: number): Promise<void>;
} {
  const numExecutors = Number(conf['cinder.executor.instances'] ?? '2');
  const size = executorSize(conf);
  const allocator = new ExecutorAllocator({
    am: rt.am,
    appId: rt.appId,
    driverUrl: hooks.driverUrl,
    ...(hooks.appSecret !== undefined ? { appSecret: hooks.appSecret } : {}),
    executorMemoryMB: size.heapMB,
    executorCores: size.vcores,
    overheadMB: size.overheadMB,
    localResources: rt.executorResources,
    maxFailures: Number(conf['cinder.executor.maxNumFailures'] ?? Math.max(3, 2 * numExecutors)),
    heartbeatMs: intConf(conf, 'cinder.executor.heartbeatInterval'),
    extraEnv: executorEnv(conf),
    onExecutorExited: (e) => hooks.onExecutorExited?.(e),
    onFatal: (d, code) => hooks.onFatal(d, code),
  });
  // asks first, so the loop's first allocate carries them
  if (hooks.initialTarget > 0) allocator.setTarget(hooks.initialTarget);
  let firstDone!: () => void;
  const first = new Promise<void>((r) => (firstDone = r));
  const loop = rt.am.heartbeatLoop({
    intervalMs: intConf(conf, 'cinder.am.heartbeatInterval'),
    onResponse: (r) => allocator.handle(r).finally(firstDone),
    onError: (e) => {
      firstDone();
      log.warn({ err: e.message }, 'AM heartbeat to the RM failed');
    },
  });
  loop.done.catch((e: Error) => {
    firstDone();
    hooks.onRmGone(attemptOver(e) ? 'ended' : 'lost', e.message.split('\n')[0] ?? '');
  });
  /**
   * Resolves once the first allocate answer is handled (the containers it brought are started) or after
   * `maxWaitMs`: work that holds the event loop for long (importing the engine and the user's main) waits
   * for it, else the answer sits unread and the executors start that much later (seen: ~100 ms).
   */
  const firstRound = (maxWaitMs: number) =>
    Promise.race([first, new Promise<void>((r) => setTimeout(r, maxWaitMs).unref())]);
  return { allocator, loop, numExecutors, firstRound };
}
