// Shared helpers for the end-to-end API tests: one local[2] context per test file, sorting helpers
// for results whose order PySpark leaves unspecified, and temp dirs removed after the file.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import type { Conf } from '../../src/common/conf.js';
import { CinderContext, compareKeys } from '../../src/index.js';

/** Starts one context for the test file (in before) and stops it (in after); returns a getter. */
export function sharedContext(conf: Conf = {}, master = 'local[2]'): () => CinderContext {
  let sc: CinderContext | undefined;
  before(async () => {
    sc = await CinderContext.getOrCreate({
      master,
      appName: 'api-test',
      conf: { 'cinder.ui.showConsoleProgress': 'false', ...conf },
    });
  });
  after(async () => {
    await sc?.stop();
  });
  return () => {
    if (!sc) throw new Error('context not started');
    return sc;
  };
}

/** Sorted copy using the engine's key order (numbers, strings, arrays element-wise). */
export function sorted<T>(xs: Iterable<T>): T[] {
  return [...xs].sort((a, b) => compareKeys(a, b));
}

const dirs: string[] = [];
/** A fresh temp dir, removed after the test file. */
export function tempDir(prefix: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `cinder-apitest-${prefix}-`));
  dirs.push(d);
  return d;
}
after(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
