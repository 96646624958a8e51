// Transpiles src/, test/ and bench/ to build/ with esbuild (type-checking is `npm run check`).
// Kept to one fast pass so `npm test` and `npm ci` (prepare) stay quick; see docs/decisions/0001-build.md.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import { cachedBundleOptions } from './bundle-options.mjs';

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
// msgpackr's native string extractor, loaded straight from the file node-gyp-build picks here at build time
// (a path relative to the output, so a moved install still finds it) instead of by its search: that search
// (detect-libc's file reads, prebuild lookup) cost ~11 ms in every process and task thread that loads
// msgpackr, the file itself ~0.2 ms; another Node (ABI) or a moved node_modules falls back to the search
function nativeExtractor(outDir) {
  let rel;
  try {
    const req = createRequire(path.join(root, 'package.json'));
    const file = req('node-gyp-build-optional-packages').path(path.dirname(req.resolve('msgpackr-extract')));
    rel = path.relative(outDir, file).split(path.sep).join('/');
  } catch {}
  return {
    name: 'native-extractor',
    setup(b) {
      b.onResolve({ filter: /^msgpackr-extract$/ }, (args) =>
        args.namespace === 'native-extractor' || rel === undefined
          ? { path: args.path, external: true }
          : { path: 'msgpackr-extract', namespace: 'native-extractor' },
      );
      b.onLoad({ filter: /.*/, namespace: 'native-extractor' }, () => ({
        contents: `import { fileURLToPath } from 'node:url';
let m;
try {
  const mod = { exports: {} };
  process.dlopen(mod, fileURLToPath(new URL(${JSON.stringify(rel)}, import.meta.url)));
  m = mod.exports;
} catch {
  m = require('msgpackr-extract');
}
export const extractStrings = m.extractStrings;
export default m;`,
        resolveDir: root,
        loader: 'js',
      }));
    },
  };
}
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
    banner: requireBanner,
    plugins: [nativeExtractor(path.dirname(outfile))],
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
// pino for the executor bundles, loaded when the first logger is made (src/common/log.ts makes them on the
// first line logged at an enabled level): a task thread, and an executor at the warn level, then never
// evaluate pino's ~140 KB (its redaction compiler, sonic-boom, thread-stream). Only src/common/log.ts
// imports src/common/pino.ts, and only calls `pino(...)` and `pino.destination(...)`.
const lazyPino = {
  name: 'lazy-pino',
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/]common[\\/]pino\.ts$/ }, () => ({
      contents: `let m;
const load = () => (m ??= require('pino'));
export function pino(...args) { return load()(...args); }
pino.destination = (...args) => load().destination(...args);`,
      resolveDir: root,
      loader: 'js',
    }));
  },
};
// Each of our source files in a bundle keeps its own import.meta.url: the URL its per-file build output
// has, relative to the bundle's (a moved install keeps working), so paths computed from it (executor
// entries, the TS loader, UI assets, the engine root) are what they are unbundled. Replaced by esbuild
// (a define per file), so words in strings and comments stay as they are.
function ownMetaUrl(outDir) {
  return {
    name: 'own-import-meta-url',
    setup(b) {
      b.onLoad({ filter: /[\\/]src[\\/].*\.ts$/ }, async (args) => {
        const text = await fs.promises.readFile(args.path, 'utf8');
        if (!text.includes('import.meta.url')) return undefined;
        const out = path.join(root, 'build', path.relative(root, args.path)).replace(/\.ts$/, '.js');
        const rel = path.relative(outDir, out).split(path.sep).join('/');
        const r = await esbuild.transform(text, {
          loader: 'ts',
          format: 'esm',
          target: 'node20',
          sourcefile: args.path,
          sourcemap: 'inline',
          define: { 'import.meta.url': '__cinderOwnUrl' },
        });
        // on the first line, so the inline source map's lines stay right
        const own = `const __cinderOwnUrl = new URL(${JSON.stringify(rel)}, __cinderBundleUrl).href; `;
        return { contents: own + r.code, loader: 'js', resolveDir: path.dirname(args.path) };
      });
    },
  };
}
// The small entry that runs <name>.bundle.cjs from a V8 code cache (src/executor/code-cache.ts, decision
// 0030), keyed by the bundle's content hash (V8 itself checks only the source's length), computed here once
// instead of at every start. `first`: what the entry runs before anything else.
async function writeCachedEntry(dir, name, first = '') {
  const hash = crypto
    .createHash('sha256')
    .update(fs.readFileSync(path.join(dir, `${name}.bundle.cjs`)))
    .digest('hex')
    .slice(0, 20);
  await esbuild.build({
    stdin: {
      contents: `${first}require('./code-cache.ts').runCachedBundle(require('node:path').join(__dirname, '${name}.bundle.cjs'), '${hash}');`,
      resolveDir: path.join(root, 'src', 'executor'),
      loader: 'ts',
    },
    outfile: path.join(dir, `${name}.entry.cjs`),
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    logLevel: 'warning',
  });
}
// the executor's two entry points (main thread, task thread) as one CommonJS file each, zod inlined: an
// executor starts ~0.1 s sooner (docs/decisions/0007-executor-bundle.md), and a small entry per bundle runs it
// with a V8 code cache (src/executor/code-cache.ts, decision 0030); src/executor/entry.ts picks them up
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const executorDir = path.join(root, 'build', 'src', 'executor');
// the ESM bundles of earlier builds (and their chunks) are not used any more; the code caches made from the
// last build's bundles cannot be used with the new ones (their runs make new ones)
fs.rmSync(path.join(executorDir, 'code-cache'), { recursive: true, force: true });
fs.rmSync(path.join(executorDir, 'bundle-chunks'), { recursive: true, force: true });
for (const f of ['main.bundle.js', 'main.bundle.js.map', 'worker.bundle.js', 'worker.bundle.js.map'])
  fs.rmSync(path.join(executorDir, f), { force: true });
