/**
 * The JSON-lines benchmark data (bench/lib/gen-json.ts): the same parameters give byte-identical files,
 * another seed other files, every line is one JSON object with the fields the jsongroup case reads, and
 * _meta.json counts what was written.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { generateJsonLines } from '../../bench/lib/gen-json.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-gen-json-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function read(dir: string): string {
  return fs
    .readdirSync(dir)
    .filter((f) => f.startsWith('part-'))
    .sort()
    .map((f) => fs.readFileSync(path.join(dir, f), 'latin1'))
    .join('');
}

test('JSON lines data is deterministic, parses, and its _meta.json counts it', () => {
  const o = { mb: 0.05, parts: 3, seed: 9, users: 50 };
  const a = generateJsonLines(path.join(tmp, 'a'), o);
  const b = generateJsonLines(path.join(tmp, 'b'), o);
  const c = generateJsonLines(path.join(tmp, 'c'), { ...o, seed: 10 });
  const ta = read(path.join(tmp, 'a'));
  assert.equal(ta, read(path.join(tmp, 'b')));
  assert.notEqual(ta, read(path.join(tmp, 'c')));
  assert.deepEqual(a, b);
  assert.ok(c.lines > 0);
  assert.equal(fs.readdirSync(path.join(tmp, 'a')).filter((f) => f.startsWith('part-')).length, 3);
  assert.equal(Buffer.byteLength(ta, 'latin1'), a.bytes);
  assert.ok(a.bytes >= 0.05 * 2 ** 20, `${a.bytes} bytes`);
  const lines = ta.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, a.lines);
  const users = new Set<string>();
  for (const l of lines) {
    const r = JSON.parse(l) as { user: string; event: string; amount: number };
    assert.match(r.user, /^u\d{7}$/);
    assert.ok(['view', 'click', 'purchase', 'search', 'logout'].includes(r.event), r.event);
    assert.ok(Number.isInteger(r.amount) && r.amount >= 0 && r.amount < 100000);
    users.add(r.user);
  }
  assert.ok(users.size <= 50 && users.size > 40, `${users.size} users`);
  const meta = JSON.parse(fs.readFileSync(path.join(tmp, 'a', '_meta.json'), 'utf8'));
  assert.deepEqual(meta, { kind: 'json', mb: 0.05, parts: 3, seed: 9, users: 50, bytes: a.bytes, lines: a.lines });
});
