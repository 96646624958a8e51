/** Executors start from the bundled entry points when the build made them (docs/decisions/0007-executor-bundle.md, 0030). */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { EXECUTOR_MAIN, workerModule } from '../../src/executor/entry.js';

test('the executor main is the code-cached bundle entry, and a bundled main starts bundled task threads', () => {
  assert.match(EXECUTOR_MAIN, /executor[\\/]main\.entry\.cjs$/);
  assert.ok(fs.existsSync(EXECUTOR_MAIN));
  // the bundle's import.meta.url is its own file: the task thread's entry is found next to it
  const bundle = path.join(path.dirname(EXECUTOR_MAIN), 'main.bundle.cjs');
  assert.ok(fs.existsSync(bundle));
  const fromBundle = workerModule(new URL(`file://${bundle}`).href);
  assert.equal(path.basename(fromBundle), 'worker.entry.cjs');
  assert.ok(fs.existsSync(fromBundle));
  assert.ok(fs.existsSync(path.join(path.dirname(EXECUTOR_MAIN), 'worker.bundle.cjs')));
  const plainMain = path.join(path.dirname(EXECUTOR_MAIN), 'main.js');
  assert.equal(path.basename(workerModule(new URL(`file://${plainMain}`).href)), 'worker.js');
  // the bundle loads user code's engine import from the same place as the per-file worker does
  const here = path.dirname(fileURLToPath(import.meta.url));
  assert.ok(fs.existsSync(path.resolve(here, '../../src/index.js')));
});
