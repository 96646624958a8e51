/**
 * The RM's Prometheus metrics (prom-client, a registry of its own): apps by state, containers
 * allocated and pending, memory and vcores used/available/pending, nodes by state, per-queue usage
 * (all read from the same clusterMetrics/scheduler reports REST answers with, at scrape time), RPC
 * requests and errors by message type (counted by server.ts), and the process's default metrics.
 * Served at GET /metrics to a user token or the metrics token. Names: docs/metrics.md.
 */
import type { FastifyInstance } from 'fastify';
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { ResourceManager } from '../rm.js';
import { type YarnQueue, yarnMetrics, yarnScheduler } from './model.js';

export interface RmMetrics {
  registry: Registry;
  /** counts one RPC request of a message type, and whether it failed */
  rpc(type: string, failed: boolean): void;
}

const APP_STATES = ['NEW', 'SUBMITTED', 'ACCEPTED', 'RUNNING', 'FINISHED', 'FAILED', 'KILLED'];
const NODE_STATES = ['NEW', 'RUNNING', 'LOST', 'SHUTDOWN'];

export function createRmMetrics(rm: ResourceManager): RmMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'cinder_rm_' });
  const g = (name: string, help: string, collect: (this: Gauge) => void, labelNames: string[] = []) =>
    new Gauge({ name, help, labelNames, registers: [registry], collect });
  g(
    'cinder_rm_apps',
    'applications the RM knows, by state',
    function () {
      const by = new Map<string, number>(APP_STATES.map((s) => [s, 0]));
      for (const a of Object.values(rm.state.apps)) by.set(a.state, (by.get(a.state) ?? 0) + 1);
      for (const [state, n] of by) this.set({ state }, n);
    },
    ['state'],
  );
  g(
    'cinder_rm_nodes',
    'NodeManagers, by state',
    function () {
      const by = new Map<string, number>(NODE_STATES.map((s) => [s, 0]));
      for (const n of rm.nodes.values()) by.set(n.state, (by.get(n.state) ?? 0) + 1);
      for (const [state, n] of by) this.set({ state }, n);
    },
    ['state'],
  );
  const m = () => yarnMetrics(rm).clusterMetrics;
  const simple: [string, string, (x: ReturnType<typeof m>) => number][] = [
    [
      'cinder_rm_containers_allocated',
      'live containers (allocated, acquired or running)',
      (x) => x.containersAllocated,
    ],
    [
      'cinder_rm_containers_pending',
      'containers asked for and not yet allocated (AMs included)',
      (x) => x.containersPending,
    ],
    ['cinder_rm_memory_used_mb', 'memory allocated to containers on running nodes, MB', (x) => x.allocatedMB],
    ['cinder_rm_memory_available_mb', 'memory free on running nodes, MB', (x) => x.availableMB],
    ['cinder_rm_memory_pending_mb', 'memory of pending container asks, MB', (x) => x.pendingMB],
    ['cinder_rm_memory_total_mb', 'memory of running nodes, MB', (x) => x.totalMB],
    ['cinder_rm_vcores_used', 'vcores allocated to containers on running nodes', (x) => x.allocatedVirtualCores],
    ['cinder_rm_vcores_available', 'vcores free on running nodes', (x) => x.availableVirtualCores],
    ['cinder_rm_vcores_pending', 'vcores of pending container asks', (x) => x.pendingVirtualCores],
    ['cinder_rm_vcores_total', 'vcores of running nodes', (x) => x.totalVirtualCores],
  ];
  for (const [name, help, f] of simple)
    g(name, help, function () {
      this.set(f(m()));
    });
  const leaves = (qs: YarnQueue[]): YarnQueue[] => qs.flatMap((q) => (q.queues ? leaves(q.queues.queue) : [q]));
  g(
    'cinder_rm_queue_memory_used_mb',
    'memory used by the apps of a leaf queue, MB',
    function () {
      for (const q of leaves(yarnScheduler(rm).scheduler.schedulerInfo.queues.queue))
        this.set({ queue: q.queuePath }, q.resourcesUsed.memory);
    },
    ['queue'],
  );
  g(
    'cinder_rm_queue_apps',
    'running and pending (accepted, not yet running) apps of a leaf queue',
    function () {
      for (const q of leaves(yarnScheduler(rm).scheduler.schedulerInfo.queues.queue)) {
        this.set({ queue: q.queuePath, state: 'running' }, q.numActiveApplications ?? 0);
        this.set({ queue: q.queuePath, state: 'pending' }, q.numPendingApplications ?? 0);
      }
    },
    ['queue', 'state'],
  );
  const requests = new Counter({
    name: 'cinder_rm_rpc_requests_total',
    help: 'RPC requests the RM handled, by message type',
    labelNames: ['type'],
    registers: [registry],
  });
  const errors = new Counter({
    name: 'cinder_rm_rpc_errors_total',
    help: 'RPC requests the RM refused or failed, by message type',
    labelNames: ['type'],
    registers: [registry],
  });
  return {
    registry,
    rpc(type, failed) {
      requests.inc({ type });
      if (failed) errors.inc({ type });
    },
  };
}

export function registerMetrics(app: FastifyInstance, metrics: RmMetrics): void {
  app.get('/metrics', async (_req, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );
}
