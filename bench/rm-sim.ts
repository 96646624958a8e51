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
// Steady state, as the RM runs it: every node heartbeats (a node-local scheduling pass, the NODE_UPDATE path),
// containers finish after a few seconds of simulated time and apps keep asking for more. Measures node
// heartbeats handled per second of scheduler CPU, containers allocated per second, and the latency from
// an ask to its allocation in simulated time (heartbeat interval 1 s, all nodes spread over it).
const live: { appId: string; nodeId: string; endsAt: number }[] = [];
for (const a of placed) live.push({ appId: a.appId, nodeId: a.nodeId, endsAt: Math.random() * 5000 });
const asked: number[][] = Array.from({ length: apps }, () => []);
const latencies: number[] = [];
/** scheduler time per node heartbeat (what an allocate waits for once capacity exists), ms */
const passMs: number[] = [];
let hb = 0;
let allocated = 0;
let cpuMs = 0;
const rounds = 3;
const appIds = Array.from({ length: apps }, (_, a) => `application_1_${String(a).padStart(4, '0')}`);
for (let round = 0; round < rounds; round++) {
  for (let i = 0; i < nodes; i++) {
    const now = round * 1000 + (i / nodes) * 1000; // simulated ms
    // containers that ended free their resources; their app asks for a replacement right away
    for (let j = live.length - 1; j >= 0; j--) {
      const c = live[j]!;
      if (c.endsAt > now) continue;
      s.charge(c.appId, c.nodeId, one, false, -1);
      live[j] = live[live.length - 1]!;
      live.pop();
      const a = appIds.indexOf(c.appId);
      s.addAsks(c.appId, [{ count: 1, resource: one }]);
      asked[a]!.push(now);
    }
    const t0 = performance.now();
    const got = s.schedule(`node-${i}:8041`);
    const dt = performance.now() - t0;
    cpuMs += dt;
    passMs.push(dt);
    hb++;
    for (const g of got) {
      allocated++;
      const a = appIds.indexOf(g.appId);
      const askedAt = asked[a]!.shift();
      if (askedAt !== undefined) latencies.push(now - askedAt);
      live.push({ appId: g.appId, nodeId: g.nodeId, endsAt: now + 2000 + Math.random() * 3000 });
    }
  }
}
latencies.sort((x, y) => x - y);
passMs.sort((x, y) => x - y);
const pct = (q: number, a = latencies) => a[Math.min(a.length - 1, Math.floor(q * a.length))] ?? 0;
console.log(`allocated=${placed.length + extra} expected=${expected}`);
console.log(
  `BENCH_METRICS ${JSON.stringify({
    nodes,
    containers: placed.length,
    firstPassMs: firstMs,
    containersPerSecond: placed.length / (firstMs / 1000),
    fullClusterPassMs: idleMs,
    heartbeatsPerSecond: hb / (cpuMs / 1000),
    steadyAllocationsPerSecond: allocated / (cpuMs / 1000),
    /** ask -> allocation in simulated time on a saturated cluster: waiting for capacity to free up */
    queueLatencyP50Ms: pct(0.5),
    queueLatencyP99Ms: pct(0.99),
    /** scheduler decision time per heartbeat */
    heartbeatPassP50Ms: pct(0.5, passMs),
    heartbeatPassP99Ms: pct(0.99, passMs),
    steadyAllocations: allocated,
  })}`,
);
