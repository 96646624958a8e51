/**
 * Registered classes as a user's app has them: a class defined and registered in another module of the
 * app (test/fixtures/apps/lib/money.ts), whose instances go through a shuffle with methods called on the
 * executors, by functions that never name the class, and come back to the driver as instances. In local,
 * client and cluster mode (the driver in the AM, running the app bundled for the cluster).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { FAST } from './outcome-harness.js';
import { APPS, deployCluster, submit } from './submit-harness.js';

const APP = path.join(APPS, 'class-records.ts');
const EXPECTED = 'EUR 11.50 EUR true\nUSD 2.55 USD true\n';

describe('a class registered in a module of the app', { timeout: 180_000 }, () => {
  const fx = deployCluster('classes');

  for (const mode of ['local', 'client', 'cluster'] as const)
    test(`${mode} mode: its records keep their class on the executors and back on the driver`, async () => {
      const out = path.join(fx.tmp, `${mode}.txt`);
      const master =
        mode === 'local'
          ? ['--master', 'local[2]']
          : ['--master', fx.mc.master, ...(mode === 'cluster' ? ['--deploy-mode', 'cluster'] : [])];
      const r = await submit([...master, ...FAST, APP, out], fx.env).done;
      assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
      assert.equal(fs.readFileSync(out, 'utf8'), EXPECTED);
    });
});
