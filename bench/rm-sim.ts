/**
 * ResourceManager scheduler simulation: the CapacityScheduler of src/cluster/resourcemanager with
 * `nodes` simulated NodeManagers (8 GiB / 8 vcores each) and 100 apps whose AMs and 1 GiB asks fill
 * the cluster exactly. Measures the first scheduling pass (placing every container) and a pass on the
 * full cluster with asks still pending (the steady per-tick cost). No processes, no network: this is
 * the scheduler's bookkeeping alone.
 *   node build/bench/rm-sim.js <nodes>
 * Prints `allocated=N expected=N` and `BENCH_METRICS {json}`.
 *
 * Owns: the simulation. Must not: change the scheduler.
 */
import { CapacityScheduler } from '../src/cluster/resourcemanager/scheduler.js';

const nodes = Number(process.argv[2] ?? 1000);
const apps = 100;
const perNode = 8;
const s = new CapacityScheduler({
  minAllocationMB: 1024,
  maxAllocationMB: 8192,
  minAllocationVcores: 1,
  maxAllocationVcores: 4,
  queues: { 'root.default': { capacity: 100, maxCapacity: 100, maxAmPercent: 100, state: 'RUNNING' } },
} as ConstructorParameters<typeof CapacityScheduler>[0]);
for (let i = 0; i < nodes; i++)
  s.addNode({
    nodeId: `node-${i}:8041`,
    host: `node-${i}`,
    capacity: { memoryMB: perNode * 1024, vcores: perNode },
    used: { memoryMB: 0, vcores: 0 },
    labels: [],
    schedulable: true,
  });
const expected = nodes * perNode;
const per = Math.floor(expected / apps);
const one = { memoryMB: 1024, vcores: 1 };
for (let a = 0; a < apps; a++) {
  const id = `application_1_${String(a).padStart(4, '0')}`;
  s.addApp(id, 'root.default');
  s.requestAm(id, one, undefined);
  const count = (a < apps - 1 ? per : expected - per * (apps - 1)) - 1;
  if (count > 0) s.addAsks(id, [{ count, resource: one }]);
}
let t = performance.now();
const placed = s.schedule();
const firstMs = performance.now() - t;
// the cluster is full: one more app waits; time the passes that find no room
s.addApp('application_1_9999', 'root.default');
s.requestAm('application_1_9999', one, undefined);
t = performance.now();
const idlePasses = 5;
let extra = 0;
for (let i = 0; i < idlePasses; i++) extra += s.schedule().length;
const idleMs = (performance.now() - t) / idlePasses;
console.log(`allocated=${placed.length + extra} expected=${expected}`);
console.log(
  `BENCH_METRICS ${JSON.stringify({ nodes, containers: placed.length, firstPassMs: firstMs, containersPerSecond: placed.length / (firstMs / 1000), fullClusterPassMs: idleMs })}`,
);
