/**
 * Executors on a Cinder cluster (client mode): the driver asks an Application Master, which asks
 * the ResourceManager for containers. Being built under issue 4.
 */
import type { Conf, Master } from '../common/conf.js';
import { CinderError } from '../common/errors.js';
import type { DriverAddress, ExecutorBackend } from '../scheduler/backend.js';

export class ClusterBackend implements ExecutorBackend {
  readonly targetCores = 2;
  constructor(readonly o: { master: Master; conf: Conf; appName: string; workDir: string }) {}
  async start(_driver: DriverAddress): Promise<void> {
    throw new CinderError(
      'UNSUPPORTED',
      'cluster masters are not supported yet in this build',
      'use a local[N] master',
    );
  }
  executorLost(): void {}
  async stop(): Promise<void> {}
}
