// Worker-thread body for test/closure/ship.test.ts: plays an executor that only has the shipped refs,
// the bundles the driver serves and the engine's own public module; nothing from the driver's scope.
import { parentPort, workerData } from 'node:worker_threads';
import { decode } from '../../src/common/serde.js';
import { compileFn, type FnEnv, prepareFns } from '../../src/executor/fn-loader.js';
import type { FnRef } from '../../src/plan/fn-ref.js';

interface Job {
  refs: Uint8Array;
  bundles: Record<string, string>;
  codeDir: string;
  inputs: unknown[][];
}

const job = workerData as Job;
const env: FnEnv = {
  fetchFile: async (name) => {
    const code = job.bundles[name.replace(/^code\//, '').replace(/\.mjs$/, '')];
    if (code === undefined) throw new Error(`driver has no file ${name}`);
    return Buffer.from(code);
  },
  codeDir: job.codeDir,
  broadcast: () => undefined,
  accumulator: () => undefined,
};
try {
  const refs = decode<FnRef[]>(job.refs);
  await prepareFns(refs, env);
  const out = refs.map((r, i) => {
    const f = compileFn<(x: unknown) => unknown>(r, env);
    return (job.inputs[i] ?? []).map((x) => f(x));
  });
  parentPort!.postMessage({ ok: out });
} catch (e) {
  parentPort!.postMessage({ err: { message: (e as Error).message, stack: (e as Error).stack } });
}
