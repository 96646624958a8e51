/**
 * Container sizing (src/deploy/container-sizing.ts): Spark on YARN's overhead rule, the *.memoryOverhead
 * settings, and the pre-flight check's messages for memory and vcores.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULTS } from '../../src/common/conf.js';
import { CinderError } from '../../src/common/errors.js';
import {
  checkFits,
  clientAmSize,
  clusterAmSize,
  executorSize,
  overheadFor,
  totalMB,
} from '../../src/deploy/container-sizing.js';

test('overhead is max(384 MiB, 10% of the heap) unless a memoryOverhead setting says otherwise', () => {
  assert.equal(overheadFor(512), 384);
  assert.equal(overheadFor(8192), 820);
  const conf = { ...DEFAULTS, 'cinder.executor.memory': '2g', 'cinder.executor.cores': '3' };
  assert.deepEqual(
    [executorSize(conf).heapMB, executorSize(conf).overheadMB, executorSize(conf).vcores],
    [2048, 384, 3],
  );
  assert.equal(totalMB(executorSize({ ...conf, 'cinder.executor.memoryOverhead': '100m' })), 2148);
  assert.equal(totalMB(clusterAmSize({ ...DEFAULTS, 'cinder.driver.memoryOverhead': '1g' })), 1024 + 1024);
  assert.equal(totalMB(clientAmSize(DEFAULTS)), 512 + 384);
  assert.throws(
    () => executorSize({ ...conf, 'cinder.executor.memoryOverhead': 'lots' }),
    /cinder.executor.memoryOverhead/,
  );
});

test('checkFits names the container, the setting to change and the cluster maximum', () => {
  const max = { memoryMB: 4096, vcores: 4 };
  checkFits([executorSize({ ...DEFAULTS, 'cinder.executor.memory': '3g' })], max);
  assert.throws(
    () => checkFits([executorSize({ ...DEFAULTS, 'cinder.executor.memory': '4g' })], max),
    (e: unknown) =>
      e instanceof CinderError &&
      e.code === 'RESOURCE_TOO_LARGE' &&
      /executor container needs 4506 MB \(cinder\.executor\.memory=4096 MB \+ overhead 410 MB\).*4096 MB/.test(
        e.message,
      ),
  );
  assert.throws(
    () => checkFits([clusterAmSize({ ...DEFAULTS, 'cinder.driver.cores': '8' })], max),
    (e: unknown) =>
      e instanceof CinderError && /AM\/driver container needs 8 vcores \(cinder\.driver\.cores\)/.test(e.message),
  );
});
