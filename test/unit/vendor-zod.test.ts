/**
 * zod loads as one pre-bundled file (docs/decisions/0006-vendor-zod.md): the engine must import it only
 * through src/common/zod.ts, and the bundle must behave like zod (parsing and its error messages).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { z } from '../../src/common/zod.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

test("no engine module imports 'zod' directly (only src/common/zod.ts)", () => {
  const offenders: string[] = [];
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.endsWith('.ts') && !p.endsWith(path.join('common', 'zod.ts'))) {
        if (/from\s+['"]zod(\/[^'"]*)?['"]/.test(fs.readFileSync(p, 'utf8'))) offenders.push(path.relative(repo, p));
      }
    }
  };
  walk(path.join(repo, 'src'));
  assert.deepEqual(offenders, []);
});

test('the bundled zod is a single module that parses and explains errors like zod', () => {
  const built = fs.readFileSync(path.join(repo, 'build', 'src', 'common', 'zod.js'), 'utf8');
  assert.doesNotMatch(built, /^import .* from ['"]zod/m, 'the build output is the bundle, not a re-export');
  const S = z.object({ port: z.number().int().min(1) });
  assert.deepEqual(S.parse({ port: 8 }), { port: 8 });
  const r = S.safeParse({ port: 'x' });
  assert.equal(r.success, false);
  assert.match(r.error!.issues[0]!.message, /expected number/i);
});
