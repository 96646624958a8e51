/**
 * How a driver gets executors. Local mode spawns executor processes on this machine
 * (src/scheduler/local-backend.ts); on a cluster the Application Master asks the ResourceManager
 * for containers (src/deploy). Either way executors dial the driver endpoint, so the scheduler
 * and executor code are the same in every mode.
 */
import type { PreListener } from '../rpc/index.js';

export interface DriverAddress {
  host: string;
  port: number;
  appId: string;
  secret: string;
  /** the driver's status UI (the application's tracking address), when enabled */
  uiUrl?: string | undefined;
}

export interface ExecutorBackend {
  /**
   * Optional first step, before the driver endpoint starts: a cluster backend obtains the
   * application's id and secret from the cluster manager here.
   */
  prepare?(): Promise<{ appId: string; secret: string; driverHost?: string; listener?: PreListener | undefined }>;
  /** Starts getting executors; resolves when at least one has registered (or throws why not). */
  start(driver: DriverAddress, waitForRegistered: (n: number, timeoutMs: number) => Promise<void>): Promise<void>;
  /** Called when a registered executor disconnects or times out. */
  executorLost(executorId: string, reason: string): void;
  /**
   * Client mode: copies the driver's event log to the AM, which writes it into its container's log dir,
   * so it reaches the RM's store with the app's logs (`final` closes it).
   */
  mirrorEventLog?(data: string, final: boolean): void;
  /** Client mode: set by the context; called when an AM attempt registers (for the deploy topology). */
  onAmRegistered?: ((am: { host: string; attemptId: string }) => void) | undefined;
  /** Total task slots this backend aims for (defaultParallelism). */
  readonly targetCores: number;
  /** Releases executors; `outcome` tells a cluster backend how the application ended. */
  stop(outcome?: { succeeded: boolean; diagnostics: string }): Promise<void>;
}
