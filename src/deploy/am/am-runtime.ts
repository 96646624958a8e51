/**
 * What an Application Master process knows about itself (set by application-master.ts before the
 * user's main runs in cluster mode), so the driver's context can get executors through this AM.
 */
import type { AmRmClient } from '../../cluster/appmaster/am-client.js';
import type { LocalResource } from '../../protocol/cluster.js';
import type { PreListener } from '../../rpc/index.js';
import type { ExecutorAllocator } from './executor-allocator.js';

export interface EarlyStart {
  listener: PreListener;
  allocator: ExecutorAllocator;
  loop: { stop(): void; done: Promise<void> };
  numExecutors: number;
}

export interface AmRuntime {
  am: AmRmClient;
  appId: string;
  secret: string;
  host: string;
  attempt: number;
  maxAttempts: number;
  executorResources: Record<string, LocalResource>;
  /**
   * Set when the AM registered and asked for executors before main ran (cluster mode): the driver's
   * port is already bound (`listener`) and executors are starting; the context's endpoint adopts the
   * listener and the backend only waits for them.
   */
  early?: EarlyStart | undefined;
  /** called by the backend when the context has registered the AM with the RM */
  onRegistered(): void;
  /** the cluster side wants the app to fail (e.g. too many executor failures) */
  onFatal(diagnostics: string, exitCode: number): void;
  /** the RM ended this attempt ('ended') or stayed unreachable past the retry window ('lost') */
  onRmGone(kind: 'ended' | 'lost', why: string): void;
}

let runtime: AmRuntime | undefined;

export function setAmRuntime(r: AmRuntime): void {
  runtime = r;
}

export function amRuntime(): AmRuntime | undefined {
  return runtime;
}
