/**
 * Engine closures in a bundle (decision 0035): esbuild renames a local that shares its name with a
 * top-level symbol of another module of the bundle (`num` -> `num2`), free variables of the engine's own
 * shipped closures included, while their capture objects keep the written names. Capture must still ship
 * them under the names the function uses; a user's function (not the bundle's text) gets no such help.
 * Builds a small CommonJS bundle of the real capture code with the options the build gives its bundles.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

test('a captured variable the bundler renamed ships under its new name; a user function gets the usual error', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-bundle-renames-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  // another module with a top-level `num`: the engine-like closure's `num` is renamed in the bundle
  fs.writeFileSync(path.join(dir, 'other.ts'), "export const num = (n: number): string => '#' + n;\n");
  fs.writeFileSync(
    path.join(dir, 'entry.ts'),
    `import { captureFn } from ${JSON.stringify(path.join(ROOT, 'src', 'api', 'closure.ts'))};
import { num as label } from './other.ts';
function engineTop(num: number) {
  return captureFn((xs: number[]) => xs.slice(0, num), { num }, 'top');
}
const ref = engineTop(3);
// a user's function (its text is not in the bundle) that forgot to capture num2
const userFn = new Function('return (ys) => ys.slice(0, ' + ['num', 2].join('') + ')')();
let userError = '';
try { captureFn(userFn, { num: 3 }, 'map(f)'); } catch (e) { userError = (e as Error).message; }
console.log(JSON.stringify({ src: ref.src, caps: ref.caps, userError, label: label(1) }));
`,
  );
  const out = path.join(dir, 'bundle.cjs');
  // the build's own options for its code-cached bundles (scripts/bundle-options.mjs)
  const { cachedBundleOptions } = await import(pathToFileURL(path.join(ROOT, 'scripts', 'bundle-options.mjs')).href);
  await esbuild.build({
    ...cachedBundleOptions,
    entryPoints: [path.join(dir, 'entry.ts')],
    outfile: out,
    packages: 'external',
    logLevel: 'error',
  });
  const text = fs.readFileSync(out, 'utf8');
  assert.match(text, /xs\.slice\(0, num2\)/, "the fixture makes esbuild rename the closure's variable");
  const r = JSON.parse(
    execFileSync(process.execPath, [out], {
      encoding: 'utf8',
      env: { ...process.env, NODE_PATH: path.join(ROOT, 'node_modules') },
    }).trim(),
  );
  assert.match(r.src, /num2/);
  assert.deepEqual(Object.keys(r.caps), ['num2']);
  assert.deepEqual(r.caps.num2, { t: 'v', v: 3 });
  assert.match(r.userError, /uses 'num2', which is defined outside it and was not captured/);
  assert.equal(r.label, '#1');
});
