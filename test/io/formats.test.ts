import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CinderError } from '../../src/common/errors.js';
import {
  csvWithHeader,
  parseCsv,
  parseCsvLine,
  parseCsvLines,
  parseJsonLine,
  parseJsonLines,
  toCsvLine,
  toJsonLine,
  toJsonLines,
} from '../../src/io/formats.js';
import { rng } from './helpers.js';

test('JSON lines: parse, batch parse skipping blanks, round trip', () => {
  assert.deepEqual(parseJsonLine('{"a":1,"b":[true,null]}'), { a: 1, b: [true, null] });
  assert.deepEqual(parseJsonLines(['1', '', '  ', '"s"', '{"x":"y\\nz"}']), [1, 's', { x: 'y\nz' }]);
  const values = [{ a: 'multi\nline', u: 'é😀' }, [1, 2], 'x', 3.5, null];
  const lines = toJsonLines(values);
  assert.ok(lines.every((l) => !l.includes('\n')));
  assert.deepEqual(parseJsonLines(lines), values);
});

test('bad JSON says what is wrong and quotes (an excerpt of) the line', () => {
  assert.throws(
    () => parseJsonLine('{"a": 1,'),
    (e: unknown) => {
      assert.ok(e instanceof CinderError);
      assert.equal(e.code, 'BAD_JSON');
      assert.match(e.message, /Invalid JSON line .*: "\{\\"a\\": 1,"/);
      assert.match(e.message, /hint: /);
      return true;
    },
  );
  const long = `{"k": "${'v'.repeat(500)}"`;
  assert.throws(() => parseJsonLine(long), /… \(508 chars\)/);
  assert.throws(() => parseJsonLines(['1', 'nope']), /Invalid JSON line .*"nope"/);
  assert.throws(() => toJsonLine(10n), /Cannot write value as JSON/);
  assert.throws(() => toJsonLine(undefined), /Cannot write undefined as JSON/);
});

test('CSV parsing: plain, quoted, doubled quotes, empty fields, custom separator and quote, embedded newline', () => {
  assert.deepEqual(parseCsvLine('a,b,,c'), ['a', 'b', '', 'c']);
  assert.deepEqual(parseCsvLine(''), ['']);
  assert.deepEqual(parseCsvLine('a,"b,""c""",d'), ['a', 'b,"c"', 'd']);
  assert.deepEqual(parseCsvLine('"",""""'), ['', '"']);
  assert.deepEqual(parseCsvLine('x,"multi\nline",y'), ['x', 'multi\nline', 'y']);
  assert.deepEqual(parseCsvLine('"end",'), ['end', '']);
  assert.deepEqual(parseCsvLine("a;'b;c';'it''s'", { sep: ';', quote: "'" }), ['a', 'b;c', "it's"]);
  assert.deepEqual(parseCsvLine('a\tb"c', { sep: '\t' }), ['a', 'b"c']); // a quote mid-field is literal
  assert.deepEqual(parseCsvLine('"ab"cd,e'), ['abcd', 'e']); // lenient: text after a closing quote is kept
  assert.throws(
    () => parseCsvLine('a,"open'),
    (e: unknown) => (e as CinderError).code === 'BAD_CSV',
  );
  assert.deepEqual(parseCsvLines(['1,2', '"3",4']), [
    ['1', '2'],
    ['3', '4'],
  ]);
});

test('CSV writing quotes only when needed and round-trips random fields', () => {
  assert.equal(toCsvLine(['a', 'b,c', 'say "hi"', 1, null, undefined, 'x\ny']), 'a,"b,c","say ""hi""",1,,,"x\ny"');
  assert.equal(toCsvLine(['a|b', 'c'], { sep: '|' }), '"a|b"|c');
  const r = rng(9);
  const chars = ['a', 'é', ',', '"', ' ', '\n', '\r', ';', '😀'];
  for (let k = 0; k < 2000; k++) {
    const fields = Array.from({ length: 1 + Math.floor(r() * 6) }, () =>
      Array.from({ length: Math.floor(r() * 6) }, () => chars[Math.floor(r() * chars.length)]).join(''),
    );
    assert.deepEqual(parseCsvLine(toCsvLine(fields)), fields);
    assert.deepEqual(parseCsvLine(toCsvLine(fields, { sep: ';' }), { sep: ';' }), fields);
  }
});

test('csvWithHeader maps fields by name, drops header and blank lines, pads missing fields', () => {
  assert.deepEqual(csvWithHeader(['id,name', '1,ann', '', '2,"bo, b"', '3', '4,x,extra'], ['id', 'name']), [
    { id: '1', name: 'ann' },
    { id: '2', name: 'bo, b' },
    { id: '3', name: '' },
    { id: '4', name: 'x' },
  ]);
});

test('CSV records spanning lines: parseCsvLines re-joins them, parseCsv reads a whole text', () => {
  assert.deepEqual(parseCsvLines(['1,"two', 'lines",x', '2,b,y']), [
    ['1', 'two\nlines', 'x'],
    ['2', 'b', 'y'],
  ]);
  // a quoted field with an empty line and doubled quotes across lines; a line with balanced quotes stays one
  assert.deepEqual(parseCsvLines(['a,"x', '', 'y ""z""",b', '"q",r']), [
    ['a', 'x\n\ny "z"', 'b'],
    ['q', 'r'],
  ]);
  assert.deepEqual(parseCsv("id;note\r\n1;'a\r\nb'\r\n\r\n2;c"), [['id;note'], ["1;'a"], ["b'"], ['2;c']]);
  assert.deepEqual(parseCsv("id;note\r\n1;'a\r\nb'\r\n\r\n2;c", { sep: ';', quote: "'" }), [
    ['id', 'note'],
    ['1', 'a\nb'],
    ['2', 'c'],
  ]);
  // a record left open at the end of a batch (cut by a split boundary) says what to do
  assert.throws(
    () => parseCsvLines(['1,"never', 'closed']),
    (e: Error) => /Unterminated quoted field/.test(e.message) && /parseCsv over a whole file/.test(e.message),
  );
});
