import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { QueueConf } from '../../src/cluster/common/config.js';
import { CapacityScheduler } from '../../src/cluster/resourcemanager/scheduler.js';

const q = (capacity: number, maxCapacity = 100, maxAmPercent = 50): QueueConf => ({
  capacity,
  maxCapacity,
  maxAmPercent,
  state: 'RUNNING',
});
const limits = { minAllocationMB: 1024, maxAllocationMB: 8192, minAllocationVcores: 1, maxAllocationVcores: 4 };

function sched(queues: Record<string, QueueConf>, nodes = 2, mb = 8192) {
  const s = new CapacityScheduler({ ...limits, queues });
  for (let i = 0; i < nodes; i++)
    s.addNode({
      nodeId: `n${i}:1`,
      host: `n${i}`,
      capacity: { memoryMB: mb, vcores: 8 },
      used: { memoryMB: 0, vcores: 0 },
      labels: i === 0 ? ['gpu'] : [],
      schedulable: true,
    });
  return s;
}

test('sizes are rounded up to a multiple of the minimum allocation; above the maximum is refused naming the limit', () => {
  const s = sched({ 'root.default': q(100) });
  assert.deepEqual(s.normalize({ memoryMB: 1024 + 384, vcores: 1 }), { memoryMB: 2048, vcores: 1 });
  assert.deepEqual(s.normalize({ memoryMB: 1, vcores: 1 }), { memoryMB: 1024, vcores: 1 });
  assert.throws(
    () => s.normalize({ memoryMB: 10240, vcores: 1 }),
    /exceeds the maximum allocation of 8192 MB .*maxAllocationMB/,
  );
  assert.throws(() => s.normalize({ memoryMB: 1024, vcores: 5 }), /4 vcores/);
});

test('a request no node could ever hold, or a label no node has, is refused with the reason', () => {
  const s = sched({ 'root.default': q(100) }, 2, 4096);
  assert.throws(
    () => s.checkSatisfiable({ memoryMB: 6144, vcores: 1 }, undefined, 'AM container'),
    /larger than any node \(largest: 4096 MB/,
  );
  assert.throws(() => s.checkSatisfiable({ memoryMB: 1024, vcores: 1 }, 'fpga', 'ask'), /no node has label "fpga"/);
  s.checkSatisfiable({ memoryMB: 4096, vcores: 1 }, 'gpu', 'ask');
});

test('queues: unknown, parent and stopped queues are refused; hierarchical shares multiply', () => {
  const s = sched({
    'root.a': q(60),
    'root.a.x': q(50),
    'root.a.y': q(50),
    'root.b': q(40),
    'root.off': { ...q(0), state: 'STOPPED' },
  });
  assert.equal(s.leafQueue('a.x'), 'root.a.x');
  assert.equal(s.leafQueue('root.b'), 'root.b');
  assert.throws(() => s.leafQueue('nope'), /queue "nope" does not exist.*known queues: a\.x, a\.y, b, off/s);
  assert.throws(() => s.leafQueue('a'), /parent queue/);
  assert.throws(() => s.leafQueue('off'), /STOPPED/);
  assert.throws(() => new CapacityScheduler({ ...limits, queues: { 'root.a.x': q(10) } }), /has no parent root\.a/);
  assert.throws(() => new CapacityScheduler({ ...limits, queues: { default: q(10) } }), /full path under root/);
});

test('FIFO inside a queue, max share caps a queue, and AMs wait with a diagnostic when the AM share is used up', () => {
  // 16 GB cluster; queue a: max 50% = 8 GB, AMs up to 25% of that = 2 GB
  const s = sched({ 'root.a': q(50, 50, 25), 'root.b': q(50) });
  for (const id of ['app1', 'app2', 'app3']) {
    s.addApp(id, 'root.a');
    s.requestAm(id, { memoryMB: 1024, vcores: 1 }, undefined);
  }
  const first = s.schedule();
  assert.deepEqual(
    first.map((a) => a.appId),
    ['app1', 'app2'],
    'two 1 GB AMs fit the 2 GB AM share',
  );
  assert.match(s.waitReason('app3'), /queue a AM resource limit reached \(2048 MB of 2048 MB/);
  s.addAsks('app1', [{ count: 10, resource: { memoryMB: 1024, vcores: 1 } }]);
  s.addAsks('app2', [{ count: 2, resource: { memoryMB: 1024, vcores: 1 } }]);
  const second = s.schedule();
  assert.equal(second.length, 6, 'queue a stops at its 8 GB max share');
  assert.ok(
    second.every((a) => a.appId === 'app1'),
    'FIFO: the first app is served first',
  );
  // app1 ending (its AM and containers released) lets app3's AM in
  for (const a of [first[0]!, ...second]) s.charge('app1', a.nodeId, a.resource, a.isAm, -1);
  s.removeApp('app1');
  const third = s.schedule();
  assert.ok(third.some((a) => a.appId === 'app3' && a.isAm));
});

test('placement prefers asked hosts, then spreads to the emptiest node, and honours labels', () => {
  const s = sched({ 'root.default': q(100) });
  s.addApp('a', 'root.default');
  s.addAsks('a', [{ count: 1, resource: { memoryMB: 1024, vcores: 1 }, hosts: ['n1'] }]);
  assert.equal(s.schedule()[0]!.nodeId, 'n1:1');
  s.addAsks('a', [{ count: 1, resource: { memoryMB: 1024, vcores: 1 } }]);
  assert.equal(s.schedule()[0]!.nodeId, 'n0:1');
  s.addAsks('a', [{ count: 2, resource: { memoryMB: 1024, vcores: 1 }, label: 'gpu' }]);
  assert.deepEqual(
    s.schedule().map((x) => x.nodeId),
    ['n0:1', 'n0:1'],
  );
});
