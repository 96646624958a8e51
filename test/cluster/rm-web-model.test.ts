/**
 * YARN's scheduler shape for hierarchical queues, from the RM's real books (rmStep, no sockets):
 * parents nest `queues.queue[]` without a type, leaves are capacitySchedulerLeafQueueInfo, and the
 * absolute shares follow the configured percentages (expected values computed here from the config).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ResourceManager } from '../../src/cluster/resourcemanager/rm.js';
import { type YarnQueue, yarnScheduler } from '../../src/cluster/resourcemanager/web/model.js';
import { MB, RmHarness } from './rm-harness.js';

const queues = {
  'root.default': { capacity: 40 },
  'root.eng': { capacity: 60, maxCapacity: 80 },
  'root.eng.etl': { capacity: 50 },
  'root.eng.adhoc': { capacity: 50, maxCapacity: 50 },
};

test('hierarchical queues in YARN shape with usage and apps of each leaf and parent', () => {
  const h = new RmHarness({ queues });
  h.registerNode(1);
  h.registerNode(2);
  const running = h.submit({ queue: 'eng.etl' });
  h.heartbeat(1);
  h.amUp(running);
  const waiting = h.submit({ queue: 'eng.adhoc' });
  // the books through the RM's read-only views
  const rm = { scheduler: h.books.scheduler, state: h.books.state, containers: h.books.containers } as ResourceManager;
  const info = yarnScheduler(rm).scheduler.schedulerInfo;
  assert.equal(info.type, 'capacityScheduler');
  assert.equal(info.queueName, 'root');
  const byName = (qs: YarnQueue[], n: string) => qs.find((q) => q.queueName === n)!;
  const def = byName(info.queues.queue, 'default');
  const eng = byName(info.queues.queue, 'eng');
  assert.equal(def.type, 'capacitySchedulerLeafQueueInfo');
  assert.equal(eng.type, undefined, 'a parent has no leaf type');
  assert.deepEqual(eng.queues!.queue.map((q) => q.queueName).sort(), ['adhoc', 'etl']);
  const etl = byName(eng.queues!.queue, 'etl');
  const adhoc = byName(eng.queues!.queue, 'adhoc');
  assert.equal(etl.queuePath, 'root.eng.etl');
  // absolute shares: 60% x 50% = 30% guaranteed; max 80% x 100% = 80%; adhoc max 80% x 50% = 40%
  assert.equal(etl.absoluteCapacity, 30);
  assert.equal(etl.absoluteMaxCapacity, 80);
  assert.equal(adhoc.absoluteMaxCapacity, 40);
  assert.equal(eng.absoluteCapacity, 60);
  assert.equal(def.absoluteCapacity, 40);
  // the running app's AM (1 GB) in etl and the waiting app's AM container (1 GB, placed at submission,
  // not yet registered) in adhoc; eng holds both; 16 GB cluster
  assert.deepEqual(etl.resourcesUsed, { memory: 1 * MB, vCores: 1 });
  assert.deepEqual(adhoc.resourcesUsed, { memory: 1 * MB, vCores: 1 });
  assert.deepEqual(eng.resourcesUsed, { memory: 2 * MB, vCores: 2 });
  assert.equal(etl.absoluteUsedCapacity, 6.25);
  assert.equal(etl.usedCapacity, Math.round(((1 * MB * 100) / (0.3 * 16 * MB)) * 1000) / 1000);
  assert.equal(etl.numActiveApplications, 1);
  assert.equal(etl.numContainers, 1);
  assert.equal(adhoc.numPendingApplications, 1, `${waiting} waits for its AM`);
  assert.equal(eng.numApplications, 2);
  assert.deepEqual(def.resourcesUsed, { memory: 0, vCores: 0 });
});
