/**
 * What an Application Master process knows about itself (set by application-master.ts before the
 * user's main runs in cluster mode), so the driver's context can get executors through this AM.
 */
import type { AmRmClient } from '../cluster/appmaster/am-client.js';
import type { LocalResource } from '../protocol/cluster.js';

export interface AmRuntime {
  am: AmRmClient;
  appId: string;
  secret: string;
  host: string;
  attempt: number;
  maxAttempts: number;
  executorResources: Record<string, LocalResource>;
  /** called by the backend when the context has registered the AM with the RM */
  onRegistered(): void;
  /** the cluster side wants the app to fail (e.g. too many executor failures) */
  onFatal(diagnostics: string, exitCode: number): void;
}

let runtime: AmRuntime | undefined;

export function setAmRuntime(r: AmRuntime): void {
  runtime = r;
}

export function amRuntime(): AmRuntime | undefined {
  return runtime;
}
