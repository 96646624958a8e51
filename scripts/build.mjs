// Transpiles src/, test/ and bench/ to build/ with esbuild (type-checking is `npm run check`).
// Kept to one fast pass so `npm test` and `npm ci` (prepare) stay quick; see docs/decisions/0001-build.md.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dirs = ['src', 'test', 'bench'];
const entryPoints = [];
function walk(dir) {
  if (!fs.existsSync(dir)) return;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'results' && e.name !== 'fixtures') walk(p);
    } else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) entryPoints.push(p);
  }
}
for (const d of dirs) walk(path.join(root, d));
await esbuild.build({
  entryPoints,
  outdir: path.join(root, 'build'),
  outbase: root,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  bundle: false,
  logLevel: 'warning',
});
// zod loads as one pre-bundled file instead of ~120 ESM modules (~40 ms instead of ~100 ms of every
// process start): src/common/zod.ts's output is replaced by the bundle (docs/decisions/0006-vendor-zod.md)
await esbuild.build({
  stdin: { contents: "export { z } from 'zod';", resolveDir: root, loader: 'js' },
  outfile: path.join(root, 'build', 'src', 'common', 'zod.js'),
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minifySyntax: true,
  legalComments: 'eof',
  logLevel: 'warning',
});
fs.rmSync(path.join(root, 'build', 'src', 'common', 'zod.js.map'), { force: true });
// the executor's two entry points (main thread, task thread) as one file each, zod inlined: an executor
// starts ~0.1 s sooner (docs/decisions/0007-executor-bundle.md); src/executor/entry.ts picks them up
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
await esbuild.build({
  entryPoints: {
    'main.bundle': path.join(root, 'src', 'executor', 'main.ts'),
    'worker.bundle': path.join(root, 'src', 'executor', 'worker.ts'),
  },
  outdir: path.join(root, 'build', 'src', 'executor'),
  bundle: true,
  splitting: true,
  chunkNames: 'bundle-chunks/[name]-[hash]',
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  external: Object.keys(pkg.dependencies).filter((d) => d !== 'zod'),
  logLevel: 'warning',
});
// drop outputs whose source is gone (renamed or deleted files must not keep running as tests)
function prune(dir, srcDir) {
  if (!fs.existsSync(dir)) return;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'fixtures' && e.name !== 'bundle-chunks') prune(p, path.join(srcDir, e.name));
    } else if (
      e.name.endsWith('.js') &&
      !e.name.endsWith('.bundle.js') &&
      !fs.existsSync(path.join(srcDir, e.name.replace(/\.js$/, '.ts')))
    ) {
      fs.rmSync(p, { force: true });
      fs.rmSync(`${p}.map`, { force: true });
    }
  }
}
for (const d of dirs) prune(path.join(root, 'build', d), path.join(root, d));
// test fixtures (plain files) are copied as-is
for (const d of dirs) {
  const fx = path.join(root, d, 'fixtures');
  if (fs.existsSync(fx)) fs.cpSync(fx, path.join(root, 'build', d, 'fixtures'), { recursive: true });
}
