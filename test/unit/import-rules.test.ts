/**
 * The layering rule of the source tree (docs/architecture.md, "Layers"): the plan is the unit every
 * side shares, and nothing below the user API reaches back into it. Reads src/ as text, so a new file
 * that breaks the rule fails here whatever it does at run time.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../src');

/** folder -> folders it must not import from */
const FORBIDDEN: Record<string, string[]> = {
  plan: ['api', 'scheduler', 'executor', 'deploy', 'cluster', 'ui', 'cli'],
  executor: ['api', 'deploy', 'cli', 'ui'],
  shuffle: ['api', 'scheduler', 'deploy', 'cli'],
  storage: ['api', 'scheduler', 'deploy', 'cli'],
  io: ['api', 'scheduler', 'deploy', 'cli'],
  common: ['api', 'scheduler', 'executor', 'deploy', 'cluster', 'cli'],
  rpc: ['api', 'scheduler', 'executor', 'deploy', 'cluster', 'cli'],
  protocol: ['api', 'scheduler', 'executor', 'deploy', 'cluster', 'cli'],
  cluster: ['api'],
  scheduler: ['api', 'driver', 'deploy', 'cli'],
  driver: ['api', 'cli'],
  api: ['executor', 'cli'],
};

function files(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? files(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

/** Every module specifier a file imports, statically or with import(). */
function specifiers(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/\b(?:from|import)\s*\(?\s*['"]([^'"]+)['"]/g)) out.push(m[1] as string);
  return out;
}

test('no layer imports a layer above it (the plan unit is shared, api is on top)', () => {
  const broken: string[] = [];
  for (const file of files(SRC)) {
    const layer = path.relative(SRC, file).split(path.sep)[0] as string;
    const banned = FORBIDDEN[layer];
    if (!banned) continue;
    for (const spec of specifiers(fs.readFileSync(file, 'utf8'))) {
      if (!spec.startsWith('.')) continue;
      const target = path.relative(SRC, path.resolve(path.dirname(file), spec)).split(path.sep)[0] as string;
      if (banned.includes(target)) broken.push(`${path.relative(SRC, file)} imports ${spec}`);
    }
  }
  assert.deepEqual(broken, []);
});

test('the rule reads both static and dynamic imports', () => {
  assert.deepEqual(specifiers("import { a } from '../api/rdd.js';\nconst m = await import('../api/context.js');"), [
    '../api/rdd.js',
    '../api/context.js',
  ]);
});

test('no global service locator: engine code never reads or writes a __cinder global', () => {
  const hits = files(SRC).filter((f) =>
    /globalThis\s*(as[^)]*\))?\s*\)?\s*(\.|\[)\s*['"]?__cinder/.test(fs.readFileSync(f, 'utf8')),
  );
  assert.deepEqual(
    hits.map((f) => path.relative(SRC, f)),
    [],
  );
});
