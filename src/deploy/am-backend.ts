/**
 * Cluster deploy mode, driver side: the driver runs inside the AM process, so its executors come
 * straight from this AM's allocator (no AM<->driver channel). Registers the AM with the RM when the
 * context starts (with the driver's RPC port), then keeps the executor target.
 */
import { type Conf, intConf, parseMb, strConf } from '../common/conf.js';
import { CinderError } from '../common/errors.js';
import { logger } from '../common/log.js';
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
  async prepare(): Promise<{ appId: string; secret: string; driverHost: string }> {
    return { appId: this.rt.appId, secret: this.rt.secret, driverHost: this.rt.host };
  }

  async start(
    driver: DriverAddress,
    waitForRegistered: (n: number, timeoutMs: number) => Promise<void>,
  ): Promise<void> {
    const rt = this.rt;
    await rt.am.register(rt.host, driver.port, driver.uiUrl ?? '');
    rt.onRegistered();
    const memoryMB = parseMb(strConf(this.conf, 'cinder.executor.memory')!, 'cinder.executor.memory');
    this.allocator = new ExecutorAllocator({
      am: rt.am,
      appId: rt.appId,
      driverUrl: `${driver.host}:${driver.port}`,
      executorMemoryMB: memoryMB,
      executorCores: intConf(this.conf, 'cinder.executor.cores'),
      overheadMB: this.conf['cinder.executor.memoryOverhead']
        ? parseMb(this.conf['cinder.executor.memoryOverhead'], 'cinder.executor.memoryOverhead')
        : overheadFor(memoryMB),
      localResources: rt.executorResources,
      maxFailures: Number(this.conf['cinder.executor.maxNumFailures'] ?? Math.max(3, 2 * this.numExecutors)),
      heartbeatMs: intConf(this.conf, 'cinder.executor.heartbeatInterval'),
      extraEnv: executorEnv(this.conf),
      onExecutorExited: () => {},
      onFatal: (d, code) => rt.onFatal(d, code),
    });
    // asks first, so the loop's first allocate carries them
    this.allocator.setTarget(this.numExecutors);
    this.loop = rt.am.heartbeatLoop({
      intervalMs: intConf(this.conf, 'cinder.am.heartbeatInterval'),
      onResponse: (r) => this.allocator!.handle(r),
      onError: (e) => log.warn({ err: e.message }, 'AM heartbeat to the RM failed'),
    });
    this.loop.done.catch((e: Error) => rt.onFatal(`AM lost the ResourceManager: ${e.message}`, 12));
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
