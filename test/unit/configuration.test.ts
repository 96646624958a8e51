// The configuration key registry: every key the engine reads is in it, docs/configuration.md is generated
// from it and up to date, and `cinder submit` refuses a misspelled key (naming the closest one) or a
// value of the wrong type before anything starts.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { configurationMarkdown } from '../../src/common/conf-docs.js';
import { CONF_KEYS, CONF_PREFIXES, ConfKeySchema, checkConf, confDefaults } from '../../src/common/conf-keys.js';
import { CINDER, ROOT } from '../harness/mini-cluster.js';

const run = promisify(execFile);

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

test('every cinder.* key the engine reads is in the registry', () => {
  const known = new Set(CONF_KEYS.map((k) => k.key));
  // keys that are not configuration: job properties (Symbol.for names are skipped by the pattern)
  const notConf = new Set(['cinder.jobGroup.id', 'cinder.job.description']);
  const missing = new Set<string>();
  for (const f of sourceFiles(path.join(ROOT, 'src')))
    for (const m of fs
      .readFileSync(f, 'utf8')
      .matchAll(/(?<!Symbol\.for\()['"`](cinder\.[a-zA-Z0-9.]+[a-zA-Z0-9])['"`]/g)) {
      const k = m[1]!;
      if (!known.has(k) && !notConf.has(k) && !CONF_PREFIXES.some((p) => k.startsWith(p.prefix)))
        missing.add(`${k} (${path.relative(ROOT, f)})`);
    }
  assert.deepEqual([...missing], [], 'add these keys to src/common/conf-keys.ts');
  assert.equal(new Set(CONF_KEYS.map((k) => k.key)).size, CONF_KEYS.length, 'no key twice');
});

test('every registry entry is well formed and every default is a valid value of its own key', () => {
  for (const k of CONF_KEYS) {
    const r = ConfKeySchema.safeParse(k);
    assert.ok(r.success, `${k.key}: ${r.success ? '' : r.error.message}`);
  }
  assert.doesNotThrow(() => checkConf(confDefaults(), 'defaults', { unknown: 'error' }));
  assert.throws(() => checkConf({ 'cinder.ui.enabled': 'yes' }, 'x', { unknown: 'error' }), /is not true or false/);
  assert.throws(
    () => checkConf({ 'cinder.submit.deployMode': 'remote' }, 'x', { unknown: 'error' }),
    /is not one of client, cluster/,
  );
  const warned: string[] = [];
  checkConf({ 'cinder.ui.prot': '1', 'my.own': 'x' }, 'code', { unknown: 'warn', warn: (m) => warned.push(m) });
  assert.deepEqual(warned.length, 1);
  assert.match(warned[0]!, /unknown configuration key 'cinder.ui.prot'; did you mean 'cinder.ui.port'\?/);
});

test('docs/configuration.md is generated from the registry and up to date', () => {
  const doc = fs.readFileSync(path.join(ROOT, 'docs', 'configuration.md'), 'utf8');
  assert.equal(doc, configurationMarkdown(), 'run `node scripts/build.mjs && node scripts/gen-config-docs.mjs`');
  for (const k of ['cinder.executor.memory', 'cinder.task.maxFailures', 'cinder.executorEnv.NAME'])
    assert.ok(doc.includes(`\`${k}\``), k);
});

test('cinder submit refuses a misspelled key naming the closest known one, warns about keys unlike any, refuses a badly typed value', async () => {
  const app = path.join(ROOT, 'test', 'fixtures', 'apps', 'wc.ts');
  const submit = (conf: string) =>
    run(process.execPath, [CINDER, 'submit', '--master', 'local[1]', '--conf', conf, app], { timeout: 30_000 }).then(
      () => assert.fail('submit succeeded'),
      (e: { code: number; stderr: string }) => e,
    );
  const typo = await submit('cinder.executor.memroy=2g');
  assert.equal(typo.code, 1);
  assert.match(
    typo.stderr,
    /--conf: unknown configuration key 'cinder.executor.memroy'; did you mean 'cinder.executor.memory'\?/,
  );
  const bad = await submit('cinder.executor.cores=two');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /cinder.executor.cores='two' is not a whole number/);
  // a key unlike any known one is the app's own: a warning, and the submission goes on (wc.ts then
  // fails for want of its arguments, after the warning)
  const far = await submit('cinder.zzzzzzzzzzzzzzz=1');
  assert.match(
    far.stderr,
    /warning: --conf: unknown configuration key 'cinder.zzzzzzzzzzzzzzz' \(Cinder does not use it/,
  );
  assert.doesNotMatch(far.stderr, /UNKNOWN_CONF|hint: the keys are listed/);
});