await esbuild.build({
  ...cachedBundleOptions,
  entryPoints: {
    'main.bundle': path.join(root, 'src', 'executor', 'main.ts'),
    'worker.bundle': path.join(root, 'src', 'executor', 'worker.ts'),
  },
  outdir: executorDir,
  // the vendored packages are inlined too (the same single-file reason); the others stay external
  external: Object.keys(pkg.dependencies).filter((d) => !vendored.some((v) => v.file === d)),
  plugins: [vendoredEntries, lazyPino, nativeExtractor(executorDir)],
});
for (const name of ['main', 'worker']) {
  // ASCII only (esbuild escapes strings and identifiers, not comments: one dash in a zod comment made the
  // whole text a two-byte string): the entry reads it as Latin-1, ~4x faster than UTF-8 (code-cache.ts).
  // Escaping is exact in strings, regexes and identifiers, harmless in comments.
  const bundleFile = path.join(executorDir, `${name}.bundle.cjs`);
  const text = fs.readFileSync(bundleFile, 'utf8');
  const ascii = text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (ascii !== text) fs.writeFileSync(bundleFile, ascii);
  // first, before anything is loaded: the process puts its command line's heap-size flags back to their
  // defaults, a task thread its young-generation flag, so Node's built-ins and the bundle compile from
  // their code caches under default flags (src/executor/v8-flags.ts); `require`, not `import`, keeps
  // this ahead of code-cache.ts's own built-ins
  await writeCachedEntry(
    executorDir,
    name,
    `require('./v8-flags.ts').${name === 'main' ? 'resetHeapSizeFlags' : 'threadBooted'}(); `,
  );
}
// The Application Master (src/deploy/am/application-master.ts) as one CommonJS bundle run from a V8 code
// cache, like the executor's (docs/decisions/0033-cluster-start.md): the AM loads ~45 modules before it can
// register, on the path from submit to the first task. Only its own code is bundled: the engine that user
// code imports (and the modules the AM shares state with: am-runtime, keep-alive) are imported at run time
// as the per-file modules next to it. Each file's import.meta.url stays its per-file output's URL, so paths
// computed from it (the executor's entry) are the same as unbundled.
const amDir = path.join(root, 'build', 'src', 'deploy', 'am');
fs.rmSync(path.join(amDir, 'code-cache'), { recursive: true, force: true });
await esbuild.build({
  ...cachedBundleOptions,
  entryPoints: { 'application-master.bundle': path.join(root, 'src', 'deploy', 'am', 'application-master.ts') },
  outdir: amDir,
  external: Object.keys(pkg.dependencies).filter((d) => !vendored.some((v) => v.file === d)),
  plugins: [vendoredEntries, nativeExtractor(amDir), ownMetaUrl(amDir)],
});
await writeCachedEntry(amDir, 'application-master');
// drop outputs whose source is gone (renamed or deleted files must not keep running as tests)
function prune(dir, srcDir) {
  if (!fs.existsSync(dir)) return;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'fixtures' && e.name !== 'code-cache') prune(p, path.join(srcDir, e.name));
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

// `cinder submit` as one CommonJS bundle (docs/decisions/0035-cli-bundle.md): the CLI, the driver and the
// engine in cli.bundle.cjs, run by cli.entry.cjs from a V8 code cache (src/executor/code-cache.ts), as the
// executor's bundles are. Every file keeps its own import.meta.url (the path of its per-file build output),
// so paths computed from it (executor entries, the TS loader, UI assets, the engine root) stay what they
// are in the per-file build. Packages with native or optional parts stay external (loaded with require).
const cliDir = path.join(root, 'build', 'src', 'cli');
fs.rmSync(path.join(cliDir, 'code-cache'), { recursive: true, force: true });
const cliExternal = ['esbuild', 'fastify', 'undici', 'prom-client', '@dagrejs/dagre', 'playwright-core', 'typescript'];
await esbuild.build({
  ...cachedBundleOptions,
  entryPoints: { 'cli.bundle': path.join(root, 'src', 'cli', 'bundle-main.ts') },
  outdir: cliDir,
  external: cliExternal,
  plugins: [vendoredEntries, nativeExtractor(cliDir), ownMetaUrl(cliDir)],
});
{
  // a script run from a V8 code cache has no import() on Node 20: only required packages may stay external
  const text = fs.readFileSync(path.join(cliDir, 'cli.bundle.cjs'), 'utf8');
  const dynamic = [...text.matchAll(/\bimport\("([^"]+)"\)/g)].map((m) => m[1]);
  if (dynamic.length > 0)
    throw new Error(
      `cli.bundle.cjs keeps import() of ${dynamic.join(', ')}: require them (or go through importModule)`,
    );
  await writeCachedEntry(cliDir, 'cli');
  // the module an app's `import 'cinder'` resolves to under the bundle: the bundle's own engine, by name
  const engineExports = Object.keys(await import(pathToFileURL(path.join(root, 'build', 'src', 'index.js')).href));
  fs.writeFileSync(
    path.join(cliDir, 'engine-facade.js'),
    `// Generated by scripts/build.mjs (decision 0035): the engine of the CLI bundle that runs this app.
const engine = globalThis[Symbol.for('cinder.bundledEngine')];
if (!engine) throw new Error('build/src/cli/engine-facade.js is for apps run by the cinder CLI bundle; import "cinder" instead');
export const { ${engineExports.join(', ')} } = engine;
`,
  );
}
