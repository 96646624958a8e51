/**
 * Cluster deploy mode, driver side: the driver runs inside the AM process, so its executors come
 * straight from this AM's allocator (no AM<->driver channel). Registers the AM with the RM when the
 * context starts (with the driver's RPC port), then keeps the executor target.
 */
import { type Conf, intConf, parseMb, strConf } from '../common/conf.js';
import { CinderError } from '../common/errors.js';
import { logger } from '../common/log.js';
import type { PreListener } from '../rpc/index.js';
import type { DriverAddress, ExecutorBackend } from '../scheduler/backend.js';
import type { AmRuntime } from './am-runtime.js';
import { ExecutorAllocator, executorEnv, overheadFor } from './executor-allocator.js';

const log = logger('am-backend');

export class AmBackend implements ExecutorBackend {
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
      // registered and asking for executors since before main ran (application-master.ts)
      this.allocator = rt.early.allocator;
      this.loop = rt.early.loop;
    } else {
      await rt.am.register(rt.host, driver.port, driver.uiUrl ?? '');
      const s = startAllocation(rt, this.conf, `${driver.host}:${driver.port}`);
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

  setUiUrl(url: string): void {
    this.rt.am.updateTrackingUrl(url);
  }

  executorLost(): void {
    // the allocator sees the container complete and asks for a replacement
  }

  async stop(): Promise<void> {
    this.loop?.stop();
    await this.allocator?.stopAll();
  }
}

/**
 * Starts the executor allocator of a registered AM whose driver listens at `driverUrl`: asks for
 * cinder.executor.instances executors at once and keeps the target through the RM heartbeat loop.
 */
export function startAllocation(
  rt: Pick<AmRuntime, 'am' | 'appId' | 'executorResources' | 'onFatal'>,
  conf: Conf,
  driverUrl: string,
): { allocator: ExecutorAllocator; loop: { stop(): void; done: Promise<void> }; numExecutors: number } {
  const numExecutors = Number(conf['cinder.executor.instances'] ?? '2');
  const memoryMB = parseMb(strConf(conf, 'cinder.executor.memory')!, 'cinder.executor.memory');
  const allocator = new ExecutorAllocator({
    am: rt.am,
    appId: rt.appId,
    driverUrl,
    executorMemoryMB: memoryMB,
    executorCores: intConf(conf, 'cinder.executor.cores'),
    overheadMB: conf['cinder.executor.memoryOverhead']
      ? parseMb(conf['cinder.executor.memoryOverhead'], 'cinder.executor.memoryOverhead')
      : overheadFor(memoryMB),
    localResources: rt.executorResources,
    maxFailures: Number(conf['cinder.executor.maxNumFailures'] ?? Math.max(3, 2 * numExecutors)),
    heartbeatMs: intConf(conf, 'cinder.executor.heartbeatInterval'),
    extraEnv: executorEnv(conf),
    onExecutorExited: () => {},
    onFatal: (d, code) => rt.onFatal(d, code),
  });
  // asks first, so the loop's first allocate carries them
  allocator.setTarget(numExecutors);
  const loop = rt.am.heartbeatLoop({
    intervalMs: intConf(conf, 'cinder.am.heartbeatInterval'),
    onResponse: (r) => allocator.handle(r),
    onError: (e) => log.warn({ err: e.message }, 'AM heartbeat to the RM failed'),
  });
  loop.done.catch((e: Error) => rt.onFatal(`AM lost the ResourceManager: ${e.message}`, 12));
  return { allocator, loop, numExecutors };
}
