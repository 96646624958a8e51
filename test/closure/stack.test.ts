// Stack remapping (src/common/stack.ts) for functions whose driver-side file is TypeScript run through a
// TS loader: positions in the transpiled text map back to the .ts source through esbuild's source map.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import type { FnRef } from '../../src/api/closure.js';
import { loadModuleText } from '../../src/common/module-text.js';
import { remapStack } from '../../src/common/stack.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cinder-stack-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('cinder-fn frames of a function from a .ts file map to the .ts line and column', () => {
  const file = path.join(dir, 'app.ts');
  const src = [
    "import type { Foo } from './foo.js';",
    'interface Row { n: number }',
    'const rows: Row[] = [];',
    'export const f = (r: Row): number => {',
    '  const v: number = r.n;',
    "  if (v < 0) throw new Error('negative ' + v);",
    '  return v;',
    '};',
    '',
  ].join('\n');
  fs.writeFileSync(file, src);
  const text = loadModuleText(file);
  assert.ok(text, 'transpiled');
  assert.ok(!text.code.includes('interface'), 'types are stripped');
  // what fn.toString() gives when the loader runs the transpiled text
  const fnSrc = text.code.slice(text.code.indexOf('(r) =>'), text.code.indexOf('};') + 1);
  assert.ok(fnSrc.startsWith('(r) =>') && fnSrc.endsWith('}'), fnSrc);
  const before = text.code.slice(0, text.code.indexOf(fnSrc)).split('\n');
  const ref: FnRef = {
    hash: 'abcdef0123456789abcdef0123456789',
    src: fnSrc,
    caps: {},
    origin: { file, line: before.length, column: before.at(-1)!.length },
  };
  // compiled code has the source from line 2; the throw is on the 3rd line of the function source
  const fnLines = fnSrc.split('\n');
  const throwLine = fnLines.findIndex((l) => l.includes('throw')) + 1;
  const col = fnLines[throwLine - 1]!.indexOf('new Error') + 1;
  const stack = `Error: negative -1\n    at f (cinder-fn:${ref.hash}:${throwLine + 1}:${col})\n    at other (node:internal/x:1:1)`;
  const mapped = remapStack(stack, [{ hash: 'ffff', src: '', caps: { f: { t: 'f', f: ref } } }]);
  assert.ok(mapped.includes(`at f (${file}:6:${'  if (v < 0) throw '.length + 1})`), mapped);
  assert.ok(mapped.includes('node:internal/x:1:1'));
  // unknown hashes are left alone
  assert.equal(remapStack('at cinder-fn:0123:2:1', [ref]), 'at cinder-fn:0123:2:1');
});
