// Emits the package's type declarations (build/types, `exports.types` in package.json) with tsc, so an
// application's type check reads built .d.ts files and its own tsconfig flags never apply to Cinder's
// source. Run by `npm run build:types` and `prepare` (not by scripts/build.mjs: it takes ~10 s).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
let tsc;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  console.error('build-types: typescript is not installed (a devDependency); declarations not built');
  process.exit(0);
}
fs.rmSync(path.join(root, 'build', 'types'), { recursive: true, force: true });
const r = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.types.json')], { stdio: 'inherit' });
process.exit(r.status ?? 1);
