/**
 * zod, pino and msgpackr load as one pre-bundled file each (docs/decisions/0006-vendor-zod.md,
 * 0010-vendor-pino-msgpackr.md): the engine must import them only through src/common/<name>.ts, and each
 * bundle must behave like its package.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isNativeAccelerationEnabled, Packr } from '../../src/common/msgpackr.js';
import { z } from '../../src/common/zod.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const VENDORED = ['zod', 'pino', 'msgpackr'];

test('no engine module imports a vendored package directly (only src/common/<name>.ts)', () => {
  const offenders: string[] = [];
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.endsWith('.ts'))
        for (const pkg of VENDORED) {
          if (p.endsWith(path.join('common', `${pkg}.ts`))) continue;
          if (new RegExp(`from\\s+['"]${pkg}(/[^'"]*)?['"]`).test(fs.readFileSync(p, 'utf8')))
            offenders.push(`${path.relative(repo, p)} imports ${pkg}`);
        }
    }
  };
  walk(path.join(repo, 'src'));
  assert.deepEqual(offenders, []);
});

test('each build output is the bundle, not a re-export of the package', () => {
  for (const pkg of VENDORED) {
    const built = fs.readFileSync(path.join(repo, 'build', 'src', 'common', `${pkg}.js`), 'utf8');
    assert.doesNotMatch(built, new RegExp(`^import .* from ['"]${pkg}`, 'm'), pkg);
  }
});

test("the executor bundle carries zod's trimmed entry, not its locales (decision 0017)", () => {
  const dir = path.join(repo, 'build', 'src', 'executor');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.bundle.cjs'));
  assert.deepEqual(files.sort(), ['main.bundle.cjs', 'worker.bundle.cjs']);
  const text = files.map((f) => fs.readFileSync(path.join(dir, f), 'utf8')).join('\n');
  // German is one of zod's 40 locales; the trimmed entry registers English only
  assert.match(fs.readFileSync(path.join(repo, 'node_modules', 'zod', 'v4', 'locales', 'de.js'), 'utf8'), /Ungültig/);
  // (the bundles are ASCII: esbuild writes the ü of a string as an escape)
  assert.doesNotMatch(text, /Ung(ü|\\xFC|\\u00FC)ltig/i);
  assert.match(text, /expected/); // zod's English messages are there
});

test('the executor bundles are ASCII, so they load as one-byte strings (decision 0032)', () => {
  const dir = path.join(repo, 'build', 'src', 'executor');
  for (const f of ['main.bundle.cjs', 'worker.bundle.cjs']) {
    const bytes = fs.readFileSync(path.join(dir, f));
    assert.equal(
      bytes.findIndex((b) => b > 0x7f),
      -1,
      `${f} has a non-ASCII byte`,
    );
  }
});

test('the bundled zod parses and explains errors like zod', () => {
  const S = z.object({ port: z.number().int().min(1), mode: z.enum(['a', 'b']), n: z.coerce.number() });
  assert.deepEqual(S.parse({ port: 8, mode: 'a', n: '3' }), { port: 8, mode: 'a', n: 3 });
  const r = S.safeParse({ port: 'x', mode: 'a', n: 1 });
  assert.equal(r.success, false);
  assert.match(r.error!.issues[0]!.message, /expected number/i);
});

test('the bundled msgpackr round-trips values and still loads its native string extractor', () => {
  const p = new Packr({ useRecords: false, moreTypes: true } as never);
  const v = { s: 'é'.repeat(300), n: [1, 2.5, -3], b: Buffer.from([1, 2, 3]), big: 2n ** 70n };
  const back = p.unpack(p.pack(v)) as typeof v;
  assert.equal(back.s, v.s);
  assert.deepEqual(back.n, v.n);
  assert.deepEqual(Buffer.from(back.b), v.b);
  // msgpackr-extract is an optional dependency: when npm installed it, the bundle must find it
  if (fs.existsSync(path.join(repo, 'node_modules', 'msgpackr-extract')))
    assert.equal(isNativeAccelerationEnabled, true);
});

test('the bundled pino writes JSON log lines with redaction', () => {
  const code = `import { logger } from ${JSON.stringify(path.join(repo, 'build', 'src', 'common', 'log.js'))};
logger('t', { executorId: '1' }).info({ secret: 's3cr3t', n: 1 }, 'hello');`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
    encoding: 'utf8',
    env: { ...process.env, CINDER_LOG_LEVEL: 'info' },
  });
  assert.equal(r.status, 0, r.stderr);
  const line = JSON.parse(r.stderr.trim().split('\n').pop()!) as Record<string, unknown>;
  assert.equal(line.msg, 'hello');
  assert.equal(line.component, 't');
  assert.equal(line.n, 1);
  assert.equal(line.secret, '*****');
  assert.doesNotMatch(r.stderr, /s3cr3t/);
});
