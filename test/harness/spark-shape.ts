/**
 * Compares a JSON value with a Spark REST object shape from test/fixtures/spark-api/shapes.json
 * (written from Spark's documentation, not from Cinder's code): every required key present with its
 * type, optional keys typed when present, and no key Spark does not have. Returns the differences.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

interface Shape {
  required: Record<string, string>;
  optional: Record<string, string>;
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const SHAPES = JSON.parse(fs.readFileSync(path.join(ROOT, 'test/fixtures/spark-api/shapes.json'), 'utf8')) as Record<
  string,
  Shape
>;
const DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}GMT$/;

function checkType(v: unknown, type: string, at: string, out: string[]): void {
  if (type.startsWith('[@')) {
    if (!Array.isArray(v)) return void out.push(`${at}: expected an array, got ${JSON.stringify(v)?.slice(0, 60)}`);
    v.forEach((x, i) => {
      checkShape(x, type.slice(2, -1), `${at}[${i}]`, out);
    });
    return;
  }
  if (type.startsWith('{@')) {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return void out.push(`${at}: expected an object`);
    for (const [k, x] of Object.entries(v)) checkShape(x, type.slice(2, -1), `${at}.${k}`, out);
    return;
  }
  if (type.startsWith('@')) {
    checkShape(v, type.slice(1), at, out);
    return;
  }
  if (type.startsWith('enum:')) {
    if (
      !type
        .slice(5)
        .split('|')
        .includes(v as string)
    )
      out.push(`${at}: ${JSON.stringify(v)} is not one of ${type.slice(5)}`);
    return;
  }
  if (type === 'date') {
    if (typeof v !== 'string' || !DATE.test(v)) out.push(`${at}: ${JSON.stringify(v)} is not a Spark date`);
    return;
  }
  if (type === 'array') {
    if (!Array.isArray(v)) out.push(`${at}: expected an array`);
    return;
  }
  if (type === 'object') {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) out.push(`${at}: expected an object`);
    return;
  }
  if (typeof v !== type) out.push(`${at}: expected ${type}, got ${typeof v}`);
}

export function checkShape(v: unknown, shape: string, at = shape, out: string[] = []): string[] {
  const s = SHAPES[shape];
  if (!s) throw new Error(`no shape ${shape} in shapes.json`);
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    out.push(`${at}: expected a ${shape} object, got ${JSON.stringify(v)?.slice(0, 80)}`);
    return out;
  }
  const o = v as Record<string, unknown>;
  for (const [k, t] of Object.entries(s.required)) {
    if (!(k in o)) out.push(`${at}.${k}: missing`);
    else checkType(o[k], t, `${at}.${k}`, out);
  }
  for (const [k, x] of Object.entries(o)) {
    if (k in s.required) continue;
    const t = s.optional[k];
    if (t === undefined) out.push(`${at}.${k}: not a field of Spark's ${shape}`);
    else if (x === null) out.push(`${at}.${k}: null (Spark omits empty fields)`);
    else checkType(x, t, `${at}.${k}`, out);
  }
  return out;
}
