/**
 * The one binary codec for records and messages (msgpackr, measured fastest in ../shared/bench/limits).
 * Records move in batches: encode an array of records at once, never one call per record.
 * Supported values: null/undefined, booleans, numbers, bigints, strings, arrays, plain objects,
 * Buffers/Uint8Arrays and Dates. See checkSerializable() for the driver-side check with a clear error.
 */

import { CinderError } from './errors.js';
import { Packr } from './msgpackr.js';

const packr = new Packr({
  structuredClone: false,
  useRecords: false,
  moreTypes: true,
  int64AsType: 'auto',
  useBigIntExtension: true,
} as any);

export function encode(value: unknown): Buffer {
  return packr.pack(value);
}

export function decode<T = unknown>(buf: Uint8Array): T {
  return packr.unpack(buf) as T;
}

/**
 * Throws a CinderError naming the path of the first value that cannot travel between processes
 * (functions, symbols, class instances without a plain-data form, Maps/Sets, cycles).
 * `what` says where the value came from ("captured variable 'x'", "parallelize() data").
 */
export function checkSerializable(value: unknown, what: string, maxNodes = 100_000): void {
  const seen = new Set<object>();
  let nodes = 0;
  const visit = (v: unknown, path: string): void => {
    if (++nodes > maxNodes) return; // sampled check on big data; encode() still fails loudly later
    const t = typeof v;
    if (v === null || v === undefined || t === 'number' || t === 'string' || t === 'boolean' || t === 'bigint') return;
    if (t === 'function')
      throw new CinderError(
        'NOT_SERIALIZABLE',
        `${what}: ${path} is a function, which cannot be sent as data`,
        'pass functions as captures, e.g. rdd.map((x) => f(x), { f })',
      );
    if (t === 'symbol')
      throw new CinderError('NOT_SERIALIZABLE', `${what}: ${path} is a symbol, which cannot be serialized`);
    const o = v as object;
    if (o instanceof Uint8Array || o instanceof Date) return;
    if (seen.has(o)) throw new CinderError('NOT_SERIALIZABLE', `${what}: ${path} is part of a reference cycle`);
    seen.add(o);
    if (Array.isArray(o)) {
      for (let i = 0; i < o.length; i++) visit(o[i], `${path}[${i}]`);
    } else {
      const proto = Object.getPrototypeOf(o);
      if (proto !== Object.prototype && proto !== null) {
        const name = (o as { constructor?: { name?: string } }).constructor?.name ?? 'unknown';
        throw new CinderError(
          'NOT_SERIALIZABLE',
          `${what}: ${path} is an instance of ${name}, which has no plain-data form`,
          'convert it to plain data (arrays, plain objects, strings, numbers, Buffers) before passing it',
        );
      }
      for (const k of Object.keys(o)) visit((o as Record<string, unknown>)[k], `${path}.${k}`);
    }
    seen.delete(o);
  };
  visit(value, 'value');
}
