/**
 * Picks the executor backend for a cluster master: inside an Application Master (cluster deploy
 * mode) the driver gets executors from that AM; anywhere else (client deploy mode) it submits an AM.
 */
import type { ExecutorBackend } from '../scheduler/backend.js';
import { AmBackend } from './am-backend.js';
import { amRuntime } from './am-runtime.js';
import { ClusterBackend, type ClusterBackendOptions } from './cluster-backend.js';

export function createClusterBackend(o: ClusterBackendOptions): ExecutorBackend {
  const rt = amRuntime();
  return rt ? new AmBackend(rt, o.conf) : new ClusterBackend(o);
}
