// Free-variable analysis of shipped function sources (src/api/free-vars.ts): scoping rules, shapes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { analyzeFnSource } from '../../src/api/free-vars.js';

function free(src: string): string[] {
  const r = analyzeFnSource(src);
  if ('error' in r) throw new Error(r.error);
  return [...r.free].sort();
}

const cases: Array<[string, string, string[]]> = [
  ['simple arrow', '(x) => x * k', ['k']],
  [
    'params with destructuring and defaults',
    '({ a, b: [c, ...d] = e }, f = g, ...[r]) => a + c + d + f + h + r',
    ['e', 'g', 'h'],
  ],
  ['default referring to earlier param', '(a, b = a + z) => b', ['z']],
  ['shadowing by const', '(x) => { const k = 1; return x * k; }', []],
  ['let is block scoped', '(x) => { { let y = 1; } return y + x; }', ['y']],
  ['var is hoisted out of blocks', 'function (x) { if (x) { var y = 1; } return y; }', []],
  ['function declaration hoisted', '() => { return g(); function g() { return 1; } }', []],
  [
    'nested named function expression sees its own name',
    '(xs) => xs.map(function inner(v) { return v + off + inner.length; })',
    ['off'],
  ],
  [
    'class with private field, extends, static block',
    '(x) => { class P extends Base { #p = 1; m() { return this.#p + x + q; } static { z; } } return new P(); }',
    ['Base', 'q', 'z'],
  ],
  ['class name visible in its methods', '() => class C { static make() { return new C(); } }', []],
  ['generator function', 'function* (it) { for (const v of it) yield v * k; }', ['k']],
  ['async arrow', 'async (x) => await fetchIt(x)', ['fetchIt']],
  [
    'async generator declaration',
    'async function* gen(src) { for await (const v of src) yield v + gen.length + w; }',
    ['w'],
  ],
  ['catch param destructuring', '() => { try { f(); } catch ({ message }) { return message + e; } }', ['e', 'f']],
  ['property keys and members are not variables', '(o) => ({ a: o.b, [c]: 1, d, m() { return o.e; } })', ['c', 'd']],
  ['labels are not variables', '() => { outer: for (;;) { break outer; } }', []],
  ['arguments in a function', 'function () { return arguments.length; }', []],
  ['arguments in a top-level arrow is free', '() => arguments', ['arguments']],
  ['destructuring assignment targets are references', '() => { [a, b] = [b, a]; ({ c: d.e } = {}); }', ['a', 'b', 'd']],
  ['for-of binding does not leak', '(xs) => { for (const [k, v] of xs) use(k, v); return k; }', ['k', 'use']],
  ['switch case scope', '(x) => { switch (x) { case 1: { let t = 2; return t; } default: return u; } }', ['u']],
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the source under test contains a template literal
  ['template and optional chaining', '(o) => `${o?.a ?? dflt}-${tag`x${y}`}`', ['dflt', 'tag', 'y']],
  [
    'globals are reported (allowlisting is the caller’s job)',
    '(x) => Math.max(x, JSON.parse(s))',
    ['JSON', 'Math', 's'],
  ],
];

for (const [name, src, want] of cases) {
  test(`free vars: ${name}`, () => {
    assert.deepEqual(free(src), want);
  });
}

test('method shorthand sources are recognised, incl. async generator methods', () => {
  const m = analyzeFnSource('foo(x) { return x + bar; }');
  assert.ok(!('error' in m));
  assert.equal(m.shape, 'method');
  assert.deepEqual([...m.free], ['bar']);
  const g = analyzeFnSource('async *gen() { yield* src; }');
  assert.ok(!('error' in g));
  assert.deepEqual([...g.free], ['src']);
  const f = analyzeFnSource('function named(a) { return named(a) + b; }');
  assert.ok(!('error' in f) && f.shape === 'expr');
  assert.deepEqual([...f.free], ['b']);
});

test("'this' of the surroundings is detected only for arrows", () => {
  const arrow = analyzeFnSource('() => this.x');
  assert.ok(!('error' in arrow) && arrow.outerThis);
  const fn = analyzeFnSource('function () { return this.x + (() => this.y)(); }');
  assert.ok(!('error' in fn) && !fn.outerThis);
  const method = analyzeFnSource('m() { return this.x; }');
  assert.ok(!('error' in method) && !method.outerThis);
});

test('getters and unparsable sources are rejected with a reason', () => {
  const g = analyzeFnSource('get x() { return 1; }');
  assert.ok('error' in g && /getters/.test(g.error));
  const bad = analyzeFnSource('not a function at all {');
  assert.ok('error' in bad && /could not be parsed/.test(bad.error));
});
