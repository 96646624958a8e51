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
// drop outputs whose source is gone (renamed or deleted files must not keep running as tests)
function prune(dir, srcDir) {
  if (!fs.existsSync(dir)) return;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'fixtures') prune(p, path.join(srcDir, e.name));
    } else if (e.name.endsWith('.js') && !fs.existsSync(path.join(srcDir, e.name.replace(/\.js$/, '.ts')))) {
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
