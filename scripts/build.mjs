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
// zod, pino and msgpackr load as one pre-bundled file each instead of their many ESM/CommonJS files:
// each src/common/<name>.ts re-exports the package, and its build output is replaced by the bundle
// (docs/decisions/0006-vendor-zod.md, 0010-vendor-pino-msgpackr.md). `require` is given to the bundle for
// the packages' own runtime requires (node built-ins, msgpackr's optional native string extractor, which
// stays external so it is found in node_modules next to the build).
// `require` for bundled CommonJS code and runtime requires, in the vendored packages and the executor bundles
const requireBanner = {
  js: "import { createRequire as __vendorCreateRequire } from 'node:module'; const require = __vendorCreateRequire(import.meta.url);",
};
const vendored = [
  // zod's classic schemas and coercions only, not its JSON-schema converters and 40 locales (English
  // registers itself with the first schema): ~250 KB instead of ~700 KB to parse in every process
  {
    file: 'zod',
    contents:
      "import * as schemas from './schemas.js'; import * as coerce from './coerce.js'; export const z = { ...schemas, coerce };",
    resolveDir: path.join(root, 'node_modules', 'zod', 'v4', 'classic'),
  },
  { file: 'pino', contents: "export { pino } from 'pino';" },
  { file: 'msgpackr', contents: "export { Packr, addExtension, isNativeAccelerationEnabled } from 'msgpackr';" },
];
for (const v of vendored) {
  const outfile = path.join(root, 'build', 'src', 'common', `${v.file}.js`);
  await esbuild.build({
    stdin: { contents: v.contents, resolveDir: v.resolveDir ?? root, loader: 'js' },
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    minifySyntax: true,
    legalComments: 'eof',
    external: ['msgpackr-extract'],
    banner: requireBanner,
    logLevel: 'warning',
  });
  fs.rmSync(`${outfile}.map`, { force: true });
}
// the vendored packages' trimmed entries (zod without its locales and JSON-schema converters) for the
// executor bundle too: it resolved 'zod' to the whole package, ~750 KB that every executor compiled at start
const vendoredEntries = {
  name: 'vendored-entries',
  setup(b) {
    const byName = new Map(vendored.filter((v) => v.resolveDir).map((v) => [v.file, v]));
    b.onResolve({ filter: /^(zod)$/ }, (args) =>
      byName.has(args.path) && args.importer.endsWith(path.join('src', 'common', `${args.path}.ts`))
        ? { path: args.path, namespace: 'vendored' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'vendored' }, (args) => {
      const v = byName.get(args.path);
      return { contents: v.contents, resolveDir: v.resolveDir, loader: 'js' };
    });
  },
};
// the executor's two entry points (main thread, task thread) as one file each, zod inlined: an executor
// starts ~0.1 s sooner (docs/decisions/0007-executor-bundle.md); src/executor/entry.ts picks them up
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
// chunk names carry content hashes: drop the last build's so stale chunks do not pile up
fs.rmSync(path.join(root, 'build', 'src', 'executor', 'bundle-chunks'), { recursive: true, force: true });
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
  // the vendored packages are inlined too (the same single-file reason); the others stay external
  external: [...Object.keys(pkg.dependencies).filter((d) => !vendored.some((v) => v.file === d)), 'msgpackr-extract'],
  banner: requireBanner,
  plugins: [vendoredEntries],
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
