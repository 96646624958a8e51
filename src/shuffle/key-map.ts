/**
 * Key equality for aggregation: primitives compare by value (JS Map semantics), while arrays, plain
 * objects, Buffers and Dates compare by content through a canonical string (object keys sorted), so a
 * tuple key `['a', 1]` decoded in two batches is one key. AppendOnlyKeyMap stores keys and values in
 * parallel arrays, which makes sampling for size estimates and sorting by hash cheap.
 * Must not decide partitions or sizes.
 */

/** A string that is equal for content-equal non-primitive keys (and distinct across types). */
export function canonicalKey(k: unknown): string {
  switch (typeof k) {
    case 'string':
      return JSON.stringify(k);
    case 'number':
      return k === 0 ? '0' : String(k);
    case 'bigint':
      return `${k}n`;
    case 'boolean':
      return k ? 'T' : 'F';
    case 'undefined':
      return 'U';
    case 'object': {
      if (k === null) return 'N';
      if (Array.isArray(k)) {
        let s = '[';
        for (let i = 0; i < k.length; i++) s += (i ? ',' : '') + canonicalKey(k[i]);
        return `${s}]`;
      }
      if (k instanceof Uint8Array) return `b:${Buffer.from(k.buffer, k.byteOffset, k.byteLength).toString('base64')}`;
      if (k instanceof Date) return `d:${k.getTime()}`;
      const o = k as Record<string, unknown>;
      let s = '{';
      let first = true;
      for (const key of Object.keys(o).sort()) {
        s += `${first ? '' : ','}${JSON.stringify(key)}:${canonicalKey(o[key])}`;
        first = false;
      }
      return `${s}}`;
    }
    default:
      throw new TypeError(`a ${typeof k} cannot be a key; keys must be plain data`);
  }
}

function isPrimitive(k: unknown): boolean {
  return k === null || typeof k !== 'object';
}

/** Key equality consistent with AppendOnlyKeyMap and portableHash. */
export function keysEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  const pa = isPrimitive(a);
  if (pa !== isPrimitive(b)) return false;
  if (pa) return Number.isNaN(a) && Number.isNaN(b);
  return canonicalKey(a) === canonicalKey(b);
}

/** Insert-only map from keys to slots; keys[i] and values[i] describe slot i. */
export class AppendOnlyKeyMap<V = unknown> {
  private prim = new Map<unknown, number>();
  private complex = new Map<string, number>();
  keys: unknown[] = [];
  values: V[] = [];

  get size(): number {
    return this.keys.length;
  }

  /** Slot of `k`, or -1. */
  find(k: unknown): number {
    if (k === null || typeof k !== 'object') return this.prim.get(k) ?? -1;
    return this.complex.get(canonicalKey(k)) ?? -1;
  }

  /** Adds a key that find() did not find; returns its slot. */
  add(k: unknown, v: V): number {
    const i = this.keys.length;
    if (k === null || typeof k !== 'object') this.prim.set(k, i);
    else this.complex.set(canonicalKey(k), i);
    this.keys.push(k);
    this.values.push(v);
    return i;
  }

  clear(): void {
    this.prim = new Map();
    this.complex = new Map();
    this.keys = [];
    this.values = [];
  }
}
