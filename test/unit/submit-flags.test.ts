/**
 * `cinder submit`'s option table and the early read of `--driver-memory` that lets bin/cinder.js restart
 * with the driver heap before the CLI loads (src/cli/submit-flags.ts): command lines as users type them.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { earlyDriverHeapMb, scanSubmitOptions } from '../../src/cli/submit-flags.js';

const noDefaults = { CINDER_CONF_DIR: path.join(os.tmpdir(), 'cinder-no-such-conf-dir') };
const early = (line: string, env: NodeJS.ProcessEnv = noDefaults) => earlyDriverHeapMb(line.split(' '), env);

test('options before the app are read as commander reads them; the app and its own arguments are not', () => {
  const o = scanSubmitOptions(
    '--master local[2] --conf a=1 --conf=b=2 --verbose --driver-memory=2g app.ts --driver-memory 9g'.split(' '),
  );
  assert.deepEqual(o?.get('--master'), ['local[2]']);
  assert.deepEqual(o?.get('--conf'), ['a=1', 'b=2']);
  assert.deepEqual(o?.get('--verbose'), ['']);
  assert.deepEqual(o?.get('--driver-memory'), ['2g'], 'the app argument after app.ts is the app’s');
  assert.equal(scanSubmitOptions(['--help', 'app.ts']), undefined, 'an option it does not know');
  assert.equal(scanSubmitOptions(['--master']), undefined, 'a missing value');
  assert.equal(scanSubmitOptions(['--verbose=yes', 'app.ts']), undefined, 'a value on a flag');
  assert.equal(scanSubmitOptions(['--master', 'local']), undefined, 'no app');
});

test('--driver-memory in local or client mode gives the heap to restart with', () => {
  assert.equal(early('--master local[2] --driver-memory 1g app.ts'), 1024);
  assert.equal(early('--driver-memory=512m app.ts a b'), 512);
  assert.equal(early('--driver-memory 1g --driver-memory 300 app.ts'), 300, 'the last one wins');
  assert.equal(early('--master cinder://h:1 --deploy-mode client --driver-memory 2g app.ts'), 2048);
  assert.equal(early('--master local[1] app.ts --driver-memory 1g'), undefined, 'an app argument');
});

test('anything the CLI must decide itself leaves the early read out', (t) => {
  for (const line of [
    '--deploy-mode cluster --master cinder://h:1 --driver-memory 1g app.ts',
    '--conf cinder.submit.deployMode=cluster --driver-memory 1g app.ts',
    '--properties-file my.conf --driver-memory 1g app.ts',
    '--status application_1_0001 --driver-memory 1g app.ts',
    '--driver-memory lots app.ts',
    '--driver-memory 0 app.ts',
    '--conf cinder.driver.memory=1g app.ts',
    '-h --driver-memory 1g app.ts',
  ])
    assert.equal(early(line), undefined, line);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-conf-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'cinder-defaults.conf'), 'cinder.submit.deployMode cluster\n');
  assert.equal(early('--driver-memory 1g app.ts', { CINDER_CONF_DIR: dir }), undefined, 'a defaults file');
});
