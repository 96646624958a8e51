/**
 * Picks the executor backend for a cluster master: inside an Application Master (cluster deploy
 * mode) the driver gets executors from that AM; anywhere else (client deploy mode) it submits an AM.
 */
import type { ExecutorBackend } from '../../scheduler/backend.js';
import { amRuntime } from '../am/am-runtime.js';
import { ClientModeBackend, type ClientModeBackendOptions } from './client-mode-backend.js';
import { ClusterModeBackend } from './cluster-mode-backend.js';

export function createClusterBackend(o: ClientModeBackendOptions): ExecutorBackend {
  const rt = amRuntime();
  return rt ? new ClusterModeBackend(rt, o.conf) : new ClientModeBackend(o);
}
